import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import c from 'compact-encoding'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import Protomux from 'protomux'
import { z } from 'zod'
import type { SignedRevocation as AccountRevocation } from '../../cluster/certificate.js'
import type { Cluster } from '../../cluster/cluster.js'
import {
  Conversation,
  type ConversationSummary,
  ConversationErrors,
  conversationIdFor,
  type ManifestInput,
  newConversationKey,
  openConversationKey,
  sealConversationKey,
  type SignedCert,
  type SignedRevocation,
  type WriterRequest,
  WriterRequestSchema
} from '../../conversations/index.js'
import { ed25519KeyPairFromSeed } from '../kernel/crypto/ed25519.js'
import { labelledHash, randomBytes } from '../kernel/crypto/hash.js'
import { hex, hexSchema, unhex } from '../kernel/encoding.js'
import { type LoadedIdentity, writeFileAtomic } from '../kernel/identity/home-store.js'
import { Resource } from '../kernel/lifecycle.js'
import type { Logger } from '../kernel/log.js'
import { coreKeyFor } from '../kernel/substrate/index.js'
import { type BlindCores, MAX_BLIND_CORES } from './blind-cores.js'
import type { Ack, AckOptions } from './durability.js'
import { NodeErrors } from './errors.js'
import type { PostAck, PostOptions, StartConversationInput } from './node-api.js'

/** HOME/conversations.json (0600): the conversations this device takes part in and their keys. */
export const CONVERSATIONS_FILE = 'conversations.json'
const PROTOCOL = 'conclave/conversations/v1'
/** While a deadline is pending, each writable device heartbeats about this often, so log time advances. */
const HEARTBEAT_MS = 5000
/** How often pending offers (member devices connected but not yet writers) are repeated. */
const OFFER_REPEAT_MS = 10_000

const RecordSchema = z
  .object({ id: z.string(), baseKey: hexSchema(32), key: hexSchema(32), nonce: hexSchema(32).nullable() })
  .strict()
type ConversationRecord = z.infer<typeof RecordSchema>
const FileSchema = z
  .object({
    v: z.literal(1),
    conversations: z.array(RecordSchema),
    /** The writer epoch this list is complete for (absent in older files: the current one). */
    epoch: z.number().int().min(0).optional()
  })
  .strict()

/** An own access device names its conversations' writer cores to an own relay, which keeps them blindly. */
const BlindSchema = z
  .object({
    type: z.literal('blind'),
    v: z.literal(1),
    cores: z.array(hexSchema(32)).max(MAX_BLIND_CORES)
  })
  .strict()

const OfferSchema = z
  .object({
    type: z.literal('offer'),
    v: z.literal(1),
    baseKey: hexSchema(32),
    sealedKey: hexSchema(),
    /** To own devices only: the key of the log's current system core (what a recovered device fast-forwards to). */
    system: hexSchema(32).optional()
  })
  .strict()
/** A recovered device asks an own device to offer it every conversation it is a member of. */
const ResyncSchema = z.object({ type: z.literal('resync'), v: z.literal(1) }).strict()
const ResyncedSchema = z
  .object({ type: z.literal('resynced'), v: z.literal(1), offered: z.number().int().min(0) })
  .strict()
const JoinSchema = z
  .object({
    type: z.literal('writer'),
    v: z.literal(1),
    baseKey: hexSchema(32),
    request: WriterRequestSchema
  })
  .strict()

/** Where this device's copy of a conversation log stands (shown with the conversation, for diagnosis). */
export interface LogState {
  /** The view's final (indexed) length and its length: the outcome is final once it lies below the first. */
  viewSignedLength: number
  viewLength: number
  writable: boolean
  indexer: boolean
  /** Peers replicating this device's writer core. */
  peers: number
}

