import type { SignedCertificate, SignedRevocation } from './certificate.js'
import type { SignedCard } from './contact-card.js'

/**
 * Entries of the cluster log: a discriminated union on `type` with a version
 * `v`. The schemas that parse them live with their handlers (see
 * `entry-kinds.ts`); anything on the log is untrusted until parsed there.
 * Later kinds ('cluster/archive') join this union and the registry.
 */

export const CERTIFY = 'cluster/certify'
export const REVOKE = 'cluster/revoke'
export const FRIEND = 'cluster/friend'
export const ADDRESS = 'cluster/address'

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

export interface FriendEntry {
  type: typeof FRIEND
  v: 1
  card: SignedCard
}

export interface AddressEntry {
  type: typeof ADDRESS
  v: 1
  deviceId: string
  address: string
  at: number
}

export type ClusterEntry = CertifyEntry | RevokeEntry | FriendEntry | AddressEntry

export function certifyEntry(signed: SignedCertificate): CertifyEntry {
  return { type: CERTIFY, v: 1, signed }
}

export function revokeEntry(signed: SignedRevocation): RevokeEntry {
  return { type: REVOKE, v: 1, signed }
}

export function friendEntry(card: SignedCard): FriendEntry {
  return { type: FRIEND, v: 1, card }
}

export function addressEntry(deviceId: string, address: string, at: number): AddressEntry {
  return { type: ADDRESS, v: 1, deviceId, address, at }
}
