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

/** Another node holding all of a core (docs/durability.md). */
export interface CoreHolder {
  /** The node's device id (own or a friend's device), else its key (hex). */
  deviceId: string
  /** Connected now; otherwise this run last saw it holding the core's whole length. */
  online: boolean
}

export interface CoreStatus {
  key: string
  name: string
  /**
   * writer: an autobase input core, the data only its author can produce;
   * view: an autobase system, view or key core, rebuilt from the writers.
   */
  kind: 'writer' | 'view'
  length: number
  /**
   * Nodes holding all `length` blocks: this one (when `local`) plus
   * `holders`. Until this change it counted the other, connected nodes only.
   */
  copies: number
  /** Whether this node holds all of it. */
  local: boolean
  holders: CoreHolder[]
  /** A non-empty writer core held by fewer than `durability.statusTarget` nodes. */
  belowTarget: boolean
}

/** The node's durability settings and how many writer cores fall short (docs/durability.md). */
export interface DurabilityStatus {
  /** Copies an append waits for by default (config `copies`), this node included. */
  copies: number
  /** How long it waits for them (ms). */
  timeoutMs: number
  /** Status flags writer cores held by fewer nodes: `copies`, and never less than two. */
  statusTarget: number
  /** Non-empty writer cores held by fewer nodes than `statusTarget`. */
  belowTarget: number
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
  durability: DurabilityStatus
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

/** Per request: how many nodes must hold an append before it is acknowledged, and how long to wait. */
export interface PostOptions {
  copies?: number
  copiesTimeoutMs?: number
}

/** A posted message and its acknowledgement (durable: held by `target` nodes, `copies` of them seen). */
export interface PostAck {
  seq: number | null
  writer: string
  length: number
  late: boolean
  copies: number
  target: number
  durable: boolean
  /** The other nodes seen holding it: device ids (or keys). */
  holders: string[]
}

export interface NodeApi {
  startConversation(input: StartConversationInput): Promise<{ id: string }>
  listConversations(): Promise<Array<{ id: string; topic: string; pattern: string; closed: boolean }>>
  showConversation(id: string, page: { offset?: number; limit?: number }): Promise<unknown>
  postMessage(id: string, kind: string, body: Record<string, unknown>, opts?: PostOptions): Promise<PostAck>
  status(): Promise<StatusReport>
  card(): Promise<{ card: string; accountId: string }>
  addFriend(cardText: string): Promise<FriendSummary>
  friends(): Promise<FriendSummary[]>
  createInvite(opts: InviteOptions): Promise<InviteResult>
  revoke(device: string): Promise<{ deviceId: string }>
}
