import type { SignedCertificate, SignedRevocation } from './certificate.js'
import type { ArchiveRecord } from './archives.js'
import type { SignedCard } from './contact-card.js'

/**
 * Entries of the cluster log: a discriminated union on `type` with a version
 * `v`. The schemas that parse them live with their handlers (see
 * `entry-kinds.ts`); anything on the log is untrusted until parsed there.
 * Later kinds join this union and the registry.
 */

export const CERTIFY = 'cluster/certify'
export const REVOKE = 'cluster/revoke'
export const FRIEND = 'cluster/friend'
export const ADDRESS = 'cluster/address'
export const ARCHIVE = 'cluster/archive'

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

export interface ArchiveEntry {
  type: typeof ARCHIVE
  v: 1
  record: ArchiveRecord
}

export type ClusterEntry = CertifyEntry | RevokeEntry | FriendEntry | AddressEntry | ArchiveEntry

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

export function archiveEntry(record: ArchiveRecord): ArchiveEntry {
  return { type: ARCHIVE, v: 1, record }
}
