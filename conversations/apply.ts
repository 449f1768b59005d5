import { applyMessage, closeTally, compareHlc, evaluate, type Hlc, type Tally } from '../consensus/index.js'
import { BoundedSet } from '../src/kernel/bounded-set.js'
import { blake2b } from '../src/kernel/crypto/hash.js'
import { hex, unhex } from '../src/kernel/encoding.js'
import {
  type ApplyHandler,
  coreKeyFor,
  type MembershipHost,
  type View,
  type ViewBatch
} from '../src/kernel/substrate/index.js'
import { checkCertificate, checkRevocation } from './certificates.js'
import {
  type DeviceEntry,
  type MessageEntry,
  messageSigned,
  parseEntry,
  type RevokeEntry,
  type WriterEntry,
  writerSigned
} from './entries.js'
import { ConversationErrors } from './errors.js'
import { checkManifest, type Manifest, type ManifestRules } from './manifest.js'
import { checkMessage } from './rules.js'
import { SIGN_CONTEXT, verifyValue } from './signing.js'
import { chainNext, type InputSource, TallyCache } from './tally-cache.js'
import {
  type AccountRecord,
  accountKey,
  type DeviceRecord,
  deviceKey,
  type InputChunk,
  INPUT_PREFIX,
  type InputRecord,
  inputKey,
  LOCAL_INPUT_PREFIX,
  LOCAL_MSG_PREFIX,
  type ListedRecord,
  localInputKey,
  localMsgKey,
  MANIFEST_KEY,
  type MessageChunk,
  msgKey,
  numberOfKey,
  OUTCOME_KEY,
  prefixRange,
  type OutcomeRecord,
  type SealedKeyRecord,
  STATE_KEY,
  type StateRecord,
  sealedKey,
  TALLY_KEY,
  type TallyRecord,
  type WriterRecord,
  writerKey
} from './view-layout.js'

/**
 * The conversation's apply rules (docs/conversations.md, "Apply rules").
 * Every function here is a pure function of (entry, view): autobase re-runs
 * apply on reorders, on every node. The in-memory caches (the manifest's
 * derived rules, the tally) are keyed by what the view says, so they never
 * decide anything the view does not.
 */

/**
 * At most this many indexers per conversation: the creator's writer (the
 * bootstrap) plus, per other member account, its first device admitted as a
 * writer whose certificate marks it always-on. Finality needs acks from a
 * majority of indexers, so more indexers stall it more often.
 */
export const MAX_INDEXERS = 3

/** Block digests (BLAKE2b-128) of verified messages kept per conversation: enough for the unindexed tail a reorder re-applies. */
const VERIFIED_MAX = 16_384

/** What one entry handler reads and writes: the entry's batch in apply, the read view plus an overlay in a dry run. */
export interface ApplyContext {
  /** Writer core of the entry. */
  readonly writer: Buffer
  /** The entry's length in its writer core: with `writer`, its name in the log. */
  readonly length: number
  /** The entry's block as appended, in apply; null in a dry run. */
  readonly block: Buffer | null
  readonly host: MembershipHost
  /** True for the local check before an append: nothing is fed to the tally. */
  readonly dryRun: boolean
  /**
   * True in the dry run of a message this device built and signed a moment
   * ago: its signature is not verified again (the certified-key check
   * still runs). Apply always verifies.
   */
  readonly ownEntry: boolean
  get<T>(key: string): Promise<T | null>
  put(key: string, value: unknown): Promise<void>
  range<T>(gte: string, lt: string): AsyncIterable<T>
  /** Set by a message the entry listed: its place in the list and whether it came late. */
  listed: Listed | null
}

export interface Listed {
  seq: number
  late: boolean
}

/** Told what apply did with each entry of one writer core (this device's own). */
export interface OwnEntries {
  readonly writer: Buffer
  /** The entry at `length` applied; `listed` if it was a listed message. */
  applied(length: number, listed: Listed | null): void
}

export function batchContext(
  writer: Buffer,
  length: number,
  block: Buffer,
  batch: ViewBatch,
  host: MembershipHost
): ApplyContext {
  return {
    writer,
    length,
    block,
    host,
    dryRun: false,
    ownEntry: false,
    listed: null,
    async get<T>(key: string) {
      const node = await batch.get(key)
      return node === null ? null : (node.value as T)
    },
    put: (key, value) => batch.put(key, value),
    async *range<T>(gte: string, lt: string) {
      for await (const { value } of batch.createReadStream({ gte, lt })) yield value as T
    }
  }
}

