import { z } from 'zod'
import { isAddress, MAX_ADDRESS_CHARS } from '../src/kernel/address.js'
import { hex } from '../src/kernel/encoding.js'
import type { ApplyContext } from './apply-context.js'
import { ADDRESS } from './entries.js'
import { ClusterErrors } from './errors.js'
import { deviceById } from './membership.js'
import { addressKey } from './view-layout.js'

/**
 * The address book: each device's last known direct address, written by that
 * device itself (`conclave run` on start and whenever its address changes)
 * and read by every other device, which dials it there when it has no
 * connection to it. Another device cannot write it: a lying peer could only
 * make us dial a wrong place anyway (the direct transport checks the key at
 * the address), but the view should say what each device said of itself.
 */

/** Value of `address/<deviceId>`. */
export interface AddressRecord {
  deviceId: string
  /** `host:port` (IPv4, [IPv6], a DNS or .onion name). */
  address: string
  /** The device's own wall clock when it took this address, ms since the Unix epoch. */
  at: number
}

/** `{ type: 'cluster/address', v: 1, deviceId, address, at }` */
export const AddressEntrySchema = z
  .object({
    type: z.literal(ADDRESS),
    v: z.literal(1),
    deviceId: z.string().min(1).max(128),
    address: z.string().max(MAX_ADDRESS_CHARS).refine(isAddress, 'not a host:port address'),
    at: z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
  })
  .strict()
export type AddressEntryValue = z.infer<typeof AddressEntrySchema>

/**
 * Records a device's address: only the device's own current writer may
 * (CLUSTER_ADDRESS_NOT_OWN), and only a newer one than on record
 * (CLUSTER_ADDRESS_STALE) — entries may be applied in another order than
 * they were written, and the latest word of the device must win.
 */
export async function applyAddress(ctx: ApplyContext, entry: AddressEntryValue): Promise<void> {
  const device = await deviceById(ctx, entry.deviceId)
  if (device === null) throw ClusterErrors.CLUSTER_DEVICE_UNKNOWN(`no device ${entry.deviceId}`)
  if (device.revoked) throw ClusterErrors.CLUSTER_DEVICE_REVOKED(`device ${device.device} is revoked`)
  if (device.writerCoreKey !== hex(ctx.writer)) {
    throw ClusterErrors.CLUSTER_ADDRESS_NOT_OWN(`only device ${device.device} itself may write its address`)
  }
  const old = await ctx.get<AddressRecord>(addressKey(entry.deviceId))
  if (old !== null && old.at >= entry.at) {
    throw ClusterErrors.CLUSTER_ADDRESS_STALE('this address is not newer than the one on record')
  }
  await ctx.put(addressKey(entry.deviceId), {
    deviceId: entry.deviceId,
    address: entry.address,
    at: entry.at
  } satisfies AddressRecord)
}
