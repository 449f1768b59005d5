import { z } from 'zod'
import { hex, unhex } from '../src/kernel/encoding.js'
import { coreKeyFor } from '../src/kernel/substrate/index.js'
import type { ApplyContext } from './apply-context.js'
import { verifyCertificate, verifyRevocation } from './certificate.js'
import { CERTIFY, REVOKE } from './entries.js'
import { ClusterErrors } from './errors.js'
import { deviceCertKey, deviceIdKey, deviceKey, deviceRevocationKey, writerKey } from './view-layout.js'

/**
 * Membership rules: who may append, and how certificates and revocations
 * change the device set and autobase's writer set. Every function here is a
 * pure function of (entry, view): apply re-runs it on reorders, on every node.
 */

export type Role = 'access' | 'relay'

/** A device of the account as the cluster view holds it (value of `device/<index>`). */
export interface DeviceRecord {
  deviceId: string
  device: number
  epoch: number
  /** Hex Ed25519 public key: the device's identity, also its Noise (swarm) key. */
  signingKey: string
  /** Hex X-Wing public key for sealing to this device (independent of the epoch). */
  xwingKey: string
  /** Hex Ed25519 public key of the current writer (device, epoch). */
  writerKey: string
  /** Hex coreKeyFor(writerKey): the writer core autobase knows. */
  writerCoreKey: string
  roles: Role[]
  indexer: boolean
  name: string | null
  revoked: boolean
  revokedAt: number | null
  /** `issuedAt` of the certificate behind this record. */
  certifiedAt: number
}

/** Value of `writer/<core key hex>`: every writer core a certificate ever named. */
export interface WriterRecord {
  device: number
  epoch: number
  indexer: boolean
  /** current: the device's writer now; retired: replaced by a later epoch; revoked: its device was revoked. */
  state: 'current' | 'retired' | 'revoked'
  /** Whether apply asked autobase to remove it (false when it was the last indexer at the time). */
  removed: boolean
}

interface DeviceIdRecord {
  device: number
}

/** The device record of a device id, or null (through the `device-id/` index). */
export async function deviceById(ctx: ApplyContext, deviceId: string): Promise<DeviceRecord | null> {
  const byId = await ctx.get<DeviceIdRecord>(deviceIdKey(deviceId))
  return byId === null ? null : await ctx.get<DeviceRecord>(deviceKey(byId.device))
}

/**
 * The author check, before any kind-specific rule: the entry's writer core
 * must be the current writer of a certified, unrevoked device — or the
 * bootstrap writer while no certificate names it yet (device 0's first run
 * appends its own epoch-0 certificate through it).
 */
export async function assertMemberAuthor(ctx: ApplyContext): Promise<void> {
  const core = hex(ctx.writer)
  const known = await ctx.get<WriterRecord>(writerKey(core))
  if (known === null) {
    if (ctx.writer.equals(ctx.rules.bootstrapCoreKey)) return
    throw ClusterErrors.CLUSTER_NOT_MEMBER('the author is not a certified writer of this cluster')
  }
  if (known.state === 'current') {
    const device = await ctx.get<DeviceRecord>(deviceKey(known.device))
    if (device !== null && !device.revoked && device.writerCoreKey === core) return
  }
  throw ClusterErrors.CLUSTER_NOT_MEMBER(`the author is a ${known.state} writer of device ${known.device}`)
}

/** `{ type: 'cluster/certify', v: 1, signed }`; `signed` is checked by verifyCertificate. */
export const CertifyEntrySchema = z
  .object({ type: z.literal(CERTIFY), v: z.literal(1), signed: z.unknown() })
  .strict()
/** `{ type: 'cluster/revoke', v: 1, signed }`; `signed` is checked by verifyRevocation. */
export const RevokeEntrySchema = z
  .object({ type: z.literal(REVOKE), v: z.literal(1), signed: z.unknown() })
  .strict()

/**
 * Admits a device or moves it to a new writer epoch; see docs/cluster.md
 * ("cluster/certify") for the rules in order.
 */