export interface ConversationManagerComponents {
  store: Corestore
  cluster: Cluster
  identity: LoadedIdentity
  log: Logger
  home: string
  ackIntervalMs: number
  now: () => number
  /** Whether this device has the access role: a relay-only device takes no conversation offers. */
  access: boolean
  /** On a relay: where the writer cores named by own access devices are kept (docs/archive.md, "Relays"). */
  blind?: BlindCores
  /** Called once per opened conversation (the node attaches its base to replication). */
  onOpen: (conv: Conversation) => void
  /** Waits until enough nodes hold the first `length` blocks of `core` (the node's Durability). */
  acknowledge: (core: Hypercore<unknown>, length: number, opts: AckOptions) => Promise<Ack>
}

interface Peer {
  publicKey: string
  message: { send(m: unknown): boolean }
  /** Messages of one peer are handled in order (offers before the `resynced` that follows them). */
  queue: Promise<void>
  /** The list of writer cores last named to this peer (a relay), so an unchanged one is not sent again. */
  blindSent?: string
}

/**
 * The node's side of conversations: opens every conversation this device
 * takes part in (each in its own store namespace, with a writer key pair
 * derived for that conversation), and offers a new conversation to the
 * member devices it is connected to over a protomux channel: the base key
 * and the conversation key sealed (X-Wing) to that device. The recipient
 * answers with a signed writer request, which any writer appends.
 */
export class ConversationManager extends Resource {
  readonly #c: ConversationManagerComponents
  readonly #open = new Map<string, Conversation>()
  /** Conversations being opened (see #openRecord). */
  readonly #opening = new Map<string, Promise<Conversation>>()
  readonly #records = new Map<string, ConversationRecord>()
  readonly #peers = new Set<Peer>()
  #heartbeatTimer: NodeJS.Timeout | null = null
  #offerTimer: NodeJS.Timeout | null = null
  #deviceSync: Promise<void> = Promise.resolve()
  /**
   * Set when this device's list of conversations is not known to be
   * complete for its writer epoch (a home recovered from the seed starts
   * with none): own devices are asked to offer everything again.
   */
  #resync = false

  constructor(components: ConversationManagerComponents) {
    super()
    this.#c = components
  }

  protected override async _open(): Promise<void> {
    const file = this.#readFile()
    const epoch = this.#c.identity.identity.epoch
    this.#resync = file === null ? epoch > 0 : (file.epoch ?? epoch) < epoch
    for (const r of file?.conversations ?? []) {
      this.#records.set(r.id, r)
      await this.#openRecord(r)
    }
    this.#scheduleHeartbeats()
    this.syncOwnDevices()
    this.#offerTimer = setInterval(() => this.#offerAll(), OFFER_REPEAT_MS)
    this.#offerTimer.unref()
  }