/** View reads shared by the dry runs of one batch (JSON text, null for absent), so all see one state of the view. */
export type ReadCache = Map<string, string | null>

export interface DryRunOptions {
  reads?: ReadCache
  ownEntry?: boolean
}

/** Never touches the log or the writer set: reads the view, keeps writes in memory. */
export function dryRunContext(
  writer: Buffer,
  length: number,
  view: View,
  { reads = new Map(), ownEntry = false }: DryRunOptions = {}
): ApplyContext {
  const overlay = new Map<string, unknown>()
  return {
    writer,
    length,
    block: null,
    host: { addWriter() {}, removeWriter() {}, removable: () => true },
    dryRun: true,
    ownEntry,
    listed: null,
    async get<T>(key: string) {
      if (overlay.has(key)) return overlay.get(key) as T
      let text = reads.get(key)
      if (text === undefined) {
        const node = await view.get(key)
        text = node === null ? null : JSON.stringify(node.value)
        reads.set(key, text)
      }
      return text === null ? null : (JSON.parse(text) as T)
    },
    async put(key, value) {
      overlay.set(key, value)
    },
    async *range<T>(gte: string, lt: string) {
      for await (const { value } of view.createReadStream({ gte, lt })) yield value as T
    }
  }
}

/**
 * State shared by the apply calls of one conversation: which log it is,
 * and the caches. One per Conversation instance.
 */
export class ConversationApply {
  /** coreKeyFor(creator's writer public key): the base key and the only writer allowed to append the manifest. */
  readonly baseKey: Buffer
  #rules: ManifestRules | null = null
  #tally: TallyCache | null = null
  /** Blocks whose message signature verified under the current rules, by digest (see #signed). */
  #verified = new BoundedSet(VERIFIED_MAX)

  constructor(baseKey: Buffer) {
    this.baseKey = baseKey
  }

  /** Tally cache statistics (for measurements and tests). */
  get tallyStats(): TallyCache['stats'] | null {
    return this.#tally?.stats ?? null
  }

  /**
   * The autobase apply handler (wrapped by the substrate's safeApply).
   * `own` hears of every entry of its writer core that applied, each time
   * it applies (a reorder runs it again): what `postBatch` reports.
   */
  handler(own?: OwnEntries): ApplyHandler<unknown> {
    return async ({ value, writer, length, block }, batch, host) => {
      const ctx = batchContext(writer, length, block, batch, host)
      await this.run(ctx, value)
      if (own?.writer.equals(writer)) own.applied(length, ctx.listed)
    }
  }

