import type Corestore from 'corestore'
import { HybridClock, type Hlc, type Outcome } from '../consensus/index.js'
import { hex } from '../src/kernel/encoding.js'
import { ConclaveError, isConclaveError, KernelErrors } from '../src/kernel/errors.js'
import type { ConversationId } from '../src/kernel/ids.js'
import { Resource } from '../src/kernel/lifecycle.js'
import {
  coreKeyFor,
  type EntryCodec,
  type Finality,
  finalityOf,
  jsonCodec,
  type KeyPair,
  openBase,
  readPrefix,
  type SkipRecord,
  type SubstrateBase,
  skipKey,
  viewHash
} from '../src/kernel/substrate/index.js'
import {
  ConversationApply,
  type DryRunOptions,
  dryRunContext,
  endApplyCall,
  type ReadCache
} from './apply.js'
import { checkCertificate, type SignedCert, type SignedRevocation } from './certificates.js'
import {
  type ConversationEntry,
  DEVICE_TYPE,
  MESSAGE_TYPE,
  type MessageEntry,
  REVOKE_TYPE,
  signMessage,
  signWriterRequest,
  type WriterRequest,
  WriterRequestSchema,
  WRITER_TYPE
} from './entries.js'
import { ConversationErrors } from './errors.js'
import { sealConversationKey } from './keys.js'
import {
  buildManifest,
  type ConsensusPart,
  conversationIdFor,
  type Manifest,
  type ManifestInput,
  type ManifestRules
} from './manifest.js'
import { type OwnOutcome, OwnResults } from './own-entries.js'
import { HEARTBEAT_KIND } from './patterns.js'
import type { TallyCacheStats } from './tally-cache.js'
import {
  DEVICE_PREFIX,
  type DeviceRecord,
  type ListedRecord,
  MSG_PREFIX,
  type MessageChunk,
  type MessageRecord,
  msgKey,
  OUTCOME_KEY,
  type OutcomeRecord,
  prefixRange,
  type SealedKeyRecord,
  STATE_KEY,
  type StateRecord,
  sealedKey,
  TALLY_KEY,
  type TallyRecord,
  WRITER_PREFIX,
  type WriterRecord,
  writerKey
} from './view-layout.js'

type ViewSnapshot = ReturnType<SubstrateBase['view']['snapshot']>
const MSG_END = prefixRange(MSG_PREFIX).lt

export interface ConversationComponents {
  /** A corestore namespace dedicated to this conversation (the conversation never closes it). */
  store: Corestore
}

/** The local device: who signs what this node posts. */
export interface ConversationDevice {
  accountId: string
  deviceId: string
  /** The device's certified Ed25519 signing key pair. */
  signingKeyPair: KeyPair
}

export interface ConversationOptions {
  /** Base key of an existing conversation; omit or null to create one (this device's writer becomes the bootstrap). */
  bootstrap?: Uint8Array | null
  /**
   * This device's writer key pair for this conversation. Use one per
   * conversation (never the cluster writer: corestore would open the same
   * core) and never reuse it after a data loss (that forks the core).
   */
  writerKeyPair: KeyPair
  /** The conversation key (32 bytes): block encryption of every core of the conversation. */
  encryptionKey: Uint8Array
  device: ConversationDevice
  ackIntervalMs?: number
  /** The device's hybrid logical clock; persist `peek()` across restarts. Default: a fresh one. */
  clock?: HybridClock
  /** Wall time in ms (default Date.now); only ever stamped into this device's own entries. */
  wallClock?: () => number
  /**
   * The key of the log's current system core, from an own device that holds
   * the conversation: a device opening it empty (a recovered one) fast-forwards
   * to it at once (see SubstrateBaseOptions.fastForwardKey). Only ever from a
   * trusted device: the key decides which signed view this device adopts.
   */
  fastForwardKey?: Uint8Array | null
}

export interface ConversationEvents {
  /** The view may have changed. */
  update: []
  /** The base failed (see SubstrateBase 'fault'). */
  fault: [Error]
}

