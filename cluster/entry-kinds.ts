import { z } from 'zod'
import type { ApplyHandler } from '../src/kernel/substrate/index.js'
import { AddressEntrySchema, applyAddress } from './addresses.js'
import { applyArchive, ArchiveEntrySchema } from './archives.js'
import { type ApplyContext, batchContext, type ClusterRules } from './apply-context.js'
import type { ClusterEntry } from './entries.js'
import { ClusterErrors } from './errors.js'
import { applyFriend, FriendEntrySchema } from './friends.js'
import {
  applyCertify,
  applyRevoke,
  assertMemberAuthor,
  CertifyEntrySchema,
  RevokeEntrySchema
} from './membership.js'

/**
 * One kind of cluster log entry: its `type` and version, the schema that
 * parses it, and its handler. A new kind ('cluster/archive', or v2 of an
 * existing one) is one more
 * element of ENTRY_KINDS; the author check and the skip recording are shared.
 */
export interface EntryKind<E = unknown> {
  readonly type: string
  readonly v: number
  readonly schema: z.ZodType<E>
  apply(ctx: ApplyContext, entry: E): Promise<void>
}

function kind<E>(k: EntryKind<E>): EntryKind<unknown> {
  return k as unknown as EntryKind<unknown>
}

export const ENTRY_KINDS: readonly EntryKind[] = [
  kind({ type: 'cluster/certify', v: 1, schema: CertifyEntrySchema, apply: applyCertify }),
  kind({ type: 'cluster/revoke', v: 1, schema: RevokeEntrySchema, apply: applyRevoke }),
  kind({ type: 'cluster/friend', v: 1, schema: FriendEntrySchema, apply: applyFriend }),
  kind({ type: 'cluster/address', v: 1, schema: AddressEntrySchema, apply: applyAddress }),
  kind({ type: 'cluster/archive', v: 1, schema: ArchiveEntrySchema, apply: applyArchive })
]

const registry = new Map<string, EntryKind>()
for (const k of ENTRY_KINDS) {
  const id = `${k.type}@${k.v}`
  if (registry.has(id)) throw new Error(`entry kind ${id} registered twice`)
  registry.set(id, k)
}

const EnvelopeSchema = z.object({ type: z.string().max(64), v: z.number().int().min(0) })

/** Finds the kind of an untrusted value; CLUSTER_ENTRY_INVALID / CLUSTER_ENTRY_UNSUPPORTED. */
export function parseEntry(value: unknown): { kind: EntryKind; entry: unknown } {
  const envelope = EnvelopeSchema.safeParse(value)
  if (!envelope.success) throw ClusterErrors.CLUSTER_ENTRY_INVALID('not a cluster entry (type and v)')
  const k = registry.get(`${envelope.data.type}@${envelope.data.v}`)
  if (!k) {
    throw ClusterErrors.CLUSTER_ENTRY_UNSUPPORTED(
      `unknown entry kind ${envelope.data.type} v${envelope.data.v}`
    )
  }
  const parsed = k.schema.safeParse(value)
  if (!parsed.success) throw ClusterErrors.CLUSTER_ENTRY_INVALID(`malformed ${k.type} v${k.v} entry`)
  return { kind: k, entry: parsed.data }
}

/**
 * Runs one entry: the author check first (whatever a non-member wrote is
 * CLUSTER_NOT_MEMBER, however it is shaped), then parsing, then its handler.
 * Throws a coded error to have the entry skipped.
 */
export async function runEntry(ctx: ApplyContext, value: unknown): Promise<void> {
  await assertMemberAuthor(ctx)
  const { kind: k, entry } = parseEntry(value)
  await k.apply(ctx, entry)
}

/** The cluster base's apply handler (wrapped by the substrate's safeApply). */
export function clusterApply(rules: ClusterRules): ApplyHandler<ClusterEntry> {
  return ({ value, writer }, batch, host) => runEntry(batchContext(rules, writer, batch, host), value)
}