  /**
   * The manifest's rules, from memory when the state record names the same
   * manifest. The manifest in the view was fully verified when it was
   * applied; reloading it re-derives the rules without checking the
   * certificates again.
   */
  async rules(ctx: Pick<ApplyContext, 'get'>, state: StateRecord): Promise<ManifestRules> {
    if (this.#rules?.digest === state.manifest) return this.#rules
    const manifest = await ctx.get<Manifest>(MANIFEST_KEY)
    if (manifest === null) throw ConversationErrors.CONV_NO_MANIFEST('the view has a state but no manifest')
    const rules = checkManifest(manifest, { baseKey: this.baseKey, strict: false, verified: true })
    if (rules.digest !== state.manifest)
      throw new Error('the manifest in the view does not match its state record')
    this.#adopt(rules)
    return rules
  }

  #adopt(rules: ManifestRules): void {
    if (this.#rules?.digest === rules.digest) return
    this.#rules = rules
    this.#tally = new TallyCache(rules.config, rules.digest)
    this.#verified = new BoundedSet(VERIFIED_MAX)
  }

  /**
   * Whether a message's signature verifies. A reorder applies the same
   * blocks again, on every node; what the signature covers (the entry and the
   * conversation id) and the key it is checked against (the author's signing
   * key, equal to the certified one) are all read from the block or fixed by
   * the rules, so the answer is a pure function of the block's bytes under
   * one set of rules, and a block that verified once is not verified again.
   */
  #signed(ctx: ApplyContext, rules: ManifestRules, entry: MessageEntry): boolean {
    const memo = ctx.block === null ? null : blake2b(ctx.block, 16).toString('base64')
    if (memo !== null && this.#verified.has(memo)) return true
    const { sig, ...unsigned } = entry
    const ok = verifyValue(
      SIGN_CONTEXT.message,
      messageSigned(rules.manifest.id, unsigned),
      sig,
      entry.author.signingKey
    )
    if (ok && memo !== null) this.#verified.add(memo)
    return ok
  }

  /** Runs one entry; throws a coded error to have it skipped. */
  async run(ctx: ApplyContext, value: unknown): Promise<void> {
    const parsed = parseEntry(value)
    if (parsed.type === 'conv/manifest') return this.#manifest(ctx, parsed.entry)
    const state = await ctx.get<StateRecord>(STATE_KEY)
    if (state === null) throw ConversationErrors.CONV_NO_MANIFEST('no manifest yet')
    const rules = await this.rules(ctx, state)
    const appender = await currentWriter(ctx)
    switch (parsed.type) {
      case 'conv/msg':
        return this.#message(ctx, rules, state, appender, parsed.entry)
      case 'conv/writer':
        return applyWriter(ctx, rules, state, parsed.entry, this.baseKey)
      case 'conv/device':
        return applyDevice(ctx, rules, appender, parsed.entry)
      case 'conv/revoke':
        return applyRevoke(ctx, rules, state, parsed.entry)
    }
  }

  async #manifest(ctx: ApplyContext, value: unknown): Promise<void> {
    if ((await ctx.get(STATE_KEY)) !== null) {
      throw ConversationErrors.CONV_MANIFEST_EXISTS('this conversation already has a manifest')
    }
    if (!ctx.writer.equals(this.baseKey)) {
      throw ConversationErrors.CONV_WRONG_WRITER(
        "only the creator's writer (the bootstrap core) appends the manifest"
      )
    }
    const rules = checkManifest(value, { baseKey: this.baseKey, strict: false })
    const { manifest } = rules
    const bootstrap = hex(this.baseKey)
    for (const m of manifest.members) {
      const record: AccountRecord = { indexer: m.accountId === rules.creatorAccount ? bootstrap : null }
      await ctx.put(accountKey(m.accountId), record)
    }
    for (const d of rules.devices.values()) {
      const creator = d.deviceId === manifest.creator.deviceId
      await ctx.put(deviceKey(d.deviceId), {
        accountId: d.accountId,
        signingKey: d.signingKey,
        xwingKey: d.xwingKey,
        certIndexer: d.indexer,
        revoked: false,
        writer: creator ? bootstrap : null,
        addedBy: 'manifest'
      } satisfies DeviceRecord)
    }
    // autobase makes the bootstrap writer the first indexer
    await ctx.put(writerKey(bootstrap), {
      deviceId: manifest.creator.deviceId,
      accountId: rules.creatorAccount,
      indexer: true,
      state: 'current',
      removed: false
    } satisfies WriterRecord)
    await ctx.put(MANIFEST_KEY, manifest)
    const start: StateRecord = {
      v: 1,
      manifest: rules.digest,
      phase: rules.pattern.initialPhase,
      seq: 0,
      inputs: 0,
      chain: '',
      closed: false,
      late: 0,
      indexers: 1,
      hlc: null
    }
    if (ctx.dryRun) return
    this.#adopt(rules)
    const cache = this.#tally!
    start.chain = cache.startChain
    const tally = await cache.take(inputSource(ctx, cache.startChain), 0, start.chain)
    await ctx.put(TALLY_KEY, tallyRecord(tally))
    await ctx.put(STATE_KEY, start)
    cache.commit(tally, 0, start.chain)
  }

