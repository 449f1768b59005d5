import type { WindowsStatus } from './port-windows.js'
/**
 * What the local HTTP API (and through it the CLI) may ask of a running node.
 * The HTTP layer depends on this contract only, so it can be tested with
 * `app.inject()` against a real node.
 */

import type { Transcript, TranscriptMessage, VerifyProgress } from '../../archive/transcript.js'

/** Where a device's last address came from: the cluster view, the device's own announcement over heartbeats, a friend's card. */
export type AddressSource = 'view' | 'peer' | 'card'

export interface DeviceStatus {
  deviceId: string
  device: number
  epoch: number
  name: string | null
  roles: string[]
  indexer: boolean
  online: boolean
  self: boolean
  /** The remote end of the connection to it as our socket sees it (null for this device). */
  address: string | null
  lastSeen: number | null
  revoked: boolean
  /** The last direct address it published (this device: the one it publishes), or null. */
  lastAddress: string | null
  lastAddressFrom: AddressSource | null
  /** Whether a direct (TCP) connection to it is open. */
  direct: boolean
  /** `CODE: message` of the last failed direct dial to it, cleared by a connection. */
  directError: string | null
  /** Heartbeat round trip, ms (the lowest over its open connections). */
  rttMs: number | null
  /** How far its clock is ahead of ours, ms, from heartbeat round trips. */
  offsetMs: number | null
}

export interface PeerStatus {
  publicKey: string
  deviceId: string | null
  accountId: string | null
  kind: 'own-device' | 'friend-device' | 'unknown'
  /** One entry per connection: a device may be reached over both. */
  transport: 'swarm' | 'direct'
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
  /** `joined`: the topic was announced and looked up once; `dhtNodes`: DHT nodes in the routing table (0: no DHT reachable). */
  swarm: { topic: string; joined: boolean; dhtNodes: number; bootstrap: string[] }
  /** The direct transport: where it listens, the address it publishes, the SOCKS5 proxy its dials use. */
  direct: { listen: string | null; address: string | null; socks5: string | null; onion: boolean }
  /** Port windows at the gateway (docs/network.md, "Port windows"). */
  windows: WindowsStatus
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
  listArchives(): Promise<ArchiveSummary[]>
  /** Opens an archive with the other holder (or finds it open); `all` returns every message, checked. */
  openArchive(id: string, opts?: { waitMs?: number; all?: boolean }): Promise<OpenedArchiveSummary>
  /** A page of an open archive's messages, each checked; `q` searches them. */
  archiveMessages(
    id: string,
    opts?: { offset?: number; limit?: number; q?: string }
  ): Promise<ArchiveMessagesPage>
  /** Forgets an open archive's plaintext now; whether it was open. */
  closeArchive(id: string): Promise<boolean>
  /** Where a running open of the archive stands, or null (docs/archive.md §11). */
  archiveOpenProgress(id: string): Promise<ArchiveOpenProgress | null>
}

/** One recorded archive (docs/archive.md); `local` = blocks of its core held on this device. */
export interface ArchiveSummary {
  id: string
  conversationId: string
  holders: [string, string]
  size: number
  blocks: number
  createdAt: number
  by: string
  local: number
}

export interface ArchiveOpenProgress {
  phase: 'reading' | 'waiting' | 'decrypting' | 'verifying'
  waitingFor: string | null
  bytes: { done: number; total: number }
  blocks: { done: number; total: number }
}

/** What an open answers: the header, the count, how many messages are checked, all messages if asked. */
export interface OpenedArchiveSummary {
  id: string
  title: string
  count: number
  verified: VerifyProgress
  transcript: Omit<Transcript, 'messages'> & { messages?: TranscriptMessage[] }
}

/** A page of an open archive's messages (`GET /api/archives/:id/messages`). */
export interface ArchiveMessagesPage {
  id: string
  offset: number
  /** Messages that match `q` (all of them without one). */
  total: number
  count: number
  verified: VerifyProgress
  messages: Array<TranscriptMessage & { index: number }>
}