export async function applyCertify(
  ctx: ApplyContext,
  entry: z.infer<typeof CertifyEntrySchema>
): Promise<void> {
  const signed = verifyCertificate(ctx.rules.rootPublic, ctx.rules.accountId, entry.signed)
  const cert = signed.cert
  const index = cert.device
  const writerCore = coreKeyFor(unhex(cert.writerKey))
  const writerCoreHex = hex(writerCore)
  const isBootstrap = writerCore.equals(ctx.rules.bootstrapCoreKey)

  const existing = await ctx.get<DeviceRecord>(deviceKey(index))
  if (existing?.revoked) throw ClusterErrors.CLUSTER_DEVICE_REVOKED(`device ${index} is revoked`)

  const byId = await ctx.get<DeviceIdRecord>(deviceIdKey(cert.deviceId))
  if (byId !== null && byId.device !== index) {
    throw ClusterErrors.CLUSTER_CERT_CONFLICT(`this signing key already belongs to device ${byId.device}`)
  }
  if (existing && (existing.signingKey !== cert.signingKey || existing.xwingKey !== cert.xwingKey)) {
    throw ClusterErrors.CLUSTER_CERT_CONFLICT(`device ${index} is known with other device keys`)
  }
  // autobase starts with the bootstrap writer as its only indexer; a record saying otherwise would lie
  if (isBootstrap && !cert.indexer) {
    throw ClusterErrors.CLUSTER_CERT_CONFLICT(
      'the bootstrap writer is an indexer; its certificate must say so'
    )
  }

  const usedWriter = await ctx.get<WriterRecord>(writerKey(writerCoreHex))
  const sameWriter = existing !== null && existing.writerCoreKey === writerCoreHex
  if (
    usedWriter !== null &&
    !(sameWriter && usedWriter.device === index && usedWriter.epoch === cert.epoch)
  ) {
    throw ClusterErrors.CLUSTER_CERT_CONFLICT(
      `writer key already used by device ${usedWriter.device} at epoch ${usedWriter.epoch}`
    )
  }

  const record: DeviceRecord = {
    deviceId: cert.deviceId,
    device: index,
    epoch: cert.epoch,
    signingKey: cert.signingKey,
    xwingKey: cert.xwingKey,
    writerKey: cert.writerKey,
    writerCoreKey: writerCoreHex,
    roles: [...cert.roles],
    indexer: cert.indexer,
    name: cert.name ?? null,
    revoked: false,
    revokedAt: null,
    certifiedAt: cert.issuedAt
  }

  // the role autobase gives the new writer (see below: a kept old indexer holds the place)
  let effectiveIndexer = cert.indexer
  if (existing !== null) {
    if (cert.epoch < existing.epoch) {
      throw ClusterErrors.CLUSTER_CERT_CONFLICT(`device ${index} is already at epoch ${existing.epoch}`)
    }
    if (cert.epoch === existing.epoch) {
      // same writer: only name and roles may change (an older certificate must not undo a newer one)
      if (!sameWriter) {
        throw ClusterErrors.CLUSTER_CERT_CONFLICT(`device ${index} has another writer at epoch ${cert.epoch}`)
      }
      if (cert.indexer !== existing.indexer) {
        throw ClusterErrors.CLUSTER_CERT_CONFLICT('changing the indexer role needs a new writer epoch')
      }
      if (cert.issuedAt < existing.certifiedAt) {
        throw ClusterErrors.CLUSTER_CERT_CONFLICT('an older certificate than the one on record')
      }
    } else {
      const old = Buffer.from(existing.writerCoreKey, 'hex')
      const oldRecord = await ctx.get<WriterRecord>(writerKey(existing.writerCoreKey))
      // The old core leaves autobase's writer set, except (a) the last indexer, which autobase
      // refuses to remove, and (b) the bootstrap writer (device 0, epoch 0): with autobase
      // 7.28.1 finality was seen to stall for good after the bootstrap core left the indexers
      // (docs/recovery.md), so it stays, an indexer that no longer acks.
      // Either way the author check refuses whatever a retired core appends (docs/recovery.md).
      const removed = ctx.host.removable(old) && !old.equals(ctx.rules.bootstrapCoreKey)
      if (removed) ctx.host.removeWriter(old)
      const oldIndexer = oldRecord?.indexer ?? existing.indexer
      await ctx.put(writerKey(existing.writerCoreKey), {
        device: index,
        epoch: existing.epoch,
        indexer: oldIndexer,
        state: 'retired',
        removed
      } satisfies WriterRecord)
      // A kept core that indexes keeps the device's place among the indexers: the new writer
      // joins as a plain writer, so the indexer set (and its majority) does not change. Adding
      // it as a fourth indexer next to a dead one would need every live indexer for a majority
      // (3 of 4), so one more device offline would stop finality (docs/recovery.md).
      const slotKept = (oldIndexer && !removed) || (await keptIndexerOf(ctx, index))
      effectiveIndexer = cert.indexer && !slotKept
      if (!isBootstrap) ctx.host.addWriter(writerCore, { indexer: effectiveIndexer })
    }
  } else if (!isBootstrap) {
    ctx.host.addWriter(writerCore, { indexer: cert.indexer })
  }

  await ctx.put(deviceKey(index), record)
  await ctx.put(deviceCertKey(index), signed)
  await ctx.put(deviceIdKey(cert.deviceId), { device: index } satisfies DeviceIdRecord)
  await ctx.put(writerKey(writerCoreHex), {
    device: index,
    epoch: cert.epoch,
    indexer: effectiveIndexer,
    state: 'current',
    removed: false
  } satisfies WriterRecord)
}

/** Whether an earlier, retired core of `device` still sits among autobase's indexers (the bootstrap core). */
async function keptIndexerOf(ctx: ApplyContext, device: number): Promise<boolean> {
  const boot = await ctx.get<WriterRecord>(writerKey(hex(ctx.rules.bootstrapCoreKey)))
  return boot !== null && boot.device === device && boot.state !== 'current' && boot.indexer && !boot.removed
}

/**
 * Revokes a device for good and removes its current writer; refuses an
 * unknown or already revoked device and the last indexer.
 */
export async function applyRevoke(
  ctx: ApplyContext,
  entry: z.infer<typeof RevokeEntrySchema>
): Promise<void> {
  const signed = verifyRevocation(ctx.rules.rootPublic, ctx.rules.accountId, entry.signed)
  const { revocation } = signed
  const device = await deviceById(ctx, revocation.deviceId)
  if (device === null) throw ClusterErrors.CLUSTER_DEVICE_UNKNOWN(`no device ${revocation.deviceId}`)
  if (device.revoked) throw ClusterErrors.CLUSTER_DEVICE_REVOKED(`device ${device.device} is already revoked`)

  const core = Buffer.from(device.writerCoreKey, 'hex')
  if (!ctx.host.removable(core)) {
    throw ClusterErrors.CLUSTER_LAST_INDEXER(`device ${device.device} holds the last indexer`)
  }
  ctx.host.removeWriter(core)
  await ctx.put(writerKey(device.writerCoreKey), {
    device: device.device,
    epoch: device.epoch,
    indexer: device.indexer,
    state: 'revoked',
    removed: true
  } satisfies WriterRecord)
  await ctx.put(deviceKey(device.device), {
    ...device,
    revoked: true,
    revokedAt: revocation.revokedAt
  } satisfies DeviceRecord)
  await ctx.put(deviceRevocationKey(device.device), signed)
}