  async #message(
    ctx: ApplyContext,
    rules: ManifestRules,
    state: StateRecord,
    appender: WriterRecord,
    entry: MessageEntry
  ): Promise<void> {
    const { author } = entry
    if (!rules.members.has(author.accountId)) {
      throw ConversationErrors.CONV_NOT_MEMBER(`${author.accountId} is not a member`)
    }
    const device = await ctx.get<DeviceRecord>(deviceKey(author.deviceId))
    if (device === null || device.accountId !== author.accountId) {
      throw ConversationErrors.CONV_NOT_MEMBER(
        `${author.deviceId} is not a certified device of ${author.accountId}`
      )
    }
    if (device.revoked) throw ConversationErrors.CONV_DEVICE_REVOKED(`${author.deviceId} is revoked`)
    if (device.signingKey !== author.signingKey) {
      throw ConversationErrors.CONV_BAD_SIGNATURE(
        `the signing key is not the certified key of ${author.deviceId}`
      )
    }
    if (!ctx.ownEntry && !this.#signed(ctx, rules, entry)) {
      throw ConversationErrors.CONV_BAD_SIGNATURE('the message signature does not verify')
    }
    if (appender.deviceId !== author.deviceId) {
      throw ConversationErrors.CONV_WRONG_WRITER(
        `signed by ${author.deviceId}, appended by ${appender.deviceId}`
      )
    }

    const verdict = await checkMessage(rules, state, entry, async (k) => (await ctx.get(k)) !== null)
    if (ctx.dryRun) {
      if (verdict.late) throw ConversationErrors.CONV_CLOSED('the conversation is closed')
      return
    }

    const next: StateRecord = { ...state, hlc: maxHlc(state.hlc, entry.hlc) }
    const listed = verdict.spec.listed !== false
    const seq = state.seq
    if (listed) {
      // the view names the entry; the message stays in the writer core it was appended to
      const record: ListedRecord = { seq, late: verdict.late, writer: hex(ctx.writer), length: ctx.length }
      next.seq = seq + 1
      if (verdict.late) next.late = state.late + 1
      await ctx.put(localMsgKey(seq), record)
      ctx.listed = { seq, late: verdict.late }
    }
    if (verdict.once !== null) await ctx.put(verdict.once, { seq })
    if (verdict.next !== null) next.phase = verdict.next

    if (verdict.tally !== null) {
      const cache = this.#tally!
      const tally = await cache.take(inputSource(ctx, cache.startChain), state.inputs, state.chain)
      const rejected = applyMessage(tally, verdict.tally)
      if (rejected !== null) {
        // checkMessage refuses whatever the tally would, so this is a bug; the tally is not given
        // back to the cache (it counted the rejection), so the next call rebuilds it from the view
        throw ConversationErrors.CONV_BALLOT_INVALID(`the tally refused the message: ${rejected.reason}`, {
          data: { reason: rejected.reason }
        })
      }
      const chain = chainNext(state.chain, verdict.tally)
      await ctx.put(localInputKey(state.inputs), { m: verdict.tally, c: chain } satisfies InputRecord)
      next.inputs = state.inputs + 1
      next.chain = chain
      const result = evaluate(tally.config, tally)
      if (result.reached && !state.closed) {
        closeTally(tally)
        next.closed = true
        await ctx.put(OUTCOME_KEY, {
          winners: [...result.outcome.winners],
          closedBy: listed ? seq : null,
          input: state.inputs,
          reachedAt: tally.logNow,
          outcome: result.outcome
        } satisfies OutcomeRecord)
      }
      await ctx.put(TALLY_KEY, tallyRecord(tally, result))
      await ctx.put(STATE_KEY, next)
      cache.commit(tally, next.inputs, chain)
      return
    }
    await ctx.put(STATE_KEY, next)
  }
}

function maxHlc(a: Hlc | null, b: Hlc): Hlc {
  return a === null || compareHlc(b, a) > 0 ? { wall: b.wall, logical: b.logical } : a
}

function tallyRecord(tally: Tally, result = evaluate(tally.config, tally)): TallyRecord {
  return result.unsupported
    ? { now: tally.logNow, figures: null, unsupported: result.reason }
    : { now: tally.logNow, figures: result.outcome, unsupported: null }
}

function inputSource(ctx: ApplyContext, start: string): InputSource {
  return {
    async chainAt(n) {
      if (n === 0) return start
      return (await inputAt(ctx, n - 1))?.c ?? null
    },
    async *inputs(from, to) {
      if (to <= from) return
      let next = from
      // the stored chunks (each keyed by its last input), then this call's inputs
      for await (const chunk of ctx.range<InputChunk>(inputKey(from), INPUT_END)) {
        for (let i = next - chunk.first; i >= 0 && i < chunk.items.length && next < to; i++, next++) {
          yield chunk.items[i]!
        }
        if (next >= to) return
      }
      if (next < to) yield* ctx.range<InputRecord>(localInputKey(next), localInputKey(to))
    }
  }
}

