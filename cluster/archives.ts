import { z } from 'zod'
import { hex, hexSchema } from '../src/kernel/encoding.js'
import type { ApplyContext } from './apply-context.js'
import { ARCHIVE } from './entries.js'
import { ClusterErrors } from './errors.js'
import type { FriendRecord } from './friends.js'
import { deviceById, type WriterRecord } from './membership.js'
import { archiveKey, friendKey, writerKey } from './view-layout.js'

/**
 * The archive index: one record per sealed archive, in the cluster view so
 * every own device (relays included) learns it, downloads the archive's core
 * and can list it. The cluster does not read archives: the sealed parts
 * (`index`, the double-sealed title and its envelopes) are opaque bytes here;
 * docs/archive.md describes them. The record names the two holder devices
 * whose X-Wing keys it was sealed to: certified, unrevoked access devices of
 * the account when the entry is applied — or, for the second one, an access
 * device on the stored card of the friend the record names (`friend`).
 */

/** The sealed index entry (title and its two envelopes): a few KiB. */
const MAX_INDEX_HEX = 64 * 1024

/** Value of `archive/<id>`. */
export interface ArchiveRecord {
  /** Hex keyed hash of the archive's title (docs/archive.md). */
  id: string
  conversationId: string
  /** Hex key of the hypercore holding the sealed archive. */
  core: string
  /** Blocks and bytes of that core once complete. */
  blocks: number
  size: number
  /** Device ids of the two holders: inner/outer of the first envelope, in that order. */
  holders: [string, string]
  /**
   * Set when the second holder is a friend's device: that friend's account id
   * (the device must be an access device on the friend's card stored here).
   */
  friend?: string
  /** Hex of the double-sealed index entry. */
  index: string
  createdAt: number
  /** The device that sealed and wrote it. */
  by: string
}

export const ArchiveRecordSchema = z
  .object({
    id: hexSchema(32),
    conversationId: z.string().min(1).max(128),
    core: hexSchema(32),
    blocks: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    holders: z.tuple([z.string().min(1).max(128), z.string().min(1).max(128)]),
    friend: z.string().min(1).max(128).optional(),
    index: hexSchema().max(MAX_INDEX_HEX),
    createdAt: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    by: z.string().min(1).max(128)
  })
  .strict()

/** `{ type: 'cluster/archive', v: 1, record }` */
export const ArchiveEntrySchema = z
  .object({ type: z.literal(ARCHIVE), v: z.literal(1), record: ArchiveRecordSchema })
  .strict()
export type ArchiveEntryValue = z.infer<typeof ArchiveEntrySchema>

/**
 * Records an archive: `by` must be the appending device
 * (CLUSTER_ARCHIVE_NOT_OWN), the holders two distinct current access devices
 * (CLUSTER_ARCHIVE_HOLDER), and the id new (CLUSTER_ARCHIVE_EXISTS: two own
 * devices archiving the same conversation make the same id; the first entry
 * in the log's order wins on every node).
 */
export async function applyArchive(ctx: ApplyContext, entry: ArchiveEntryValue): Promise<void> {
  const r = entry.record
  const author = await ctx.get<WriterRecord>(writerKey(hex(ctx.writer)))
  const by = await deviceById(ctx, r.by)
  if (author === null || by === null || by.device !== author.device || by.writerCoreKey !== hex(ctx.writer)) {
    throw ClusterErrors.CLUSTER_ARCHIVE_NOT_OWN('an archive is recorded by the device that wrote it')
  }
  if (r.holders[0] === r.holders[1]) {
    throw ClusterErrors.CLUSTER_ARCHIVE_HOLDER('an archive needs two different holders')
  }
  for (const [i, h] of r.holders.entries()) {
    if (i === 1 && r.friend !== undefined) {
      const f = await ctx.get<FriendRecord>(friendKey(r.friend))
      const d = f?.devices.find((x) => x.deviceId === h)
      if (!d || !d.roles.includes('access')) {
        throw ClusterErrors.CLUSTER_ARCHIVE_HOLDER(
          `${h} is not an access device on the card of friend ${r.friend}`
        )
      }
      continue
    }
    const d = await deviceById(ctx, h)
    if (d === null || d.revoked || !d.roles.includes('access')) {
      throw ClusterErrors.CLUSTER_ARCHIVE_HOLDER(`${h} is not a current access device of this account`)
    }
  }
  if ((await ctx.get(archiveKey(r.id))) !== null) {
    throw ClusterErrors.CLUSTER_ARCHIVE_EXISTS(`archive ${r.id} is already recorded`)
  }
  await ctx.put(archiveKey(r.id), { ...r } satisfies ArchiveRecord)
}
