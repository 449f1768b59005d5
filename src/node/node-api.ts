/**
 * What the local HTTP API (and through it the CLI) may ask of a running node.
 * The HTTP layer depends on this contract only, so it can be tested with
 * `app.inject()` against a real node.
 */

export interface DeviceStatus {
  deviceId: string
  device: number
  epoch: number
  name: string | null
  roles: string[]
  indexer: boolean
  online: boolean
  self: boolean
  address: string | null
  lastSeen: number | null
  revoked: boolean
}

export interface PeerStatus {
  publicKey: string
  deviceId: string | null
  accountId: string | null
  kind: 'own-device' | 'friend-device' | 'unknown'
}

export interface CoreStatus {
  key: string
  name: string
  length: number
  /** How many other nodes hold a full copy of this core. */
  copies: number
}

export interface StatusReport {
  accountId: string
  deviceId: string
  device: number
  epoch: number
  roles: string[]
  writable: boolean
  swarm: { topic: string; joined: boolean; bootstrap: string[] }
  devices: DeviceStatus[]
  peers: PeerStatus[]
  cores: CoreStatus[]
  /** Human-readable things the node is waiting for (no peers yet, DHT unreachable…). */
  waitingFor: string[]
  skipped: number
  /** The cluster log's view: equal hashes on two devices mean the same membership, friends and records. */
  clusterView: { length: number; signedLength: number; hash: string }
}

export interface InviteOptions {
  ttlMs?: number
  roles?: Array<'access' | 'relay'>
  indexer?: boolean
  name?: string
}

export interface InviteResult {
  invite: string
  expires: number
  device: number
}

export interface FriendSummary {
  accountId: string
  name: string | null
  devices: Array<{ deviceId: string; device: number; roles: string[] }>
  issuedAt: number
}

export interface StartConversationInput {
  pattern: string
  topic: string
  method?: string
  params?: Record<string, unknown>
  expr?: string
  with?: string[]
  options?: string[]
  deadline?: number
}

export interface NodeApi {
  startConversation(input: StartConversationInput): Promise<{ id: string }>
  listConversations(): Promise<Array<{ id: string; topic: string; pattern: string; closed: boolean }>>
  showConversation(id: string, page: { offset?: number; limit?: number }): Promise<unknown>
  postMessage(
    id: string,
    kind: string,
    body: Record<string, unknown>
  ): Promise<{ seq: number | null; writer: string; length: number; late: boolean }>
  status(): Promise<StatusReport>
  card(): Promise<{ card: string; accountId: string }>
  addFriend(cardText: string): Promise<FriendSummary>
  friends(): Promise<FriendSummary[]>
  createInvite(opts: InviteOptions): Promise<InviteResult>
  revoke(device: string): Promise<{ deviceId: string }>
}