const INPUT_END = prefixRange(INPUT_PREFIX).lt

/** Tally input `n`: written earlier in this apply call, or in the stored chunk holding it. */
async function inputAt(ctx: ApplyContext, n: number): Promise<InputRecord | null> {
  const local = await ctx.get<InputRecord>(localInputKey(n))
  if (local !== null) return local
  for await (const chunk of ctx.range<InputChunk>(inputKey(n), INPUT_END)) {
    return chunk.first <= n ? (chunk.items[n - chunk.first] ?? null) : null
  }
  return null
}

/**
 * The apply calls' end: this call's listed messages and tally inputs,
 * collected under call-local keys by its entries, become one chunk record
 * each (see MessageChunk, InputChunk).
 */
export async function endApplyCall(view: ViewBatch): Promise<void> {
  const items: ListedRecord[] = []
  for await (const { value } of view.createReadStream(prefixRange(LOCAL_MSG_PREFIX))) {
    items.push(value as ListedRecord)
  }
  if (items.length > 0) await view.put(msgKey(items[items.length - 1]!.seq), { items } satisfies MessageChunk)
  let first = -1
  let last = -1
  const inputs: InputRecord[] = []
  for await (const { key, value } of view.createReadStream(prefixRange(LOCAL_INPUT_PREFIX))) {
    last = numberOfKey(key)
    if (first < 0) first = last
    inputs.push(value as InputRecord)
  }
  if (inputs.length > 0) await view.put(inputKey(last), { first, items: inputs } satisfies InputChunk)
}

/** The entry's writer must be a current writer of a member device; returns its record. */
async function currentWriter(ctx: ApplyContext): Promise<WriterRecord> {
  const record = await ctx.get<WriterRecord>(writerKey(hex(ctx.writer)))
  if (record === null || record.state !== 'current') {
    throw ConversationErrors.CONV_WRONG_WRITER(
      'the entry comes from a writer core no member device holds now'
    )
  }
  return record
}

async function applyWriter(
  ctx: ApplyContext,
  rules: ManifestRules,
  state: StateRecord,
  entry: WriterEntry,
  baseKey: Uint8Array
): Promise<void> {
  const device = await ctx.get<DeviceRecord>(deviceKey(entry.deviceId))
  if (device === null) throw ConversationErrors.CONV_NOT_MEMBER(`${entry.deviceId} is not a member device`)
  if (device.revoked) throw ConversationErrors.CONV_DEVICE_REVOKED(`${entry.deviceId} is revoked`)
  if (
    !verifyValue(SIGN_CONTEXT.writer, writerSigned(rules.manifest.id, entry), entry.sig, device.signingKey)
  ) {
    throw ConversationErrors.CONV_BAD_SIGNATURE('the writer request signature does not verify')
  }
  const core = hex(coreKeyFor(unhex(entry.writerKey)))
  const known = await ctx.get<WriterRecord>(writerKey(core))
  if (known !== null) {
    // the same request relayed twice changes nothing
    if (known.deviceId === entry.deviceId && known.state === 'current') return
    throw ConversationErrors.CONV_WRITER_CONFLICT('this writer key is already used')
  }
  const account = (await ctx.get<AccountRecord>(accountKey(device.accountId))) ?? { indexer: null }
  const next = { ...state }
  const nextAccount = { ...account }
  // a device registering a new writer (e.g. after a recovery) retires its old one
  if (device.writer !== null) {
    const old = (await ctx.get<WriterRecord>(writerKey(device.writer)))!
    // the log's bootstrap core (its creator's first writer) stays in autobase's writer set: removing
    // it was seen to stall finality for good (docs/recovery.md); the writer check refuses it anyway
    const removed = ctx.host.removable(unhex(device.writer)) && device.writer !== hex(baseKey)
    if (removed) ctx.host.removeWriter(unhex(device.writer))
    await ctx.put(writerKey(device.writer), { ...old, state: 'retired', removed } satisfies WriterRecord)
    // the account's indexer place is freed only when the old core leaves the writer set; a kept
    // core keeps it, so the indexer set (and its majority) does not change: a fourth indexer next to
    // a dead one would need every live indexer for a majority (docs/recovery.md)
    if (old.indexer && removed) {
      next.indexers--
      if (account.indexer === device.writer) nextAccount.indexer = null
    }
  }
  const indexer = device.certIndexer && nextAccount.indexer === null && next.indexers < MAX_INDEXERS
  ctx.host.addWriter(unhex(core), { indexer })
  if (indexer) {
    next.indexers++
    nextAccount.indexer = core
  }
  await ctx.put(writerKey(core), {
    deviceId: entry.deviceId,
    accountId: device.accountId,
    indexer,
    state: 'current',
    removed: false
  } satisfies WriterRecord)
  await ctx.put(deviceKey(entry.deviceId), { ...device, writer: core } satisfies DeviceRecord)
  await ctx.put(accountKey(device.accountId), nextAccount)
  await ctx.put(STATE_KEY, next)
}

