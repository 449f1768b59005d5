/**
 * Keys of the cluster view (a hyperbee with utf-8 keys and JSON values; keys
 * starting with NUL belong to the substrate). docs/cluster.md describes the
 * layout; changing a key changes every node's view hash, so it is versioned
 * with the entry kinds, never edited in place.
 *
 *   device/<index, 10 digits>       DeviceRecord
 *   device-cert/<index, 10 digits>  the SignedCertificate behind the record (latest accepted)
 *   device-revocation/<index>       the SignedRevocation, once revoked
 *   device-id/<dev_…>               { device } — index by device id (= by signing key)
 *   writer/<core key hex>           WriterRecord — every writer core ever certified
 *   friend/<acc_…>                  FriendRecord — a friend's latest contact card
 *   friend-key/<signing key hex>    { accountId, deviceId } — a friend's device, for the firewall
 *   address/<dev_…>                 AddressRecord — the device's last direct address, as it wrote it
 *   archive/<id hex>                ArchiveRecord — a sealed archive: its core, holders, sealed index entry
 */

/** Indices are 0..2^31−1, so ten digits keep key order equal to numeric order. */
const INDEX_DIGITS = 10

export const DEVICE_PREFIX = 'device/'
export const WRITER_PREFIX = 'writer/'

export function deviceKey(index: number): string {
  return DEVICE_PREFIX + String(index).padStart(INDEX_DIGITS, '0')
}

export function deviceCertKey(index: number): string {
  return 'device-cert/' + String(index).padStart(INDEX_DIGITS, '0')
}

export function deviceRevocationKey(index: number): string {
  return 'device-revocation/' + String(index).padStart(INDEX_DIGITS, '0')
}

export function deviceIdKey(deviceId: string): string {
  return 'device-id/' + deviceId
}

export function writerKey(coreKeyHex: string): string {
  return WRITER_PREFIX + coreKeyHex
}

/** The hyperbee range holding every key that starts with `prefix`. */
export { prefixRange } from '../src/kernel/substrate/view-read.js'

export const FRIEND_PREFIX = 'friend/'
export const FRIEND_KEY_PREFIX = 'friend-key/'

export function friendKey(accountId: string): string {
  return FRIEND_PREFIX + accountId
}

export function friendDeviceKey(signingKeyHex: string): string {
  return FRIEND_KEY_PREFIX + signingKeyHex
}

export const ADDRESS_PREFIX = 'address/'

export function addressKey(deviceId: string): string {
  return ADDRESS_PREFIX + deviceId
}

export const ARCHIVE_PREFIX = 'archive/'

export function archiveKey(id: string): string {
  return ARCHIVE_PREFIX + id
}
