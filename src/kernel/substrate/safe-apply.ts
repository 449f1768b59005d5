import type Autobase from 'autobase'
import type Hyperbee from 'hyperbee'
import { isConclaveError } from '../errors.js'
import type { EntryCodec } from './codec.js'
import type { SubstrateErrors } from './errors.js'

/** The codes the substrate itself records in skip records (all registered in SubstrateErrors). */
export type SkipCode = keyof Pick<
  typeof SubstrateErrors,
  'SUBSTRATE_UNDECODABLE' | 'SUBSTRATE_APPLY_FAILED' | 'SUBSTRATE_MEMBERSHIP_REFUSED'
>

/** The hyperbee view every substrate base keeps: utf-8 keys, JSON values. */
export type View = Hyperbee<string, unknown>
/**
 * What an apply handler reads and writes through: the view as the entries
 * before it in this apply call left it, plus the handler's own writes, which
 * are kept only if the handler succeeds. Values are JSON.
 */
export interface ViewBatch {
  get(key: string): Promise<{ key: string; value: unknown } | null>
  put(key: string, value: unknown): Promise<void>
  del(key: string): Promise<void>
  /** Entries with gte ≤ key < lt, in key order. */
  createReadStream(range: { gte: string; lt: string }): AsyncIterable<{ key: string; value: unknown }>
}

/** Keys starting with NUL belong to the substrate; handlers must not write them. */
export const RESERVED_KEY_PREFIX = '\u0000'
/**
 * Keys starting with U+0001 are call-local: what a handler puts under them is
 * read by the later entries of the same apply call (and by the call's end
 * hook) like any write, and is never stored. A handler can collect items
 * there and have its end hook store them as one record per call.
 */
export const CALL_LOCAL_PREFIX = '\u0001'
const SKIP_PREFIX = '\u0000skipped\u0000'
const SKIP_END = '\u0000skipped\u0001'

export interface BaseEntry<T> {
  readonly value: T
  /** Key of the writer core that appended the entry (its author). */
  readonly writer: Buffer
  /** Writer length including this entry; (writer, length) names the entry everywhere. */
  readonly length: number
  /**
   * The block as the writer appended it (what `value` was decoded from). A
   * handler may memoise a pure check of it (a signature) across the re-runs
   * of a reorder, keyed by these bytes, never by (writer, length) alone.
   */
  readonly block: Buffer
}

/**
 * Membership changes requested by a handler. They are deferred: they take
 * effect only if the handler returns without throwing, so a rejected entry
 * changes neither the view nor the writer set.
 */
export interface MembershipHost {
  addWriter(key: Uint8Array, opts?: { indexer?: boolean }): void
  removeWriter(key: Uint8Array): void
  /** False for the last indexer, whose removal autobase refuses. */
  removable(key: Uint8Array): boolean
}

/**
 * Applies one entry. Must be a pure function of (entry, view): autobase undoes
 * and re-runs it when the order of unindexed entries changes, on every node.
 * Throwing skips the entry; a ConclaveError's code is recorded, anything else
 * is recorded as SUBSTRATE_APPLY_FAILED.
 */
export type ApplyHandler<T> = (
  entry: BaseEntry<T>,
  view: ViewBatch,
  host: MembershipHost
) => Promise<void> | void

export interface SkipRecord {
  v: 1
  code: string
  writer: string
  length: number
}

export function skipKey(writer: Uint8Array, length: number): string {
  return SKIP_PREFIX + Buffer.from(writer).toString('hex') + '\u0000' + String(length).padStart(16, '0')
}

/** Skip records in (writer, length) order. */
export async function readSkipped(view: View): Promise<SkipRecord[]> {
  const out: SkipRecord[] = []
  for await (const { value } of view.createReadStream({
    gte: SKIP_PREFIX,
    lt: SKIP_END
  })) {
    out.push(value as SkipRecord)
  }
  return out
}

/**
 * Runs once at the end of every apply call, after its entries, on what they
 * wrote (call-local keys included): a pure function of those writes and the
 * view, like the handler. It must not throw on any input: it only reorganises
 * what successful entries wrote (a throw fails the base).
 */