async function applyDevice(
  ctx: ApplyContext,
  rules: ManifestRules,
  appender: WriterRecord,
  entry: DeviceEntry
): Promise<void> {
  const member = rules.members.get(entry.accountId)
  if (!member) throw ConversationErrors.CONV_NOT_MEMBER(`${entry.accountId} is not a member`)
  if (appender.accountId !== entry.accountId) {
    throw ConversationErrors.CONV_FORBIDDEN("only the member's own devices add its devices")
  }
  const device = checkCertificate(member.rootPublic, entry.accountId, entry.device)
  if ('refused' in device) throw ConversationErrors.CONV_NOT_MEMBER(`device certificate: ${device.refused}`)
  if ((await ctx.get(deviceKey(device.deviceId))) !== null) {
    throw ConversationErrors.CONV_DEVICE_EXISTS(`${device.deviceId} is already a device of this conversation`)
  }
  await ctx.put(deviceKey(device.deviceId), {
    accountId: device.accountId,
    signingKey: device.signingKey,
    xwingKey: device.xwingKey,
    certIndexer: device.indexer,
    revoked: false,
    writer: null,
    addedBy: appender.deviceId
  } satisfies DeviceRecord)
  await ctx.put(sealedKey(device.deviceId), {
    accountId: device.accountId,
    sealedKey: entry.sealedKey,
    by: appender.deviceId
  } satisfies SealedKeyRecord)
}

async function applyRevoke(
  ctx: ApplyContext,
  rules: ManifestRules,
  state: StateRecord,
  entry: RevokeEntry
): Promise<void> {
  const member = rules.members.get(entry.accountId)
  if (!member) throw ConversationErrors.CONV_NOT_MEMBER(`${entry.accountId} is not a member`)
  const checked = checkRevocation(member.rootPublic, entry.accountId, entry.revocation)
  if ('refused' in checked) throw ConversationErrors.CONV_NOT_MEMBER(`revocation: ${checked.refused}`)
  const device = await ctx.get<DeviceRecord>(deviceKey(checked.deviceId))
  if (device === null || device.accountId !== entry.accountId) {
    throw ConversationErrors.CONV_NOT_MEMBER(`${checked.deviceId} is not a device of ${entry.accountId} here`)
  }
  if (device.revoked) throw ConversationErrors.CONV_DEVICE_REVOKED(`${checked.deviceId} is already revoked`)
  await ctx.put(deviceKey(checked.deviceId), { ...device, revoked: true } satisfies DeviceRecord)
  if (device.writer === null) return
  const old = (await ctx.get<WriterRecord>(writerKey(device.writer)))!
  // autobase refuses to remove its last indexer: that core then stays, but the writer check refuses it
  const removed = ctx.host.removable(unhex(device.writer))
  if (removed) ctx.host.removeWriter(unhex(device.writer))
  await ctx.put(writerKey(device.writer), { ...old, state: 'revoked', removed } satisfies WriterRecord)
  if (old.indexer && removed) {
    const account = (await ctx.get<AccountRecord>(accountKey(device.accountId))) ?? { indexer: null }
    if (account.indexer === device.writer) await ctx.put(accountKey(device.accountId), { indexer: null })
    await ctx.put(STATE_KEY, { ...state, indexers: state.indexers - 1 } satisfies StateRecord)
  }
}
