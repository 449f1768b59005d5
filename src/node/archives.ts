import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { z } from 'zod'
import { type ArchiveRecord, type Cluster, type DeviceRecord } from '../../cluster/index.js'
import { ArchiveOpener } from '../../archive/open.js'
import { sealArchiveChunks } from '../../archive/seal.js'
import { archiveIdFor, holderHash } from '../../archive/format.js'
import {
  decodeIndexEntry,
  encodeIndexEntry,
  indexEntryContext,
  openIndexEntry,
  sealIndexEntry
} from '../../archive/index-entry.js'
import { type Envelope, envelopeFor, type LayerContext, peelInner, peelOuter } from '../../archive/layers.js'
import {
  decodeTranscript,
  encodeTranscript,
  type OpenTranscript,
  type TranscriptMessage,
  TRANSCRIPT_VERSION,
  type UnsignedTranscript
} from '../../archive/transcript.js'
import { verifyMessageRecord, type Conversation, type MessageRecord } from '../../conversations/index.js'
import { labelledHash } from '../kernel/crypto/hash.js'
import { xwingPublicKeyFromSecret } from '../kernel/crypto/xwing.js'
import { isConclaveError } from '../kernel/errors.js'
import { hex, hexSchema, unhex } from '../kernel/encoding.js'
import { Rerun, Resource } from '../kernel/lifecycle.js'
import type { Logger } from '../kernel/log.js'
import type { LoadedIdentity } from '../kernel/identity/home-store.js'
import type { Ack, AckOptions } from './durability.js'
import { NodeErrors } from './errors.js'
import { bodyText } from './message-text.js'
import type {
  ArchiveMessagesPage,
  ArchiveOpenProgress,
  ArchiveSummary,
  OpenedArchiveSummary
} from './node-api.js'

/**
 * The node's side of archives (docs/archive.md): seals a closed conversation
 * into an archive core, records it in the cluster view, keeps a full copy of
 * every recorded archive on every own device (relays included), and opens an
 * archive with the other holder's help over `conclave/archive/v1`.
 */

export const ARCHIVE_PROTOCOL = 'conclave/archive/v1'
/** How often closed conversations are looked for and recorded archives fetched. */
const CHECK_MS = 2000
/** How long an open waits for the other holder to be connected and to answer. */
const DEFAULT_PEEL_WAIT_MS = 15_000
/** Blocks appended per batch when writing an archive core. */
const APPEND_BATCH = 64
/** Topics longer than this (UTF-8 bytes) are cut in the archive title. */
const TITLE_TOPIC_BYTES = 800

const PeelRequestSchema = z
  .object({
    type: z.literal('peel'),
    v: z.literal(1),
    id: z.number().int().min(0),
    archive: hexSchema(32),
    purpose: z.enum(['key', 'index']),
    innerHolder: z.union([z.literal(0), z.literal(1)]),
    holders: z.tuple([hexSchema(32), hexSchema(32)]),
    index: hexSchema()
      .min(2)
      .max(64 * 1024)
      .optional(),
    sealed: hexSchema().min(2).max(16_384)
  })
  .strict()
const PeelReplySchema = z
  .object({
    type: z.literal('peeled'),
    v: z.literal(1),
    id: z.number().int().min(0),
    ok: z.boolean(),
    inner: hexSchema().max(16_384).optional(),
    code: z.string().max(64).optional()
  })
  .strict()
type PeelReply = z.infer<typeof PeelReplySchema>

export interface ArchiveManagerComponents {
  store: Corestore
  cluster: Cluster
  identity: LoadedIdentity
  log: Logger
  now: () => number
  /** Whether this device has the access role (only access devices archive and open). */
  access: boolean
  /** A conversation with no message for this long is archived even if open; 0 = only closed ones. */
  idleMs: number
  /** The conversations open on this device, with their ids. */
  conversations: () => Array<{ id: string; conv: Conversation }>
  acknowledge: (core: Hypercore<unknown>, length: number, opts: AckOptions) => Promise<Ack>
  /** How long an opened archive is kept readable after its last use (default 15 min). */
  openTtlMs?: number
}

export interface OpenEntry {
  opened: OpenedArchive
  lastUsed: number
  /** The last search and its matching message indexes. */
  search: { q: string; matches: number[] } | null
}

