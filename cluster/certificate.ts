import { z } from 'zod'
import type { HybridKeyPair, HybridPublicKey } from '../src/kernel/crypto/hybrid-sign.js'
import { HYBRID_SIGNATURE_BYTES, hybridSign, hybridVerify } from '../src/kernel/crypto/hybrid-sign.js'
import { XWING_PUBLIC_KEY_BYTES } from '../src/kernel/crypto/xwing.js'
import { canonicalBytes, hex, hexSchema, unhex } from '../src/kernel/encoding.js'
import { deviceIdFromPublic } from '../src/kernel/identity/keys.js'
import { isId } from '../src/kernel/ids.js'
import { ClusterErrors } from './errors.js'

/**
 * Device certificates and revocations: statements signed by BOTH root keys
 * (Ed25519 and ML-DSA-65). A verifier requires both halves. The signed bytes
 * are the canonical JSON of the body under a per-kind context label.
 */

export const CERT_CONTEXT = 'conclave/device-certificate/v1'
export const REVOCATION_CONTEXT = 'conclave/device-revocation/v1'

const AccountIdString = z.string().refine((s) => isId('account', s), 'not an account id')
const DeviceIdString = z.string().refine((s) => isId('device', s), 'not a device id')

export const DeviceCertificateSchema = z
  .object({
    type: z.literal('device-cert'),
    v: z.literal(1),
    accountId: AccountIdString,
    deviceId: DeviceIdString,
    device: z.number().int().min(0).max(0x7fffffff),
    epoch: z.number().int().min(0).max(0x7fffffff),
    signingKey: hexSchema(32),
    xwingKey: hexSchema(XWING_PUBLIC_KEY_BYTES),
    writerKey: hexSchema(32),
    roles: z
      .array(z.enum(['access', 'relay']))
      .min(1)
      .max(2),
    indexer: z.boolean(),
    name: z.string().max(64).optional(),
    issuedAt: z.number().int().min(0)
  })
  .strict()
  .refine((c) => deviceIdFromPublic(unhex(c.signingKey)) === c.deviceId, 'deviceId does not match signingKey')
export type DeviceCertificate = z.infer<typeof DeviceCertificateSchema>

export const RevocationSchema = z
  .object({
    type: z.literal('device-revoke'),
    v: z.literal(1),
    accountId: AccountIdString,
    deviceId: DeviceIdString,
    reason: z.string().max(200).optional(),
    revokedAt: z.number().int().min(0)
  })
  .strict()
export type Revocation = z.infer<typeof RevocationSchema>

const Sig = hexSchema(HYBRID_SIGNATURE_BYTES)
export const SignedCertificateSchema = z.object({ cert: z.unknown(), sig: Sig }).strict()
export const SignedRevocationSchema = z.object({ revocation: z.unknown(), sig: Sig }).strict()
export interface SignedCertificate {
  cert: DeviceCertificate
  sig: string
}
export interface SignedRevocation {
  revocation: Revocation
  sig: string
}

export function issueCertificate(root: HybridKeyPair, cert: DeviceCertificate): SignedCertificate {
  const body = DeviceCertificateSchema.parse(cert)
  return { cert: body, sig: hex(hybridSign(root, canonicalBytes(body), CERT_CONTEXT)) }
}

export function issueRevocation(root: HybridKeyPair, revocation: Revocation): SignedRevocation {
  const body = RevocationSchema.parse(revocation)
  return { revocation: body, sig: hex(hybridSign(root, canonicalBytes(body), REVOCATION_CONTEXT)) }
}

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0]
  return `${i?.path.join('.') || 'value'}: ${i?.message ?? 'invalid'}`
}

/** Parses and verifies; throws CLUSTER_CERT_INVALID. `accountId` pins the account. */
export function verifyCertificate(
  rootPublic: HybridPublicKey,
  accountId: string,
  value: unknown
): SignedCertificate {
  const outer = SignedCertificateSchema.safeParse(value)
  if (!outer.success) throw ClusterErrors.CLUSTER_CERT_INVALID(`certificate: ${firstIssue(outer.error)}`)
  const body = DeviceCertificateSchema.safeParse(outer.data.cert)
  if (!body.success) throw ClusterErrors.CLUSTER_CERT_INVALID(`certificate: ${firstIssue(body.error)}`)
  if (body.data.accountId !== accountId)
    throw ClusterErrors.CLUSTER_CERT_INVALID('certificate is for another account')
  if (!hybridVerify(rootPublic, canonicalBytes(body.data), unhex(outer.data.sig), CERT_CONTEXT)) {
    throw ClusterErrors.CLUSTER_CERT_INVALID('certificate signature does not verify under both root keys')
  }
  return { cert: body.data, sig: outer.data.sig }
}

export function verifyRevocation(
  rootPublic: HybridPublicKey,
  accountId: string,
  value: unknown
): SignedRevocation {
  const outer = SignedRevocationSchema.safeParse(value)
  if (!outer.success) throw ClusterErrors.CLUSTER_CERT_INVALID(`revocation: ${firstIssue(outer.error)}`)
  const body = RevocationSchema.safeParse(outer.data.revocation)
  if (!body.success) throw ClusterErrors.CLUSTER_CERT_INVALID(`revocation: ${firstIssue(body.error)}`)
  if (body.data.accountId !== accountId)
    throw ClusterErrors.CLUSTER_CERT_INVALID('revocation is for another account')
  if (!hybridVerify(rootPublic, canonicalBytes(body.data), unhex(outer.data.sig), REVOCATION_CONTEXT)) {
    throw ClusterErrors.CLUSTER_CERT_INVALID('revocation signature does not verify under both root keys')
  }
  return { revocation: body.data, sig: outer.data.sig }
}
