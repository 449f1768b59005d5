import { z } from 'zod'
import {
  HYBRID_SIGNATURE_BYTES,
  type HybridPublicKey,
  hybridVerify
} from '../src/kernel/crypto/hybrid-sign.js'
import { MLDSA65_PUBLIC_KEY_BYTES } from '../src/kernel/crypto/hybrid-sign.js'
import { XWING_PUBLIC_KEY_BYTES } from '../src/kernel/crypto/xwing.js'
import { canonicalBytes, hexSchema, unhex } from '../src/kernel/encoding.js'
import { accountIdFromPublic, deviceIdFromPublic } from '../src/kernel/identity/keys.js'
import { isId } from '../src/kernel/ids.js'

/**
 * Root-signed device certificates and revocations as the cluster issues
 * them (cluster/certificate.ts), verified here without importing the
 * cluster: the signature is a hybrid root signature over the canonical JSON
 * of the body, under the same context labels. Only the fields a
 * conversation needs are parsed; the signature covers the body exactly as
 * given, so fields added by a later certificate version still verify.
 */

export const CERT_CONTEXT = 'conclave/device-certificate/v1'
export const REVOCATION_CONTEXT = 'conclave/device-revocation/v1'

export const AccountIdSchema = z.string().refine((s) => isId('account', s), 'not an account id')
export const DeviceIdSchema = z.string().refine((s) => isId('device', s), 'not a device id')

/** Hex of both root public keys of an account, as a manifest lists them. */
export const RootPublicSchema = z
  .object({ ed25519: hexSchema(32), mldsa: hexSchema(MLDSA65_PUBLIC_KEY_BYTES) })
  .strict()
export type RootPublic = z.infer<typeof RootPublicSchema>

const HybridSigSchema = hexSchema(HYBRID_SIGNATURE_BYTES)

/** `{ cert, sig }`: a certificate body and the hybrid root signature over its canonical JSON. */
export const SignedCertSchema = z
  .object({ cert: z.record(z.string(), z.unknown()), sig: HybridSigSchema })
  .strict()
export type SignedCert = z.infer<typeof SignedCertSchema>

/** `{ revocation, sig }`, as the cluster issues revocations. */
export const SignedRevocationSchema = z
  .object({ revocation: z.record(z.string(), z.unknown()), sig: HybridSigSchema })
  .strict()
export type SignedRevocation = z.infer<typeof SignedRevocationSchema>

/** The fields of a certificate body a conversation reads. */
const CertFieldsSchema = z.object({
  type: z.literal('device-cert'),
  v: z.literal(1),
  accountId: AccountIdSchema,
  deviceId: DeviceIdSchema,
  signingKey: hexSchema(32),
  xwingKey: hexSchema(XWING_PUBLIC_KEY_BYTES),
  indexer: z.boolean()
})

const RevocationFieldsSchema = z.object({
  type: z.literal('device-revoke'),
  v: z.literal(1),
  accountId: AccountIdSchema,
  deviceId: DeviceIdSchema
})

/** A certified device as a conversation knows it. */
export interface CertifiedDevice {
  accountId: string
  deviceId: string
  /** Hex Ed25519 public key: signs the device's conversation entries. */
  signingKey: string
  /** Hex X-Wing public key: the conversation key is sealed to it. */
  xwingKey: string
  /** The cluster's always-on marker; a conversation makes at most one such device per account an indexer. */
  indexer: boolean
}

export function rootPublicKey(root: RootPublic): HybridPublicKey {
  return { ed25519: unhex(root.ed25519), mldsa: unhex(root.mldsa) }
}

/** Whether `root` are the root keys behind `accountId` (never throws). */
export function isRootOf(root: RootPublic, accountId: string): boolean {
  try {
    return accountIdFromPublic(rootPublicKey(root)) === accountId
  } catch {
    return false
  }
}

function signedBy(root: RootPublic, body: unknown, sig: string, context: string): boolean {
  let bytes: Buffer
  try {
    bytes = canonicalBytes(body)
  } catch {
    return false
  }
  return hybridVerify(rootPublicKey(root), bytes, unhex(sig), context)
}

/**
 * Verifies a device certificate under the account's root keys and returns
 * the device, or the reason it is refused (never throws: this runs in apply).
 */
export function checkCertificate(
  root: RootPublic,
  accountId: string,
  value: unknown,
  opts: { verified?: boolean } = {}
): CertifiedDevice | { refused: string } {
  const outer = SignedCertSchema.safeParse(value)
  if (!outer.success) return { refused: 'not a signed certificate' }
  const body = CertFieldsSchema.safeParse(outer.data.cert)
  if (!body.success) return { refused: 'not a device certificate' }
  const c = body.data
  if (c.accountId !== accountId) return { refused: 'certificate of another account' }
  if (deviceIdFromPublic(unhex(c.signingKey)) !== c.deviceId)
    return { refused: 'deviceId does not match signingKey' }
  if (!opts.verified && !signedBy(root, outer.data.cert, outer.data.sig, CERT_CONTEXT)) {
    return { refused: 'certificate signature does not verify under both root keys' }
  }
  return {
    accountId,
    deviceId: c.deviceId,
    signingKey: c.signingKey,
    xwingKey: c.xwingKey,
    indexer: c.indexer
  }
}

/** Verifies a revocation under the account's root keys; returns the revoked device id or the reason it is refused. */
export function checkRevocation(
  root: RootPublic,
  accountId: string,
  value: unknown
): { deviceId: string } | { refused: string } {
  const outer = SignedRevocationSchema.safeParse(value)
  if (!outer.success) return { refused: 'not a signed revocation' }
  const body = RevocationFieldsSchema.safeParse(outer.data.revocation)
  if (!body.success) return { refused: 'not a device revocation' }
  if (body.data.accountId !== accountId) return { refused: 'revocation of another account' }
  if (!signedBy(root, outer.data.revocation, outer.data.sig, REVOCATION_CONTEXT)) {
    return { refused: 'revocation signature does not verify under both root keys' }
  }
  return { deviceId: body.data.deviceId }
}