/** One recorded archive as `archive list` shows it. */
export type ArchiveListing = ArchiveSummary

export interface OpenedArchive {
  id: string
  title: string
  transcript: OpenTranscript
}

/** How long an opened archive stays readable in memory after its last use. */
export const DEFAULT_OPEN_TTL_MS = 15 * 60_000
/** At most this many messages in one page. */
export const MAX_PAGE = 500

/** A holder: an own device, or a friend's (then `accountId` is the friend's). */
export interface Holder {
  deviceId: string
  device: number
  xwingKey: string
  signingKey: string
  accountId?: string
}

function describe(h: Holder): string {
  return `${h.accountId ? `device ${h.device} of friend ${h.accountId}` : `device ${h.device}`} (${h.deviceId})`
}

/** An open in progress (`GET /api/archives/:id/progress`). */
export type OpenProgress = ArchiveOpenProgress

interface PeerChannel {
  publicKey: string
  send(m: unknown): void
}

/** The title an archive of a conversation gets: what its id is the keyed hash of. */
/** What a search looks in: the kind, the author's device and the body's text. */
function searchText(m: TranscriptMessage): string {
  return `${m.kind} ${m.author.deviceId} ${bodyText(m.body)}`.toLowerCase()
}

export function archiveTitle(conversationId: string, topic: string): string {
  let t = topic.normalize('NFC')
  while (Buffer.byteLength(t, 'utf8') > TITLE_TOPIC_BYTES) t = t.slice(0, -1)
  return `${t} (${conversationId})`
}

export class ArchiveManager extends Resource {
  readonly #c: ArchiveManagerComponents
  readonly #cores = new Map<string, Hypercore<unknown>>()
  readonly #peers = new Map<string, PeerChannel>()
  readonly #pending = new Map<number, (r: PeerReplyOrGone) => void>()
  readonly #archiving = new Set<string>()
  /** Conversations found not to be ours to archive, or archived: not looked at again. */
  readonly #done = new Set<string>()
  /** Opens in progress, by archive id: what `archive open` shows while it waits. */
  readonly #opening = new Map<string, OpenProgress>()
  /** Opened archives, readable page by page until unused for `openTtlMs` (docs/archive.md §11). */
  readonly #opened = new Map<string, OpenEntry>()
  /**
   * Per open conversation not ready to archive: its view's `signedLength/length` and its last
   * message time when last looked at; an unchanged view is not read again until the idle age.
   */
  readonly #looked = new Map<string, { state: string; lastWall: number }>()
  /** Account-wide: archive ids are keyed hashes of titles under it (docs/archive.md §11). */
  readonly #indexKey: Buffer
  /** Null on a relay-only device: it keeps the public key only. */
  readonly #xwingSecretKey: Buffer | null
  readonly #xwingPublic: Buffer
  readonly #checks: Rerun
  #nextId = 1
  #timer: NodeJS.Timeout | null = null

  constructor(components: ArchiveManagerComponents) {
    super()
    this.#c = components
    const { secrets } = components.identity
    this.#indexKey = labelledHash('conclave/v1/archive-index', [unhex(secrets.cluster.encryptionKey)])
    const { xwingSecretKey, xwingPublicKey } = secrets.device
    this.#xwingSecretKey = xwingSecretKey === undefined ? null : unhex(xwingSecretKey)
    this.#xwingPublic = this.#xwingSecretKey
      ? xwingPublicKeyFromSecret(this.#xwingSecretKey)
      : unhex(xwingPublicKey!)
    this.#checks = new Rerun(
      () => this.#check(),
      () => this.closing !== null
    )
  }

  /** The X-Wing secret key; a relay has none and so opens and peels nothing. */
  #xwingSecret(): Buffer {
    if (this.#xwingSecretKey) return this.#xwingSecretKey
    throw NodeErrors.NODE_ARCHIVE_NOT_HOLDER(
      'this device is a relay: it keeps public keys only and opens no archive'
    )
  }

