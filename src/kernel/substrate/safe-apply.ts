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
/** What an apply handler writes through: buffered, kept only if the handler succeeds. */
export type ViewBatch = Hyperbee.Batch<string, unknown>

/** Keys starting with NUL belong to the substrate; handlers must not write them. */
export const RESERVED_KEY_PREFIX = '\u0000'
const SKIP_PREFIX = '\u0000skipped\u0000'
const SKIP_END = '\u0000skipped\u0001'

export interface BaseEntry<T> {
  readonly value: T
  /** Key of the writer core that appended the entry (its author). */
  readonly writer: Buffer
  /** Writer length including this entry; (writer, length) names the entry everywhere. */
  readonly length: number
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

type HostOp = { op: 'add'; key: Buffer; indexer: boolean } | { op: 'remove'; key: Buffer }

class Refused extends Error {}

/**
 * Wraps a per-entry handler into an autobase `apply`. Each entry runs against
 * its own hyperbee batch: on success the batch is flushed and the queued
 * membership changes run; on any throw the batch is dropped and a skip record
 * `{ code, writer, length }` is written instead. The record holds a code, not
 * the message, because messages (engine TypeErrors, zod texts) can differ
 * between versions and would fork the view hash.
 */
export function safeApply<T>(
  handler: ApplyHandler<T>,
  codec: EntryCodec<T>,
  onSkip?: (record: SkipRecord, err: unknown) => void
): (nodes: Autobase.ApplyNode[], view: View, host: Autobase.ApplyHost) => Promise<void> {
  return async (nodes, view, host) => {
    for (const node of nodes) {
      if (node.value === null) continue
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
      const batch = view.batch()
      let failure: unknown = null
      try {
        const value = decode(codec, node.value)
        await handler({ value, writer, length: node.length }, batch, membership)
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
        await batch.flush()
        continue
      }
      await batch.close()
      const record: SkipRecord = {
        v: 1,
        code: codeOf(failure),
        writer: writer.toString('hex'),
        length: node.length
      }
      await view.put(skipKey(writer, node.length), record)
      onSkip?.(record, failure)
    }
  }
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