export interface PostResult {
  /** Sequence number of the message in the view (apply order; tentative until final); null for a heartbeat. */
  seq: number | null
  /** The entry's name in the log: this device's writer core (hex) and its length there. */
  writer: string
  length: number
  /** Stored as late: the conversation closed before it in the log's order. */
  late: boolean
}

/** A `postBatch` result: as `post`, plus the code apply recorded if it skipped the message. */
export type PostBatchResult = PostResult & { skipped: string | null }

export interface ShowOptions {
  /** First message sequence number (default 0). */
  offset?: number
  /** At most this many messages (default 100, at most 1000). */
  limit?: number
}

export interface ShownDevice {
  deviceId: string
  revoked: boolean
  /** Whether it has a current writer core here, and whether that writer indexes. */
  writer: boolean
  indexer: boolean
}

export interface ShownOutcome {
  /** Final once the view block holding the outcome is indexed (DESIGN §5). */
  state: Finality
  winners: string[]
  closedBy: number | null
  reachedAt: number
  figures: Outcome
}

export interface ConversationSummary {
  id: string
  topic: string
  pattern: string
  consensus: ConsensusPart
  options: string[]
  deadline: number | null
  createdAt: number
  creator: { accountId: string; deviceId: string }
  members: Array<{ accountId: string; devices: ShownDevice[] }>
  phase: string
  closed: boolean
  /** Log time (ms). */
  now: number
  /** Why this node cannot evaluate the consensus rule, or null. */
  unsupported: string | null
  /** Listed messages so far (late ones included), and how many of them are late. */
  total: number
  late: number
  messages: MessageRecord[]
  /** The method's current figures (null when unsupported). */
  tally: Outcome | null
  outcome: ShownOutcome | null
}

const MAX_SHOW_LIMIT = 1000

/**
 * One conversation: its own autobase (block-encrypted with the conversation
 * key) whose first entry is the manifest, whose writers are member devices,
 * and whose view holds the accepted messages, the tally and the outcome.
 * See docs/conversations.md.
 */