export type ApplyEndHandler = (view: ViewBatch) => Promise<void>

type HostOp = { op: 'add'; key: Buffer; indexer: boolean } | { op: 'remove'; key: Buffer }

class Refused extends Error {}

/**
 * Wraps a per-entry handler into an autobase `apply`. Each entry writes into
 * an overlay of its own; on success its writes join the call's writes (see
 * CallWrites) and its queued membership changes run; on any throw the
 * overlay is dropped and a skip record `{ code, writer, length }` is written
 * instead. The call's writes reach the view in one hyperbee batch at the end.
 * The record holds a code, not the message, because messages (engine
 * TypeErrors, zod texts) can differ between versions and would fork the
 * view hash.
 */
export function safeApply<T>(
  handler: ApplyHandler<T>,
  codec: EntryCodec<T>,
  onSkip?: (record: SkipRecord, err: unknown) => void,
  endCall?: ApplyEndHandler
): (nodes: Autobase.ApplyNode[], view: View, host: Autobase.ApplyHost) => Promise<void> {
  return async (nodes, view, host) => {
    const shared = new CallWrites(view.batch())
    try {
      for (const node of nodes) {
        // An ack, or an empty block: autobase hands the author's own apply the empty buffer it
        // appended and every other node null (an empty value is not stored), so both are skipped
        // alike and leave no trace, or the author's view would differ from everyone else's.
        if (node.value === null || node.value.byteLength === 0) continue
        const writer = node.from.key
        const ops: HostOp[] = []
        const membership: MembershipHost = {
          addWriter(key, opts = {}) {
            if (!isKey(key)) throw new Refused('writer key must have 32 bytes')
            ops.push({
              op: 'add',
              key: Buffer.from(key),
              indexer: opts.indexer === true
            })
          },
          removeWriter(key) {
            if (!isKey(key)) throw new Refused('writer key must have 32 bytes')
            ops.push({ op: 'remove', key: Buffer.from(key) })
          },
          removable(key) {
            return isKey(key) && host.removeable(Buffer.from(key))
          }
        }
        const entry = new EntryWrites(shared)
        let failure: unknown = null
        try {
          const value = decode(codec, node.value)
          await handler({ value, writer, length: node.length, block: node.value }, entry, membership)
          // refusing before any op runs keeps a refused entry free of partial membership changes
          for (const o of ops) {
            if (o.op === 'remove' && !host.removeable(o.key))
              throw new Refused('cannot remove the last indexer')
          }
        } catch (err) {
          failure = err ?? new Error('apply threw a nullish value')
        }
        if (failure === null) {
          for (const o of ops) {
            if (o.op === 'add') await host.addWriter(o.key, { indexer: o.indexer })
            else await host.removeWriter(o.key)
          }
          entry.commit()
          continue
        }
        const record: SkipRecord = {
          v: 1,
          code: codeOf(failure),
          writer: writer.toString('hex'),
          length: node.length
        }
        shared.set(skipKey(writer, node.length), JSON.stringify(record))
        onSkip?.(record, failure)
      }
      if (endCall) {
        const end = new EntryWrites(shared)
        await endCall(end)
        end.commit()
      }
      await shared.flush()
    } finally {
      await shared.bee.close()
    }
  }
}

const BINARY = { valueEncoding: 'binary' } as const

/**
 * The writes of one apply call. Autobase calls apply once per writer batch
 * (the entries of one append), and the call boundaries are therefore the
 * same on every node. Entries' writes collect here, a key keeping its first
 * position and its last value, and reach the hyperbee batch once, in that
 * order, at the end of the call: a record rewritten by every entry (a state,
 * a tally) costs one block per call instead of one per entry, and every node
 * still writes the same blocks.
 */
class CallWrites {
  readonly bee: Hyperbee.Batch<string, unknown>
  /** Written by this call's applied entries: JSON text, null for deleted. */
  readonly #pending = new Map<string, string | null>()
  /** Read from the view as it was before the call. */
  readonly #reads = new Map<string, string | null>()