  protected override async _open(): Promise<void> {
    this.#timer = setInterval(() => {
      this.#expire()
      void this.check()
    }, CHECK_MS)
    this.#timer.unref()
  }

  /** Forgets opened archives unused for longer than `openTtlMs`. */
  #expire(): void {
    const ttl = this.#c.openTtlMs ?? DEFAULT_OPEN_TTL_MS
    const now = Date.now()
    for (const [id, e] of this.#opened) if (now - e.lastUsed > ttl) this.#opened.delete(id)
  }

  protected override async _close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#opened.clear()
    await this.#checks.idle.catch(() => {})
    for (const resolve of this.#pending.values()) resolve(null)
    this.#pending.clear()
    for (const core of this.#cores.values()) await core.close().catch(() => {})
    this.#cores.clear()
  }

  /** One round: archive what closed, fetch what was recorded. One at a time; asked again meanwhile, once more. */
  check(): Promise<void> {
    if (this.closing) return Promise.resolve()
    return this.#checks.trigger()
  }

  async #check(): Promise<void> {
    try {
      for (const r of await this.#c.cluster.archives()) {
        if (this.closing) return
        await this.#fetch(r)
        this.#done.add(r.conversationId)
      }
      if (!this.#c.access) return
      for (const { id, conv } of this.#c.conversations()) {
        if (this.closing) return
        if (this.#done.has(id) || this.#archiving.has(id)) continue
        await this.#maybeArchive(id, conv)
      }
    } catch (err) {
      if (!this.closing) this.#c.log.debug('archive check failed', { err: err as Error })
    }
  }

  /** Opens a recorded archive's core and downloads all of it (every own device keeps a copy). */
  async #fetch(r: ArchiveRecord): Promise<Hypercore<unknown>> {
    let core = this.#cores.get(r.core)
    if (!core) {
      core = this.#c.store.get({ key: unhex(r.core) })
      this.#cores.set(r.core, core)
      await core.ready()
      core.download({ start: 0, end: -1 })
    }
    return core
  }

  /**
   * Archives a conversation once it is closed with a final outcome (or has
   * had no message for the idle age: a snapshot, archived once), if this
   * device is the one to: the own access device with the lowest index that
   * writes in it. Holders: this device and the lowest-index other access device.
   */
  async #maybeArchive(id: string, conv: Conversation): Promise<void> {
    const { signedLength, length } = conv.base.view.core
    const state = `${signedLength}/${length}`
    const idleMs = this.#c.idleMs
    const looked = this.#looked.get(id)
    if (looked?.state === state && (idleMs <= 0 || this.#c.now() - looked.lastWall < idleMs)) return
    const s = await conv.show({ limit: 0 })
    if (!s.closed || s.outcome?.state !== 'final') {
      const last = s.total > 0 ? (await conv.show({ offset: s.total - 1, limit: 1 })).messages[0] : undefined
      const lastWall = last?.hlc.wall ?? s.createdAt
      this.#looked.set(id, { state, lastWall })
      if (idleMs <= 0 || this.#c.now() - lastWall < idleMs) return
    }
    this.#looked.delete(id)
    const devices = await this.#c.cluster.devices()
    const access = devices.filter((d) => !d.revoked && d.roles.includes('access'))
    const own = s.members.find((m) => m.accountId === this.#c.identity.identity.accountId)
    const writers = new Set(own?.devices.filter((d) => d.writer && !d.revoked).map((d) => d.deviceId) ?? [])
    const archiver = access.filter((d) => writers.has(d.deviceId)).sort((a, b) => a.device - b.device)[0]
    const self = this.#c.identity.identity.deviceId
    if (!archiver || archiver.deviceId !== self) {
      if (archiver) this.#done.add(id)
      return
    }
    const me = access.find((d) => d.deviceId === self)!
    let other: Holder | undefined = access
      .filter((d) => d.deviceId !== self)
      .sort((a, b) => a.device - b.device)[0]
    let friend: string | undefined
    if (!other) {
      // one own access device: a friend in the conversation holds the other key
      const friends = await this.#c.cluster.friends()
      const members = s.members.map((m) => m.accountId).sort()
      for (const accountId of members) {
        const f = friends.find((x) => x.accountId === accountId)
        const d = f?.devices.filter((x) => x.roles.includes('access')).sort((a, b) => a.device - b.device)[0]
        if (d) {
          other = d
          friend = accountId
          break
        }
      }
    }
    if (!other) return // nobody to seal the second layer to yet (docs/archive.md)
    this.#archiving.add(id)
    try {
      await this.archive(id, conv, [me, other], friend)
      this.#done.add(id)
    } catch (err) {
      if (isConclaveError(err) && err.code === 'CLUSTER_ARCHIVE_EXISTS') this.#done.add(id)
      else this.#c.log.warn('archiving failed', { id, err: err as Error })
    } finally {
      this.#archiving.delete(id)
    }
  }

  /** Seals a conversation's transcript to two holders, writes its core and records it. */
  async archive(
    id: string,
    conv: Conversation,
    holders: [Holder, Holder],
    friend?: string
  ): Promise<ArchiveRecord> {
    const { identity, secrets } = this.#c.identity
    const transcript = await this.#transcript(conv)
    const signingSecret = unhex(secrets.device.signingSecretKey)
    const bytes = encodeTranscript(transcript, signingSecret)
    const title = archiveTitle(id, transcript.conversation.topic)
    const archiveId = archiveIdFor(this.#indexKey, title)
    const keys: [Buffer, Buffer] = [unhex(holders[0].xwingKey), unhex(holders[1].xwingKey)]
    const sealed = sealArchiveChunks({ archiveId, transcript: bytes, holders: keys })
    const core = this.#c.store.get({ name: `conclave/archive/${hex(archiveId)}` })
    await core.ready()
    if (core.length === 0) {
      let batch: Buffer[] = []
      for (const block of sealed.chunks) {
        batch.push(Buffer.from(block))
        if (batch.length === APPEND_BATCH) {
          await core.append(batch)
          batch = []
        }
      }
      if (batch.length) await core.append(batch)
    }
    this.#cores.set(hex(core.key), core)
    const createdAt = this.#c.now()
    const index = sealIndexEntry({
      indexKey: this.#indexKey,
      title,
      archive: sealed.header,
      holders: keys,
      deviceIds: [holders[0].deviceId, holders[1].deviceId],
      createdAt,
      conversationId: id
    })
    const record: ArchiveRecord = {
      id: hex(archiveId),
      conversationId: id,
      core: hex(core.key),
      blocks: core.length,
      size: sealed.encodedBytes,
      holders: [holders[0].deviceId, holders[1].deviceId],
      index: hex(encodeIndexEntry(index)),
      createdAt,
      by: identity.deviceId,
      ...(friend !== undefined ? { friend } : {})
    }
    await this.#c.cluster.recordArchive(record)
    this.#c.log.info('conversation archived', { id, archive: record.id, bytes: record.size })
    const ack = await this.#c.acknowledge(core, core.length, {})
    if (!ack.durable) this.#c.log.warn('archive not yet on two nodes', { archive: record.id })
    return record
  }

  async #transcript(conv: Conversation): Promise<UnsignedTranscript> {
    const { identity, secrets } = this.#c.identity
    const head = await conv.show({ limit: 0 })
    const messages: MessageRecord[] = []
    while (messages.length < head.total) {
      const page = await conv.show({ offset: messages.length, limit: 1000 })
      if (page.messages.length === 0) break
      messages.push(...page.messages)
    }
    const lengths = new Map<string, number>()
    for (const m of messages) lengths.set(m.writer, Math.max(lengths.get(m.writer) ?? 0, m.length))
    const roots: UnsignedTranscript['roots'] = []
    for (const [key, length] of [...lengths].sort((a, b) => a[0].localeCompare(b[0]))) {
      const core = this.#c.store.get({ key: unhex(key) })
      try {
        await core.ready()
        roots.push({ core: key, length, treeHash: hex(await core.treeHash(length)) })
      } finally {
        await core.close()
      }
    }
    const signingSecret = unhex(secrets.device.signingSecretKey)
    return {
      v: TRANSCRIPT_VERSION,
      conversation: {
        id: head.id,
        topic: head.topic,
        pattern: head.pattern,
        consensus: head.consensus,
        options: head.options,
        deadline: head.deadline,
        createdAt: head.createdAt,
        creator: head.creator,
        members: head.members.map((m) => ({
          accountId: m.accountId,
          devices: m.devices.map((d) => d.deviceId)
        }))
      },
      messages: messages.map((m) => ({ ...m })),
      tally: head.tally,
      outcome: head.outcome
        ? {
            winners: head.outcome.winners,
            closedBy: head.outcome.closedBy,
            reachedAt: head.outcome.reachedAt
          }
        : null,
      roots,
      archivedAt: this.#c.now(),
      archivedBy: { deviceId: identity.deviceId, signingKey: hex(signingSecret.subarray(32)) }
    }
  }

  async list(): Promise<ArchiveListing[]> {
    const out: ArchiveListing[] = []
    for (const r of await this.#c.cluster.archives()) {
      out.push({
        id: r.id,
        conversationId: r.conversationId,
        holders: r.holders,
        size: r.size,
        blocks: r.blocks,
        createdAt: r.createdAt,
        by: r.by,
        local: this.#cores.get(r.core)?.contiguousLength ?? 0
      })
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  /**
   * Opens an archive with the other holder's help: reads the archive core,
   * asks the other holder to peel the outer layer of the envelope whose
   * inner layer is this device's, peels the inner one, decrypts and checks
   * the transcript; the title comes the same way from the index entry.
   */
  async #openFresh(id: string, opts: { waitMs?: number }): Promise<OpenedArchive> {
    const waitMs = opts.waitMs ?? DEFAULT_PEEL_WAIT_MS
    const r = await this.#c.cluster.getArchive(id)
    if (!r) throw NodeErrors.NODE_ARCHIVE_UNKNOWN(`no archive ${id}`)
    const self = this.#c.identity.identity.deviceId
    const at = r.holders.indexOf(self)
    if (at === -1) {
      throw NodeErrors.NODE_ARCHIVE_NOT_HOLDER(
        `this device is not a holder of archive ${id}: open it on ${r.holders[0]} or ${r.holders[1]}`
      )
    }
    const otherId = r.holders[1 - at]!
    const other = await this.#holder(r, otherId)
    if (!other) {
      throw NodeErrors.NODE_ARCHIVE_HOLDER_OFFLINE(
        `the other holder ${otherId} is no longer a device of the account or of friend ${r.friend ?? '—'}`
      )
    }
    const entry = decodeIndexEntry(unhex(r.index))

    const core = await this.#fetch(r)
    const opener = new ArchiveOpener({ archiveId: unhex(r.id), headerDigest: entry.headerDigest })
    const progress: OpenProgress = {
      phase: 'reading',
      waitingFor: null,
      bytes: { done: 0, total: r.size },
      blocks: { done: 0, total: r.blocks }
    }
    const phase = (p: OpenProgress['phase'], waitingFor: string | null = null) => {
      progress.phase = p
      progress.waitingFor = waitingFor
    }
    const read = async (index: number) => {
      opener.push(await this.#block(core, index, waitMs))
      progress.blocks.done = index + 1
      progress.bytes.done = opener.progress.receivedBytes
    }
    const holders: [string, string] = [hex(entry.holders[0].keyHash), hex(entry.holders[1].keyHash)]
    this.#opening.set(r.id, progress)
    try {
      let i = 0
      while (!opener.header && i < r.blocks) await read(i++)
      const header = opener.header
      if (!header) throw NodeErrors.NODE_ARCHIVE_INCOMPLETE(`archive ${id} ends before its header`)
      const keyCtx = opener.context()
      phase('waiting', describe(other))
      const inner = await this.#askPeel(
        other,
        r,
        holders,
        'key',
        envelopeFor(header.envelopes, keyCtx, this.#xwingPublic),
        waitMs
      )
      const dataKey = peelInner(inner, this.#xwingSecret(), keyCtx)
      opener.unlock(dataKey)
      dataKey.fill(0)
      phase('decrypting')
      while (i < r.blocks) await read(i++)
      const bytes = opener.end()

      phase('waiting', describe(other))
      const indexCtx = indexEntryContext(entry)
      const titleEnvelope = envelopeFor(entry.envelopes, indexCtx, this.#xwingPublic)
      const titleInner = await this.#askPeel(other, r, holders, 'index', titleEnvelope, waitMs)
      const { title } = openIndexEntry(entry, titleInner, this.#xwingSecret(), this.#indexKey)

      phase('verifying')
      const devices = await this.#c.cluster.devices()
      const transcript = decodeTranscript(bytes, {
        conversationId: r.conversationId,
        isOwnDevice: (deviceId, key) => devices.some((d) => d.deviceId === deviceId && d.signingKey === key),
        verifyMessage: (cid, m) => verifyMessageRecord(cid, m as MessageRecord)
      })
      return { id: r.id, title, transcript }
    } finally {
      this.#opening.delete(r.id)
    }
  }

  /**
   * Opens an archive with the other holder (every time: an open never comes
   * from memory) and keeps it readable page by page until unused for
   * `openTtlMs` (`messages`); every message is checked in the background. With `all`, waits until every message is
   * checked and returns them all (`archive open` on the command line).
   */
  async open(id: string, opts: { waitMs?: number; all?: boolean } = {}): Promise<OpenedArchiveSummary> {
    const entry = this.keepOpen(await this.#openFresh(id, opts))
    const { transcript, title } = entry.opened
    if (opts.all) {
      const full = transcript.full()
      return { id, title, count: transcript.count, verified: transcript.verified, transcript: full }
    }
    return {
      id,
      title,
      count: transcript.count,
      verified: transcript.verified,
      transcript: transcript.header
    }
  }

  /**
   * Keeps an opened archive readable page by page until unused for
   * `openTtlMs`, and checks every message's signature in the background
   * (`verify: false` leaves each to be checked when read); one whose check
   * fails is forgotten.
   */
  keepOpen(opened: OpenedArchive, opts: { verify?: boolean } = {}): OpenEntry {
    const id = opened.id
    const entry: OpenEntry = { opened, lastUsed: Date.now(), search: null }
    this.#opened.set(id, entry)
    if (opts.verify === false) return entry
    const t = opened.transcript
    const started = Date.now()
    t.verifyAll({ stop: () => this.closing !== null || this.#opened.get(id) !== entry }).then(
      () =>
        this.#c.log.info('archive messages checked', {
          archive: id,
          count: t.count,
          ms: Date.now() - started
        }),
      (err: unknown) => {
        if (this.#opened.get(id) === entry) this.#opened.delete(id)
        this.#c.log.warn('archive message check failed', { archive: id, error: String(err) })
      }
    )
    return entry
  }

  /** Forgets an opened archive's plaintext now (`POST /api/archives/:id/close`); whether it was open. */
  forget(id: string): boolean {
    return this.#opened.delete(id)
  }

  /**
   * A page of an open archive's messages, each checked before it is
   * returned; with `q`, of the messages whose kind, author or text holds it
   * (case-insensitive).
   */
  messages(id: string, opts: { offset?: number; limit?: number; q?: string } = {}): ArchiveMessagesPage {
    const entry = this.#opened.get(id)
    if (!entry)
      throw NodeErrors.NODE_ARCHIVE_NOT_OPEN(`archive ${id} is not open on this device: open it first`)
    entry.lastUsed = Date.now()
    const t = entry.opened.transcript
    const offset = Math.max(0, opts.offset ?? 0)
    const limit = Math.min(MAX_PAGE, Math.max(0, opts.limit ?? 50))
    const q = (opts.q ?? '').trim().toLowerCase()
    let indexes: ArrayLike<number> | null = null
    if (q) {
      if (entry.search?.q !== q) {
        const matches: number[] = []
        for (let i = 0; i < t.count; i++) if (searchText(t.parse(i)).includes(q)) matches.push(i)
        entry.search = { q, matches }
      }
      indexes = entry.search.matches
    }
    const total = indexes ? indexes.length : t.count
    const messages: ArchiveMessagesPage['messages'] = []
    for (let k = offset; k < Math.min(total, offset + limit); k++) {
      const index = indexes ? indexes[k]! : k
      messages.push({ ...t.message(index), index })
    }
    return { id, offset, total, count: t.count, verified: t.verified, messages }
  }

  /** Where an open of `id` stands, or null when none runs. */
  openProgress(id: string): OpenProgress | null {
    const p = this.#opening.get(id)
    return p ? structuredClone(p) : null
  }

  async #block(core: Hypercore<unknown>, index: number, waitMs: number): Promise<Buffer> {
    try {
      const block = (await core.get(index, { timeout: waitMs })) as Buffer | null
      if (block) return block
    } catch (err) {
      throw NodeErrors.NODE_ARCHIVE_INCOMPLETE(
        `block ${index} of the archive is not here and no peer sent it`,
        {
          cause: err
        }
      )
    }
    throw NodeErrors.NODE_ARCHIVE_INCOMPLETE(`block ${index} of the archive is not here`)
  }

  /** Sends a peel request to the other holder and waits for its answer. */
  async #askPeel(
    other: Holder,
    r: ArchiveRecord,
    holders: [string, string],
    purpose: 'key' | 'index',
    envelope: Envelope,
    waitMs: number
  ): Promise<Buffer> {
    const deadline = Date.now() + waitMs
    let peer = this.#peers.get(other.signingKey)
    while (!peer && Date.now() < deadline && !this.closing) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      peer = this.#peers.get(other.signingKey)
    }
    if (!peer) {
      throw NodeErrors.NODE_ARCHIVE_HOLDER_OFFLINE(
        `waiting for ${describe(other)}, the other holder: it is not connected`,
        { data: { waitingFor: other.deviceId } }
      )
    }
    const id = this.#nextId++
    const reply = new Promise<PeerReplyOrGone>((resolve) => {
      this.#pending.set(id, resolve)
      setTimeout(() => resolve(null), Math.max(1000, deadline - Date.now())).unref()
    })
    // what a friend's device needs to peel without our cluster view: the holders and the public index entry
    peer.send({
      type: 'peel',
      v: 1,
      id,
      archive: r.id,
      purpose,
      innerHolder: envelope.innerHolder,
      sealed: hex(envelope.sealed),
      holders,
      ...(purpose === 'index' ? { index: r.index } : {})
    })
    const answer = await reply
    this.#pending.delete(id)
    if (answer === null) {
      throw NodeErrors.NODE_ARCHIVE_HOLDER_OFFLINE(
        `waiting for ${describe(other)}, the other holder: no answer`,
        { data: { waitingFor: other.deviceId } }
      )
    }
    if (!answer.ok || !answer.inner) {
      throw NodeErrors.NODE_ARCHIVE_REFUSED(
        `device ${other.deviceId} refused to peel: ${answer.code ?? 'refused'}`
      )
    }
    return unhex(answer.inner)
  }

  /** Opens the archive channel on an admitted connection (requests from non-devices are refused). */
  attach(conn: { remotePublicKey: Buffer | null }): void {
    const remote = conn.remotePublicKey
    // the firewall admitted it; who may ask what is checked per request (the cluster view may
    // not know a new device yet when its connection arrives)
    if (!remote) return
    const publicKey = hex(remote)
    const mux = Protomux.from(conn as never)
    const channel = mux.createChannel({
      protocol: ARCHIVE_PROTOCOL,
      // usable once both ends opened it
      onopen: () => {
        this.#peers.set(publicKey, peer)
      },
      onclose: () => {
        if (this.#peers.get(publicKey) === peer) this.#peers.delete(publicKey)
      }
    })
    if (!channel) return
    const message = channel.addMessage({
      encoding: c.json,
      onmessage: (m: unknown) => {
        void this.#onMessage(peer, m).catch((err: Error) =>
          this.#c.log.debug('archive message refused', { err })
        )
      }
    })
    const peer: PeerChannel = { publicKey, send: (m) => message.send(m) }
    channel.open()
  }

  async #onMessage(peer: PeerChannel, m: unknown): Promise<void> {
    const reply = PeelReplySchema.safeParse(m)
    if (reply.success) {
      this.#pending.get(reply.data.id)?.(reply.data)
      return
    }
    const req = PeelRequestSchema.safeParse(m)
    if (!req.success) return
    const answer = (ok: boolean, extra: { inner?: string; code?: string }) =>
      peer.send({ type: 'peeled', v: 1, id: req.data.id, ok, ...extra })
    try {
      const inner = await this.#peelFor(peer, req.data)
      answer(true, { inner: hex(inner) })
    } catch (err) {
      answer(false, { code: isConclaveError(err) ? err.code : 'NODE_ARCHIVE_REFUSED' })
    }
  }

  /**
   * The helping side: peels the outer layer for a current, unrevoked own
   * device that is the other holder of the archive, and only the envelope
   * whose inner layer is that device's.
   */
  async #peelFor(peer: PeerChannel, req: z.infer<typeof PeelRequestSchema>): Promise<Buffer> {
    if (!this.#c.access) throw NodeErrors.NODE_ARCHIVE_REFUSED('this device holds no archive keys')
    const key = unhex(peer.publicKey)
    const asking = this.#c.cluster.deviceBySigningKey(key)
    if (asking && !asking.revoked) return this.#peelForOwn(asking, req)
    const friend = this.#c.cluster.friendBySigningKey(key)
    if (!friend) {
      throw NodeErrors.NODE_ARCHIVE_REFUSED(
        'the asking device is not a current device of the account or of a friend'
      )
    }
    // a friend's archive: its record lives in the friend's cluster, so the request carries the
    // public parts; the layers only open under them if they are the archive's
    const card = (await this.#c.cluster.friends()).find((f) => f.accountId === friend.accountId)
    const device = card?.devices.find((d) => d.deviceId === friend.deviceId)
    if (!device || !device.roles.includes('access')) {
      throw NodeErrors.NODE_ARCHIVE_REFUSED('the asking device is not an access device on its account card')
    }
    const mine = hex(holderHash(this.#xwingPublic))
    const askingHash = hex(holderHash(unhex(device.xwingKey)))
    const askingAt = req.holders.indexOf(askingHash)
    if (askingAt === -1 || req.holders[1 - askingAt] !== mine || req.innerHolder !== askingAt) {
      throw NodeErrors.NODE_ARCHIVE_REFUSED(
        "only an envelope of the asking device and this one, with the asking device's inner layer, is peeled"
      )
    }
    const holders: [Buffer, Buffer] = [unhex(req.holders[0]), unhex(req.holders[1])]
    let ctx: LayerContext
    if (req.purpose === 'key') ctx = { purpose: 'key', archiveId: unhex(req.archive), holders }
    else {
      if (!req.index) throw NodeErrors.NODE_ARCHIVE_REFUSED('an index peel carries the public index entry')
      const entry = decodeIndexEntry(unhex(req.index))
      if (
        hex(entry.archiveId) !== req.archive ||
        entry.holders.some((h, i) => !h.keyHash.equals(holders[i]!))
      ) {
        throw NodeErrors.NODE_ARCHIVE_REFUSED('the index entry is not of that archive and these holders')
      }
      ctx = indexEntryContext(entry)
    }
    return this.#peelOuterFor(req, ctx, friend.deviceId)
  }

  async #peelForOwn(asking: DeviceRecord, req: z.infer<typeof PeelRequestSchema>): Promise<Buffer> {
    const r = await this.#c.cluster.getArchive(req.archive)
    if (!r) throw NodeErrors.NODE_ARCHIVE_UNKNOWN(`no archive ${req.archive}`)
    const self = this.#c.identity.identity.deviceId
    const askingAt = r.holders.indexOf(asking.deviceId)
    if (askingAt === -1 || r.holders[1 - askingAt] !== self) {
      throw NodeErrors.NODE_ARCHIVE_REFUSED(
        'the asking device and this one are not the holders of that archive'
      )
    }
    const entry = decodeIndexEntry(unhex(r.index))
    const ctx: LayerContext =
      req.purpose === 'key'
        ? {
            purpose: 'key',
            archiveId: unhex(r.id),
            holders: [entry.holders[0].keyHash, entry.holders[1].keyHash]
          }
        : indexEntryContext(entry)
    if (req.innerHolder !== askingAt) {
      throw NodeErrors.NODE_ARCHIVE_REFUSED(
        "only the envelope whose inner layer is the asking device's is peeled"
      )
    }
    return this.#peelOuterFor(req, ctx, asking.deviceId)
  }

  #peelOuterFor(req: z.infer<typeof PeelRequestSchema>, ctx: LayerContext, forDevice: string): Buffer {
    const inner = peelOuter(
      { innerHolder: req.innerHolder, sealed: unhex(req.sealed) },
      this.#xwingSecret(),
      ctx
    )
    this.#c.log.info('peeled an archive layer for another holder', { archive: req.archive, for: forDevice })
    return inner
  }

  /** The other holder of an archive: a current own device, or a device on the named friend's card. */
  async #holder(r: ArchiveRecord, deviceId: string): Promise<Holder | null> {
    const own = (await this.#c.cluster.devices()).find((d) => d.deviceId === deviceId)
    if (own) return own.revoked ? null : own
    if (r.friend === undefined || r.holders[1] !== deviceId) return null
    const card = (await this.#c.cluster.friends()).find((f) => f.accountId === r.friend)
    const d = card?.devices.find((x) => x.deviceId === deviceId)
    return d ? { ...d, accountId: r.friend } : null
  }
}

type PeerReplyOrGone = PeelReply | null