  /**
   * Offers every conversation again to every connected member device that
   * is not yet a writer there. An offer can be dropped: the recipient
   * ignores one from a device it does not know yet (a new device whose
   * cluster view is still syncing), or the connection drops before its
   * writer request is appended. Devices that became writers get no offer.
   */
  #offerAll(): void {
    if (this.closing) return
    void this.#offer([...this.#records.values()], [...this.#peers])
    void this.#sendBlind([...this.#peers])
  }

  /**
   * Names the writer cores of every open conversation to those of `peers`
   * that are own, unrevoked devices without the access role (relays): they
   * keep a copy they cannot read. Only an access device sends.
   */
  async #sendBlind(peers: Peer[]): Promise<void> {
    if (!this.#c.access || this.#open.size === 0) return
    try {
      const relays = peers.filter((p) => {
        const own = this.#c.cluster.deviceBySigningKey(unhex(p.publicKey))
        return own !== null && own !== undefined && !own.revoked && !own.roles.includes('access')
      })
      if (relays.length === 0) return
      const cores = new Set<string>()
      for (const conv of this.#open.values()) {
        if (this.closing) return
        cores.add(hex(conv.base.localKey))
        for (const w of await conv.writers()) cores.add(w.core)
      }
      const list = [...cores].slice(0, MAX_BLIND_CORES)
      const sent = list.join()
      for (const p of relays) {
        if (p.blindSent !== sent && p.message.send({ type: 'blind', v: 1, cores: list })) p.blindSent = sent
      }
    } catch (err) {
      if (!this.closing) this.#c.log.debug('conversation cores not named to a relay', { err: err as Error })
    }
  }

  /** Random intervals: devices of one conversation do not all append in the same instant. */
  #scheduleHeartbeats(): void {
    if (this.closing) return
    this.#heartbeatTimer = setTimeout(
      () => {
        void this.#heartbeats().finally(() => this.#scheduleHeartbeats())
      },
      HEARTBEAT_MS / 2 + Math.random() * HEARTBEAT_MS
    )
    this.#heartbeatTimer.unref()
  }

  async #heartbeats(): Promise<void> {
    for (const conv of this.#open.values()) {
      if (this.closing) return
      try {
        if (conv.writable && (await conv.heartbeatDue())) await conv.heartbeat()
      } catch (err) {
        this.#c.log.debug('heartbeat not appended', { err: err as Error })
      }
    }
  }

  protected override async _close(): Promise<void> {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer)
    if (this.#offerTimer) clearInterval(this.#offerTimer)
    for (const conv of this.#open.values()) await conv.close().catch(() => {})
    this.#open.clear()
  }

  /**
   * The file holds the only copy of this device's conversation keys: a
   * missing file is an empty list, an unreadable or malformed one stops the
   * node (NODE_FILE_INVALID) and is left as it is, never overwritten.
   */
  #readFile(): z.infer<typeof FileSchema> | null {
    const file = join(this.#c.home, CONVERSATIONS_FILE)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw NodeErrors.NODE_FILE_INVALID(`${file} cannot be read`, { cause: err })
    }
    try {
      return FileSchema.parse(JSON.parse(text))
    } catch (err) {
      throw NodeErrors.NODE_FILE_INVALID(`${file} is not a valid conversations file; it was left as it is`, {
        cause: err
      })
    }
  }

  #writeFile(): void {
    const { epoch } = this.#c.identity.identity
    const body = {
      v: 1,
      conversations: [...this.#records.values()],
      // a list still being re-learned after a recovery is complete for the epoch before
      epoch: this.#resync ? Math.max(0, epoch - 1) : epoch
    }
    writeFileAtomic(join(this.#c.home, CONVERSATIONS_FILE), `${JSON.stringify(body, null, 2)}\n`, 0o600)
  }

  /** Per-conversation writer: never the cluster writer (same key, same core), and new per writer epoch. */
  #writerKeyPair(salt: Uint8Array) {
    const secret = unhex(this.#c.identity.secrets.writer.secretKey)
    return ed25519KeyPairFromSeed(labelledHash('conclave/v1/conversation-writer', [secret, salt]))
  }

  /**
   * Opens a conversation once: two connections to one device (a DHT and a
   * direct one) can deliver the same offer at once, and a second base on
   * the namespace would be refused.
   */
  #openRecord(r: ConversationRecord, opts: { fastForwardKey?: Buffer } = {}): Promise<Conversation> {
    const existing = this.#open.get(r.id)
    if (existing) return Promise.resolve(existing)
    let opening = this.#opening.get(r.id)
    if (!opening) {
      opening = this.#openNew(r, opts).finally(() => this.#opening.delete(r.id))
      this.#opening.set(r.id, opening)
    }
    return opening
  }

  async #openNew(r: ConversationRecord, opts: { fastForwardKey?: Buffer }): Promise<Conversation> {
    const { identity, secrets } = this.#c.identity
    const signingSecret = unhex(secrets.device.signingSecretKey)
    const baseKey = unhex(r.baseKey)
    const writerKeyPair = this.#writerKeyPair(r.nonce ? unhex(r.nonce) : baseKey)
    const conv = new Conversation(
      { store: this.#c.store.namespace(`conclave/conversation/${r.baseKey}`) },
      {
        bootstrap: r.nonce ? null : baseKey,
        writerKeyPair,
        encryptionKey: unhex(r.key),
        device: {
          accountId: identity.accountId,
          deviceId: identity.deviceId,
          signingKeyPair: { publicKey: signingSecret.subarray(32), secretKey: signingSecret }
        },
        ackIntervalMs: this.#c.ackIntervalMs,
        ...(opts.fastForwardKey ? { fastForwardKey: opts.fastForwardKey } : {})
      }
    )
    conv.on('fault', (err: Error) => this.#c.log.warn('conversation fault', { id: r.id, err }))
    await conv.ready()
    this.#open.set(r.id, conv)
    this.#c.onOpen(conv)
    return conv
  }

  async #members(withAccounts: string[]) {
    const own = {
      accountId: this.#c.identity.identity.accountId,
      rootPublic: this.#c.identity.identity.rootPublic,
      devices: await this.#c.cluster.certificates()
    }
    const friends = await this.#c.cluster.friends()
    const members = [own]
    for (const a of withAccounts) {
      if (a === own.accountId) continue
      const f = friends.find((x) => x.accountId === a)
      if (!f) throw ConversationErrors.CONV_NOT_MEMBER(`${a} is not a friend: exchange cards first`)
      members.push({
        accountId: f.accountId,
        rootPublic: f.card.card.rootPublic,
        devices: f.card.card.devices as never
      })
    }
    return members
  }

  async start(input: StartConversationInput): Promise<{ id: string }> {
    const nonce = randomBytes(32)
    const writer = this.#writerKeyPair(nonce)
    const baseKey = coreKeyFor(writer.publicKey)
    const id = conversationIdFor(baseKey)
    const manifest: ManifestInput = {
      topic: input.topic,
      pattern: input.pattern,
      consensus: input.expr
        ? { expr: input.expr }
        : { method: input.method ?? 'majority', ...(input.params ? { params: input.params } : {}) },
      ...(input.options && input.options.length ? { options: input.options } : {}),
      members: await this.#members(input.with ?? []),
      ...(input.deadline !== undefined ? { deadline: input.deadline } : {})
    }
    const record: ConversationRecord = {
      id,
      baseKey: hex(baseKey),
      key: hex(newConversationKey()),
      nonce: hex(nonce)
    }
    const conv = await this.#openRecord(record)
    try {
      await conv.create(manifest)
    } catch (err) {
      this.#open.delete(id)
      await conv.close().catch(() => {})
      throw err
    }
    this.#records.set(id, record)
    this.#writeFile()
    void this.#offer([record], [...this.#peers])
    return { id }
  }

  /** Every conversation open on this device. */
  openConversations(): Array<{ id: string; conv: Conversation }> {
    return [...this.#open].map(([id, conv]) => ({ id, conv }))
  }

  get(id: string): Conversation {
    const conv = this.#open.get(id)
    if (!conv) throw ConversationErrors.CONV_NO_MANIFEST(`no conversation ${id} on this device`)
    return conv
  }

  async list(): Promise<Array<{ id: string; topic: string; pattern: string; closed: boolean }>> {
    const out = []
    for (const conv of this.#open.values()) {
      const s = await conv.show({ limit: 0 })
      out.push({ id: s.id, topic: s.topic, pattern: s.pattern, closed: s.closed })
    }
    return out
  }

  /** The conversation as `convo show` prints it, with the hash of this node's view to compare across nodes. */
  async show(
    id: string,
    page: { offset?: number; limit?: number }
  ): Promise<ConversationSummary & { viewHash: string; log: LogState }> {
    const conv = this.get(id)
    const { summary, viewHash } = await conv.showHashed(page)
    const core = conv.base.view.core
    const log: LogState = {
      viewSignedLength: core.signedLength,
      viewLength: core.length,
      writable: conv.writable,
      indexer: conv.base.isIndexer,
      peers: conv.base.autobase.local.peers?.length ?? 0
    }
    return { ...summary, viewHash: hex(viewHash), log }
  }

  /**
   * Posts one message and acknowledges it once `copies` nodes hold it
   * (docs/durability.md): this device's writer core up to the entry's
   * length, this node included. If the time runs out first, the message
   * stays stored here and replicates when a device connects:
   * NODE_NOT_DURABLE says so and names the entry, so it is not sent twice.
   */
  async post(
    id: string,
    kind: string,
    body: Record<string, unknown>,
    opts: PostOptions = {}
  ): Promise<PostAck> {
    const conv = this.get(id)
    const result = await conv.post(kind, body)
    const ack = await this.#c.acknowledge(conv.base.autobase.local, result.length, {
      ...(opts.copies !== undefined ? { copies: opts.copies } : {}),
      ...(opts.copiesTimeoutMs !== undefined ? { timeoutMs: opts.copiesTimeoutMs } : {})
    })
    const out: PostAck = {
      ...result,
      copies: ack.copies,
      target: ack.target,
      durable: ack.durable,
      holders: ack.holders.map((k) => this.#c.cluster.deviceIdOrKey(k))
    }
    if (!ack.durable) {
      throw NodeErrors.NODE_NOT_DURABLE(
        `stored on this device, but held by ${ack.copies} of ${ack.target} nodes after ` +
          `${(ack.waitedMs / 1000).toFixed(1)} s; it is kept and replicates when another device connects: ` +
          `do not send it again (conversation ${id}, writer ${result.writer.slice(0, 16)}…, length ${result.length})`,
        { data: { ...out, stored: true, conversation: id, waitedMs: ack.waitedMs } }
      )
    }
    return out
  }

  /** What each writer core of the open conversations is, by core key (hex), for status. */
  async coreNames(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const [id, conv] of this.#open) {
      if (this.closing) break
      const local = hex(conv.base.localKey)
      try {
        for (const w of await conv.writers()) {
          const self = w.core === local ? ', this device' : ''
          out.set(w.core, `conversation ${id}: writer of ${w.deviceId} (${w.state}${self})`)
        }
      } catch (err) {
        this.#c.log.debug('conversation writers not read', { id, err: err as Error })
      }
      if (!out.has(local)) out.set(local, `conversation ${id}: writer of this device (not admitted yet)`)
    }
    for (const key of this.#c.blind?.keys() ?? []) {
      if (!out.has(key))
        out.set(key, 'conversation writer core, kept blindly (encrypted; no key on this relay)')
    }
    return out
  }

  // --- own devices: certified after a conversation started, or revoked ---

  /**
   * Brings every conversation this device writes to in step with the
   * account's devices: a device certified after the conversation started is
   * added with its certificate and the conversation key sealed to it
   * (`conv/device`), then offered the conversation. Called when the
   * cluster's membership changes; runs one pass at a time. Another own
   * device may add the same device first: the second entry is then refused
   * locally (CONV_DEVICE_EXISTS) or skipped identically everywhere.
   */
  syncOwnDevices(): Promise<void> {
    this.#deviceSync = this.#deviceSync
      .then(() => this.#syncOwnDevices())
      .catch((err: Error) => this.#c.log.warn('syncing own devices into conversations failed', { err }))
    return this.#deviceSync
  }

  async #syncOwnDevices(): Promise<void> {
    if (this.closing || this.#open.size === 0) return
    const accountId = this.#c.identity.identity.accountId
    const certs = await this.#c.cluster.certificates()
    for (const [id, conv] of this.#open) {
      if (this.closing) return
      if (!conv.writable) continue
      let known: Set<string>
      try {
        const s = await conv.show({ limit: 0 })
        const own = s.members.find((m) => m.accountId === accountId)
        if (!own) continue
        known = new Set(own.devices.map((d) => d.deviceId))
      } catch {
        continue // no manifest yet
      }
      let added = false
      for (const signed of certs) {
        if (known.has(signed.cert.deviceId)) continue
        try {
          await conv.addDevice(signed as unknown as SignedCert)
          added = true
          this.#c.log.info('added an own device to a conversation', { id, device: signed.cert.deviceId })
        } catch (err) {
          this.#c.log.debug('own device not added to a conversation', { id, err: err as Error })
        }
      }
      const record = this.#records.get(id)
      if (added && record) await this.#offer([record], [...this.#peers])
    }
  }

  /** Relays an own device's root-signed revocation into every conversation this device writes to. */
  async relayRevocation(revocation: AccountRevocation): Promise<void> {
    const accountId = this.#c.identity.identity.accountId
    for (const [id, conv] of this.#open) {
      if (!conv.writable) continue
      try {
        await conv.revokeDevice(accountId, revocation as unknown as SignedRevocation)
      } catch (err) {
        this.#c.log.debug('revocation not relayed to a conversation', { id, err: err as Error })
      }
    }
  }

  // --- network: offers to member devices, writer requests back ---

  /** Opens the conversations channel on a connection with an own or a friend's device. */
  attach(conn: { remotePublicKey: Buffer | null }): void {
    const remote = conn.remotePublicKey
    if (!remote) return
    const mux = Protomux.from(conn)
    const peer: Peer = { publicKey: hex(remote), message: { send: () => false }, queue: Promise.resolve() }
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      onopen: () => {
        this.#peers.add(peer)
        void this.#offer([...this.#records.values()], [peer])
        void this.#sendBlind([peer])
        if (this.#resync && this.#ownDevice(peer.publicKey)) peer.message.send({ type: 'resync', v: 1 })
      },
      onclose: () => {
        this.#peers.delete(peer)
      }
    })
    if (!channel) return
    peer.message = channel.addMessage({
      encoding: c.json,
      onmessage: (m: unknown) => {
        peer.queue = peer.queue
          .then(() => this.#onMessage(peer, m))
          .catch((err: Error) => this.#c.log.debug('conversation message refused', { err }))
      }
    }) as Peer['message']
    channel.open()
  }

  /**
   * The own or friend's device a connection's key belongs to, or null. A
   * relay-only device (no `access` role) is never offered a conversation:
   * it holds no keys that read one (docs/archive.md, "Relays").
   */
  async #friendDevice(
    publicKey: string
  ): Promise<{ deviceId: string; xwingKey: string; access: boolean } | null> {
    const own = this.#c.cluster.deviceBySigningKey(unhex(publicKey))
    if (own && !own.revoked) {
      return { deviceId: own.deviceId, xwingKey: own.xwingKey, access: own.roles.includes('access') }
    }
    const f = this.#c.cluster.friendBySigningKey(unhex(publicKey))
    if (!f) return null
    const rec = (await this.#c.cluster.friends()).find((x) => x.accountId === f.accountId)
    const d = rec?.devices.find((x) => x.signingKey === publicKey)
    return d ? { deviceId: d.deviceId, xwingKey: d.xwingKey, access: d.roles.includes('access') } : null
  }

  /**
   * Offers each conversation to those of `peers` whose device the
   * conversation names and which is not yet a writer there: the base key
   * and the conversation key sealed to that device. Each peer's device is
   * looked up once and each conversation read once, whatever the counts.
   */
  async #offer(
    records: ConversationRecord[],
    peers: Peer[],
    opts: { writers?: boolean } = {}
  ): Promise<number> {
    let offered = 0
    try {
      const targets: Array<{ peer: Peer; device: { deviceId: string; xwingKey: string }; own: boolean }> = []
      for (const peer of peers) {
        const device = await this.#friendDevice(peer.publicKey)
        if (device?.access) targets.push({ peer, device, own: this.#ownDevice(peer.publicKey) })
      }
      if (targets.length === 0) return 0
      for (const r of records) {
        const conv = this.#open.get(r.id)
        if (!conv || this.closing) continue
        let pending: Set<string>
        try {
          const s = await conv.show({ limit: 0 })
          pending = new Set(
            s.members.flatMap((m) =>
              m.devices.filter((d) => opts.writers || !d.writer).map((d) => d.deviceId)
            )
          )
        } catch (err) {
          // no manifest here yet: the next round offers it
          this.#c.log.debug('conversation not offered', { id: r.id, err: err as Error })
          continue
        }
        for (const { peer, device, own } of targets) {
          if (!pending.has(device.deviceId)) continue
          const sealedKey = sealConversationKey(unhex(r.key), {
            conversationId: r.id,
            deviceId: device.deviceId,
            xwingKey: device.xwingKey
          })
          const system = own ? { system: hex(conv.base.autobase.core.key) } : {}
          peer.message.send({ type: 'offer', v: 1, baseKey: r.baseKey, sealedKey, ...system })
          offered++
        }
      }
    } catch (err) {
      if (!this.closing) this.#c.log.debug('offering conversations failed', { err: err as Error })
    }
    return offered
  }

  /** Whether a connection's key is an own, unrevoked device's. */
  #ownDevice(publicKey: string): boolean {
    const own = this.#c.cluster.deviceBySigningKey(unhex(publicKey))
    return own !== null && own !== undefined && !own.revoked
  }

  async #onMessage(peer: Peer, m: unknown): Promise<void> {
    const blind = BlindSchema.safeParse(m)
    if (blind.success) {
      // only on a relay, only from an own, unrevoked access device
      const own = this.#c.cluster.deviceBySigningKey(unhex(peer.publicKey))
      if (!this.#c.blind || !own || own.revoked || !own.roles.includes('access')) return
      const added = await this.#c.blind.add(blind.data.cores)
      if (added > 0) this.#c.log.info('relay: keeping conversation cores blindly', { added })
      return
    }
    const offer = OfferSchema.safeParse(m)
    if (offer.success) {
      if (!this.#c.access || !(await this.#friendDevice(peer.publicKey))) return
      const id = conversationIdFor(unhex(offer.data.baseKey))
      if (!this.#records.has(id)) {
        const { identity, secrets } = this.#c.identity
        // a relay keeps no X-Wing secret (it also has no access role, checked above)
        if (secrets.device.xwingSecretKey === undefined) return
        const key = openConversationKey(offer.data.sealedKey, unhex(secrets.device.xwingSecretKey), {
          conversationId: id,
          deviceId: identity.deviceId
        })
        const record: ConversationRecord = { id, baseKey: offer.data.baseKey, key: hex(key), nonce: null }
        // an own device's word on the current system core is trusted (it holds all this device holds);
        // a friend's is not: it would decide which signed view this device adopts
        const system = offer.data.system && this.#ownDevice(peer.publicKey) ? unhex(offer.data.system) : null
        await this.#openRecord(record, system ? { fastForwardKey: system } : {})
        if (system) {
          this.#c.log.info('conversation opened at the signed view an own device named', {
            id,
            system: offer.data.system
          })
        }
        this.#records.set(id, record)
        this.#writeFile()
      }
      const conv = this.#open.get(id)!
      if (!conv.writable) {
        peer.message.send({
          type: 'writer',
          v: 1,
          baseKey: offer.data.baseKey,
          request: conv.writerRequest()
        })
      }
      return
    }
    if (ResyncSchema.safeParse(m).success) {
      // only an own device may ask: it is offered every conversation naming it, writer or not
      if (!this.#ownDevice(peer.publicKey)) return
      const offered = await this.#offer([...this.#records.values()], [peer], { writers: true })
      peer.message.send({ type: 'resynced', v: 1, offered })
      return
    }
    const resynced = ResyncedSchema.safeParse(m)
    if (resynced.success) {
      if (!this.#ownDevice(peer.publicKey) || !this.#resync) return
      this.#resync = false
      this.#writeFile()
      this.#c.log.info('conversations re-learned from an own device', { offered: resynced.data.offered })
      return
    }
    const join = JoinSchema.safeParse(m)
    if (join.success) {
      if (!(await this.#friendDevice(peer.publicKey))) return
      const conv = this.#open.get(conversationIdFor(unhex(join.data.baseKey)))
      if (!conv || !conv.writable) return
      await conv.addWriter(join.data.request as WriterRequest)
    }
  }
}