  constructor(bee: Hyperbee.Batch<string, unknown>) {
    this.bee = bee
  }

  async get(key: string): Promise<string | null> {
    const pending = this.#pending.get(key)
    if (pending !== undefined) return pending
    const read = this.#reads.get(key)
    if (read !== undefined) return read
    if (key.startsWith(CALL_LOCAL_PREFIX)) return null
    const node = await this.bee.get(key, BINARY)
    const text = node === null ? null : (node.value as Buffer).toString()
    this.#reads.set(key, text)
    return text
  }

  set(key: string, text: string | null): void {
    this.#pending.set(key, text)
  }

  /** Keys this call wrote in [gte, lt), with their text. */
  writtenIn(gte: string, lt: string): Array<[string, string | null]> {
    return [...this.#pending].filter(([k]) => k >= gte && k < lt)
  }

  async flush(): Promise<void> {
    for (const [key, text] of this.#pending) {
      if (key.startsWith(CALL_LOCAL_PREFIX)) continue
      if (text === null) await this.bee.del(key)
      else await this.bee.put(key, Buffer.from(text), BINARY)
    }
    await this.bee.flush()
  }
}

/**
 * One entry's view of the call: its own writes in an overlay (JSON text, so
 * a handler mutating an object after `put` or `get` changes nothing stored),
 * read through to the call's writes, then to the view.
 */
class EntryWrites implements ViewBatch {
  readonly #shared: CallWrites
  readonly #overlay = new Map<string, string | null>()

  constructor(shared: CallWrites) {
    this.#shared = shared
  }

  async get(key: string): Promise<{ key: string; value: unknown } | null> {
    const own = this.#overlay.get(key)
    const text = own !== undefined ? own : await this.#shared.get(key)
    return text === null ? null : { key, value: JSON.parse(text) as unknown }
  }

  async put(key: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError('a view value must be JSON')
    this.#overlay.set(key, text)
  }

  async del(key: string): Promise<void> {
    this.#overlay.set(key, null)
  }

  async *createReadStream(range: {
    gte: string
    lt: string
  }): AsyncIterable<{ key: string; value: unknown }> {
    const changed = new Map(this.#shared.writtenIn(range.gte, range.lt))
    for (const [k, t] of this.#overlay) if (k >= range.gte && k < range.lt) changed.set(k, t)
    const keys = [...changed.keys()].sort(compareKeys)
    const own = function* (key: string): Iterable<{ key: string; value: unknown }> {
      const text = changed.get(key)
      if (typeof text === 'string') yield { key, value: JSON.parse(text) as unknown }
    }
    let i = 0
    const stored = range.gte.startsWith(CALL_LOCAL_PREFIX) ? [] : this.#shared.bee.createReadStream(range)
    for await (const node of stored) {
      const key = node.key as string
      while (i < keys.length && compareKeys(keys[i]!, key) < 0) yield* own(keys[i++]!)
      if (i < keys.length && keys[i] === key) yield* own(keys[i++]!)
      else yield { key, value: node.value }
    }
    while (i < keys.length) yield* own(keys[i++]!)
  }

  /** Hands this entry's writes to the call. */
  commit(): void {
    for (const [key, text] of this.#overlay) this.#shared.set(key, text)
  }
}

/** Hyperbee's key order: the keys' UTF-8 bytes. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

class Undecodable extends Error {}

function decode<T>(codec: EntryCodec<T>, bytes: Buffer): T {
  try {
    return codec.decode(bytes)
  } catch (cause) {
    throw new Undecodable('entry does not decode', { cause })
  }
}

function codeOf(err: unknown): SkipCode | string {
  if (err instanceof Undecodable) return 'SUBSTRATE_UNDECODABLE'
  if (err instanceof Refused) return 'SUBSTRATE_MEMBERSHIP_REFUSED'
  if (isConclaveError(err)) return err.code
  return 'SUBSTRATE_APPLY_FAILED'
}

function isKey(key: unknown): key is Uint8Array {
  return key instanceof Uint8Array && key.byteLength === 32
}
