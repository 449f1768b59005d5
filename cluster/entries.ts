import type { SignedCertificate, SignedRevocation } from './certificate.js'

/**
 * Entries of the cluster log: a discriminated union on `type` with a version
 * `v`. The schemas that parse them live with their handlers (see
 * `entry-kinds.ts`); anything on the log is untrusted until parsed there.
 * Later kinds ('cluster/address', 'cluster/friend', 'cluster/archive') join
 * this union and the registry.
 */

export const CERTIFY = 'cluster/certify'
export const REVOKE = 'cluster/revoke'

export interface CertifyEntry {
  type: typeof CERTIFY
  v: 1
  signed: SignedCertificate
}

export interface RevokeEntry {
  type: typeof REVOKE
  v: 1
  signed: SignedRevocation
}

export type ClusterEntry = CertifyEntry | RevokeEntry

export function certifyEntry(signed: SignedCertificate): CertifyEntry {
  return { type: CERTIFY, v: 1, signed }
}

export function revokeEntry(signed: SignedRevocation): RevokeEntry {
  return { type: REVOKE, v: 1, signed }
}