export class Conversation extends Resource {
  readonly #store: Corestore
  readonly #opts: ConversationOptions
  readonly #baseKey: Buffer
  readonly #apply: ConversationApply
  readonly #clock: HybridClock
  readonly #wall: () => number
  readonly id: ConversationId
  #base: SubstrateBase<ConversationEntry> | null = null
  readonly #onUpdate = (): void => {
    this.emit('update')
  }
  readonly #onFault = (err: Error): void => {
    this.emit('fault', err)
  }
  readonly #own: OwnResults
  readonly #onSkip = (record: SkipRecord): void => {
    if (record.writer === hex(this.#own.writer)) this.#own.skipped(record.length, record.code)
  }

  constructor(components: ConversationComponents, opts: ConversationOptions) {
    super()
    if (opts.writerKeyPair?.publicKey?.byteLength !== 32) {
      throw KernelErrors.CRYPTO_INVALID_KEY('the writer key pair is an Ed25519 key pair')
    }
    if (opts.encryptionKey?.byteLength !== 32)
      throw KernelErrors.CRYPTO_INVALID_KEY('a conversation key has 32 bytes')
    this.#store = components.store
    this.#opts = opts
    this.#baseKey = opts.bootstrap ? Buffer.from(opts.bootstrap) : coreKeyFor(opts.writerKeyPair.publicKey)
    this.#apply = new ConversationApply(this.#baseKey)
    const ownWriter = coreKeyFor(opts.writerKeyPair.publicKey)
    this.#own = new OwnResults(() => this.#base?.localKey ?? ownWriter)
    this.#clock = opts.clock ?? new HybridClock()
    this.#wall = opts.wallClock ?? Date.now
    this.id = conversationIdFor(this.#baseKey)
  }

  /** The conversation id of the log with this base key. */
  static idFor(baseKey: Uint8Array): ConversationId {
    return conversationIdFor(baseKey)
  }

  /** Base key: what an invitation names (with the sealed conversation key). */
  get key(): Buffer {
    return this.#baseKey
  }

  /** The underlying base (after ready()): replication hooks, `until`, finality. */
  get base(): SubstrateBase<ConversationEntry> {
    if (!this.#base) throw KernelErrors.KERNEL_CLOSED('the conversation is not open')
    return this.#base
  }

  /** Whether autobase counts this device's writer as a writer of the conversation. */
  get writable(): boolean {
    return this.#base !== null && this.#base.writable
  }

  /** Whether this device's writer is the bootstrap core (it created, or creates, the conversation). */
  get isCreator(): boolean {
    return coreKeyFor(this.#opts.writerKeyPair.publicKey).equals(this.#baseKey)
  }

  /** How the in-memory tally fared (hits, rebuilds, replayed inputs); null before the manifest. */
  get tallyStats(): TallyCacheStats | null {
    return this.#apply.tallyStats
  }

  protected override async _open(): Promise<void> {
    const base = await openBase<ConversationEntry>({
      store: this.#store,
      bootstrap: this.#baseKey,
      keyPair: this.#opts.writerKeyPair,
      encryptionKey: this.#opts.encryptionKey,
      ...(this.#opts.ackIntervalMs === undefined ? {} : { ackIntervalMs: this.#opts.ackIntervalMs }),
      codec: jsonCodec as EntryCodec<ConversationEntry>,
      ...(this.#opts.fastForwardKey ? { fastForwardKey: this.#opts.fastForwardKey } : {}),
      apply: this.#apply.handler(this.#own),
      applyEnd: endApplyCall
    })
    this.#base = base
    base.on('update', this.#onUpdate)
    base.on('fault', this.#onFault)
    base.on('skip', this.#onSkip)
  }

  protected override async _close(): Promise<void> {
    const base = this.#base
    if (!base) return
    base.off('update', this.#onUpdate)
    base.off('fault', this.#onFault)
    base.off('skip', this.#onSkip)
    await base.close()
  }

  /**
   * Creates the conversation: builds, signs and strictly checks the
   * manifest (CONV_PATTERN_UNKNOWN, CONV_PATTERN_MISMATCH,
   * CONV_MANIFEST_INVALID, CONSENSUS_METHOD_UNKNOWN, …), then appends it as
   * the first entry. Only the device whose writer is the bootstrap core can.
   */
  async create(input: ManifestInput): Promise<Manifest> {
    await this.#opened()
    if (!this.isCreator) {
      throw ConversationErrors.CONV_FORBIDDEN(
        "only the creator's writer (the bootstrap core) appends the manifest"
      )
    }
    if ((await this.base.view.get(STATE_KEY)) !== null) {
      throw ConversationErrors.CONV_MANIFEST_EXISTS('this conversation already has a manifest')
    }
    const { manifest } = buildManifest(input, {
      baseKey: this.#baseKey,
      createdAt: this.#wall(),
      creator: { accountId: this.#opts.device.accountId, deviceId: this.#opts.device.deviceId },
      signingKeyPair: this.#opts.device.signingKeyPair
    })
    await this.#append(manifest as ConversationEntry)
    return manifest
  }

  /**
   * Posts one message of the pattern: checks it against the local view
   * first (the code apply would record: CONV_KIND_UNKNOWN, CONV_FORBIDDEN,
   * CONV_WRONG_PHASE, CONV_UNKNOWN_OPTION, CONV_CLOSED, …), signs, appends.
   * Apply, on the log's order, has the last word: a skip is thrown with its code.
   */
  async post(kind: string, body: Record<string, unknown> = {}): Promise<PostResult> {
    const [{ skipped, ...result }] = (await this.postBatch([{ kind, body }])) as [PostBatchResult]
    if (skipped !== null) throw skipError(skipped)
    return result
  }

  /**
   * Posts several messages as one append (one autobase batch, one apply
   * call): for messages produced together, such as an import or a burst
   * from a busy device. Each is checked against the local view as `post`
   * checks it (the first refusal throws, nothing is appended); messages of
   * the batch that conflict with each other are left to apply, which skips
   * them with their code (`skipped` in the result) identically everywhere.
   */
  async postBatch(
    items: ReadonlyArray<{ kind: string; body?: Record<string, unknown> }>
  ): Promise<PostBatchResult[]> {
    const entries: ConversationEntry[] = []
    // one state of the view for every check of the batch
    const reads: ReadCache = new Map()
    for (const { kind, body } of items) {
      const entry = await this.#message(kind, body ?? {}, reads)
      await this.#dryRun(entry, { reads, ownEntry: true })
      entries.push(entry)
    }
    if (entries.length === 0) return []
    const done = this.#own.begin(this.base.autobase.local.length + 1)
    try {
      const { writer, first } = await this.#appendChecked(entries)
      const outcomes =
        this.#own.take(first, entries.length) ?? (await this.#readOutcomes(writer, first, entries.length))
      return outcomes.map(({ listed, skipped }, i) => ({
        seq: listed?.seq ?? null,
        writer,
        length: first + i,
        late: listed?.late ?? false,
        skipped
      }))
    } finally {
      done()
    }
  }

  /** What apply did with this device's entries at lengths first…first+count-1, read from the view. */
  async #readOutcomes(writer: string, first: number, count: number): Promise<OwnOutcome[]> {
    const listed = await this.#listedSince(writer, first, count)
    const skipped = await this.#skipCodes(first, count)
    return Array.from({ length: count }, (_, i) => {
      const record = listed.get(first + i)
      return {
        listed: record ? { seq: record.seq, late: record.late } : null,
        skipped: skipped.get(first + i) ?? null
      }
    })
  }

  /** The local check `post` runs, without appending: throws the code apply would record. */
  async validate(kind: string, body: Record<string, unknown> = {}): Promise<void> {
    await this.#dryRun(await this.#message(kind, body))
  }

  async #message(kind: string, body: Record<string, unknown>, reads?: ReadCache): Promise<ConversationEntry> {
    await this.#opened()
    const cached = reads?.get(STATE_KEY)
    const state = typeof cached === 'string' ? (JSON.parse(cached) as StateRecord) : await this.#state()
    if (!this.writable) throw ConversationErrors.CONV_NOT_WRITABLE('this device is not (yet) a writer here')
    const { accountId, deviceId, signingKeyPair } = this.#opts.device
    const unsigned: Omit<MessageEntry, 'sig'> = {
      type: MESSAGE_TYPE,
      v: 1,
      kind,
      body,
      author: { accountId, deviceId, signingKey: hex(signingKeyPair.publicKey) },
      hlc: this.#nextHlc(state.hlc)
    }
    try {
      return signMessage(this.id, unsigned, signingKeyPair)
    } catch (err) {
      // canonical JSON refuses what JSON cannot carry exactly (NaN, Infinity, bytes, …)
      throw ConversationErrors.CONV_BODY_INVALID('the body is not plain JSON', { cause: err })
    }
  }

  /** A heartbeat: carries this device's clock, so that log time advances while a deadline is pending. */
  async heartbeat(): Promise<void> {
    await this.post(HEARTBEAT_KIND, {})
  }

  /** Whether the node should append heartbeats: a deadline is set and the conversation is open. */
  async heartbeatDue(): Promise<boolean> {
    await this.#opened()
    const state = await this.#get<StateRecord>(STATE_KEY)
    if (state === null || state.closed) return false
    const rules = await this.#rules(state)
    return (rules.manifest.deadline ?? 0) > 0
  }

  /** This device's signed request to have its writer admitted; any writer appends it with `addWriter`. */
  writerRequest(): WriterRequest {
    return signWriterRequest(
      this.id,
      this.#opts.device.deviceId,
      this.#opts.writerKeyPair.publicKey,
      this.#opts.device.signingKeyPair
    )
  }

  /**
   * Appends a member device's writer request (relayed by the node). Apply
   * admits the writer, as an indexer when the rules say so (see
   * docs/conversations.md, "Writers and indexers").
   */
  async addWriter(request: WriterRequest): Promise<void> {
    await this.#opened()
    const parsed = WriterRequestSchema.safeParse(request)
    if (!parsed.success) throw ConversationErrors.CONV_ENTRY_INVALID('malformed writer request')
    await this.#append({ type: WRITER_TYPE, v: 1, ...parsed.data })
  }

  /**
   * Adds a newly certified device of this device's own account: appends its
   * certificate and the conversation key sealed to its X-Wing key (read it
   * back with `sealedKeyFor`). The new device then asks for a writer.
   */
  async addDevice(signed: SignedCert): Promise<void> {
    await this.#opened()
    const rules = await this.#rules(await this.#state())
    const { accountId } = this.#opts.device
    const member = rules.members.get(accountId)
    if (!member) throw ConversationErrors.CONV_NOT_MEMBER('this device is not of a member account')
    const device = checkCertificate(member.rootPublic, accountId, signed)
    if ('refused' in device) throw ConversationErrors.CONV_NOT_MEMBER(`device certificate: ${device.refused}`)
    const sealed = sealConversationKey(this.#opts.encryptionKey, {
      conversationId: this.id,
      deviceId: device.deviceId,
      xwingKey: device.xwingKey
    })
    await this.#append({ type: DEVICE_TYPE, v: 1, accountId, device: signed, sealedKey: sealed })
  }

  /** Relays a member's root-signed device revocation; the device's writer is removed where autobase allows. */
  async revokeDevice(accountId: string, revocation: SignedRevocation): Promise<void> {
    await this.#opened()
    await this.#append({ type: REVOKE_TYPE, v: 1, accountId, revocation })
  }

  /** The conversation key sealed to a device added with `addDevice` (hex), or null. */
  async sealedKeyFor(deviceId: string): Promise<string | null> {
    await this.#opened()
    return (await this.#get<SealedKeyRecord>(sealedKey(deviceId)))?.sealedKey ?? null
  }

  /**
   * The manifest, the members, a page of messages, the tally and the
   * outcome, read from one snapshot of the view. Throws CONV_NO_MANIFEST.
   */
  async show(opts: ShowOptions = {}): Promise<ConversationSummary> {
    await this.#opened()
    const snap = this.base.view.snapshot()
    try {
      return await this.#show(snap, opts)
    } finally {
      await snap.close()
    }
  }

  /**
   * `show` and the view hash, both of one snapshot: read one after the
   * other from the live view, a reorder in between paired a summary (a
   * ballot not yet late, its outcome) with the hash of the view after it.
   */
  async showHashed(opts: ShowOptions = {}): Promise<{ summary: ConversationSummary; viewHash: Buffer }> {
    await this.#opened()
    const snap = this.base.view.snapshot()
    try {
      const summary = await this.#show(snap, opts)
      return { summary, viewHash: await viewHash(snap) }
    } finally {
      await snap.close()
    }
  }

  async #show(snap: ViewSnapshot, opts: ShowOptions): Promise<ConversationSummary> {
    const offset = Math.max(0, Math.floor(opts.offset ?? 0))
    const limit = Math.min(MAX_SHOW_LIMIT, Math.max(0, Math.floor(opts.limit ?? 100)))
    const get = async <T>(key: string): Promise<T | null> => ((await snap.get(key))?.value as T) ?? null
    const state = await get<StateRecord>(STATE_KEY)
    if (state === null) throw ConversationErrors.CONV_NO_MANIFEST('the conversation has no manifest (yet)')
    const rules = await this.#apply.rules({ get }, state)
    const m = rules.manifest

    const devices = new Map<string, ShownDevice[]>()
    for await (const { key, value } of snap.createReadStream(prefixRange(DEVICE_PREFIX))) {
      const d = value as DeviceRecord
      const w = d.writer === null ? null : await get<WriterRecord>(writerKey(d.writer))
      const list = devices.get(d.accountId) ?? []
      list.push({
        deviceId: key.slice(DEVICE_PREFIX.length),
        revoked: d.revoked,
        writer: w?.state === 'current',
        indexer: w?.state === 'current' && w.indexer
      })
      devices.set(d.accountId, list)
    }

    const messages = limit > 0 ? await this.#listed(snap, offset, offset + limit) : []
    const tally = await get<TallyRecord>(TALLY_KEY)
    const node = await snap.get(OUTCOME_KEY)
    let outcome: ShownOutcome | null = null
    if (node !== null) {
      const o = node.value as OutcomeRecord
      outcome = {
        state: finalityOf(this.base.view, node.seq),
        winners: o.winners,
        closedBy: o.closedBy,
        reachedAt: o.reachedAt,
        figures: o.outcome
      }
    }
    return {
      id: m.id,
      topic: m.topic,
      pattern: m.pattern,
      consensus: m.consensus,
      options: [...rules.options],
      deadline: m.deadline ?? null,
      createdAt: m.createdAt,
      creator: m.creator,
      members: m.members.map((x) => ({ accountId: x.accountId, devices: devices.get(x.accountId) ?? [] })),
      phase: state.phase,
      closed: state.closed,
      now: tally?.now ?? 0,
      unsupported: tally?.unsupported ?? null,
      total: state.seq,
      late: state.late,
      messages,
      tally: tally?.figures ?? null,
      outcome
    }
  }

  /** Every writer core the view has admitted (hex core key): current, retired and revoked. */
  async writers(): Promise<Array<WriterRecord & { core: string }>> {
    await this.#opened()
    return (await readPrefix<WriterRecord>(this.base.view, WRITER_PREFIX)).map((r) => ({
      ...r.value,
      core: r.id
    }))
  }

  /** Content hash of the view: equal on every node that applied the same log. */
  async viewHash(): Promise<Buffer> {
    await this.#opened()
    return this.base.viewHash()
  }

  /** Entries apply skipped, with their codes, in (writer, length) order. */
  async skipped(): Promise<SkipRecord[]> {
    await this.#opened()
    return this.base.skipped()
  }

  async #opened(): Promise<void> {
    this.assertOpen()
    if (!this.opened) await this.ready()
  }

  async #get<T>(key: string): Promise<T | null> {
    const node = await this.base.view.get(key)
    return node === null ? null : (node.value as T)
  }

  async #state(): Promise<StateRecord> {
    const state = await this.#get<StateRecord>(STATE_KEY)
    if (state === null) throw ConversationErrors.CONV_NO_MANIFEST('the conversation has no manifest (yet)')
    return state
  }

  #rules(state: StateRecord): Promise<ManifestRules> {
    return this.#apply.rules({ get: (k) => this.#get(k) }, state)
  }

  #nextHlc(seen: Hlc | null): Hlc {
    const wall = this.#wall()
    return seen === null ? this.#clock.now(wall) : this.#clock.receive(seen, wall)
  }

  /**
   * Dry-runs the entry against the local view (the code apply would
   * record), appends it, and reports what apply actually did: the log's
   * order has the last word, so a skip is thrown with its code.
   */
  async #append(entry: ConversationEntry): Promise<{ writer: string; length: number }> {
    await this.#dryRun(entry)
    const { writer, first } = await this.#appendChecked([entry])
    const code = await this.#skipCode(first)
    if (code !== null) throw skipError(code)
    return { writer, length: first }
  }

  /** Appends already checked entries as one batch; returns this device's writer (hex) and the first entry's length. */
  async #appendChecked(entries: ConversationEntry[]): Promise<{ writer: string; first: number }> {
    const base = this.base
    if (!base.writable) throw ConversationErrors.CONV_NOT_WRITABLE('this device is not (yet) a writer here')
    try {
      const last = await base.appendBatch(entries)
      return { writer: hex(base.localKey), first: last - entries.length + 1 }
    } catch (err) {
      if (isConclaveError(err, 'SUBSTRATE_NOT_WRITABLE')) {
        throw ConversationErrors.CONV_NOT_WRITABLE('this device is not a writer here', { cause: err })
      }
      throw err
    }
  }

  /** The code apply recorded for this device's entry at `length`, or null if it applied. */
  async #skipCode(length: number): Promise<string | null> {
    const node = await this.base.view.get(skipKey(this.base.localKey, length))
    return node === null ? null : (node.value as SkipRecord).code
  }

  async #dryRun(entry: ConversationEntry, opts?: DryRunOptions): Promise<void> {
    const base = this.base
    await this.#apply.run(
      dryRunContext(base.localKey, base.autobase.local.length + 1, base.view, opts),
      entry
    )
  }

  /** The codes apply recorded for this device's entries at lengths first…first+count-1 that it skipped. */
  async #skipCodes(first: number, count: number): Promise<Map<number, string>> {
    const out = new Map<number, string>()
    const { localKey, view } = this.base
    for await (const { value } of view.createReadStream({
      gte: skipKey(localKey, first),
      lt: skipKey(localKey, first + count)
    })) {
      const r = value as SkipRecord
      out.set(r.length, r.code)
    }
    return out
  }

  /**
   * The listed messages with seq in [from, to) as `snap` lists them, each
   * read from the writer core the view names (in parallel; a block this
   * node does not hold yet is asked of its peers: SUBSTRATE_ENTRY_UNAVAILABLE
   * when none serves it).
   */
  async #listed(snap: ViewSnapshot, from: number, to: number): Promise<MessageRecord[]> {
    const records: ListedRecord[] = []
    if (to > from) {
      // chunks are keyed by their last seq: the first at or after `from` holds it
      for await (const { value } of snap.createReadStream({ gte: msgKey(from), lt: MSG_END })) {
        const { items } = value as MessageChunk
        for (const r of items) if (r.seq >= from && r.seq < to) records.push(r)
        if (items[items.length - 1]!.seq >= to - 1) break
      }
    }
    return Promise.all(records.map((r) => this.#readListed(r)))
  }

  /** A listed message with the entry its record names. */
  async #readListed(r: ListedRecord): Promise<MessageRecord> {
    const entry = await this.base.entryAt(Buffer.from(r.writer, 'hex'), r.length)
    if (entry.type !== MESSAGE_TYPE) {
      // apply lists only messages and the log never changes under a name: a bug, or a damaged store
      throw ConversationErrors.CONV_ENTRY_INVALID(
        `the view lists a ${String(entry.type)} entry as message ${r.seq}`
      )
    }
    const { accountId, deviceId, signingKey } = entry.author
    return {
      seq: r.seq,
      kind: entry.kind,
      body: entry.body,
      author: { accountId, deviceId },
      hlc: entry.hlc,
      late: r.late,
      writer: r.writer,
      length: r.length,
      sig: entry.sig,
      signingKey
    }
  }

  /**
   * Listed messages from seq `from` on (at most `limit`), read from the live
   * view: for a reader following a conversation (`show` pages through one
   * snapshot instead).
   */
  async messagesFrom(from: number, limit = MAX_SHOW_LIMIT): Promise<MessageRecord[]> {
    await this.#opened()
    const snap = this.base.view.snapshot()
    try {
      return await this.#listed(snap, Math.max(0, Math.floor(from)), Math.max(0, Math.floor(from + limit)))
    } finally {
      await snap.close()
    }
  }

  /** The listed messages this device appended at lengths first…first+count-1: at the tip right after the append. */
  async #listedSince(writer: string, first: number, count: number): Promise<Map<number, ListedRecord>> {
    const listed = new Map<number, ListedRecord>()
    let scanned = 0
    chunks: for await (const { value } of this.base.view.createReadStream({
      ...prefixRange(MSG_PREFIX),
      reverse: true
    })) {
      const { items } = value as MessageChunk
      for (let i = items.length - 1; i >= 0; i--) {
        const r = items[i]!
        if (++scanned > count + 64) break chunks
        if (r.writer !== writer) continue
        // this writer's records are in its log order: an older one means none of the batch is further back
        if (r.length < first) break chunks
        if (r.length < first + count) listed.set(r.length, r)
        if (listed.size === count) break chunks
      }
    }
    return listed
  }
}

function skipError(code: string): ConclaveError {
  return new ConclaveError(code, `the conversation log skipped this entry (${code})`)
}
