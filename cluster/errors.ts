import { defineCodes } from '../src/kernel/errors.js'

export const ClusterErrors = defineCodes({
  CLUSTER_CERT_INVALID: {
    status: 400,
    doc: 'Thrown when a device certificate or revocation is malformed or not signed by both root keys of the account.'
  },
  CLUSTER_ENTRY_INVALID: {
    status: 400,
    doc: 'Thrown when a cluster log entry fails validation (it is skipped and recorded in apply).'
  },
  CLUSTER_ENTRY_UNSUPPORTED: {
    status: 400,
    doc: 'Thrown when a cluster log entry has a type or version this node does not know (it is skipped and recorded in apply).'
  },
  CLUSTER_CERT_CONFLICT: {
    status: 409,
    doc: 'Thrown when a valid certificate contradicts the membership view: an older epoch, another writer at the same epoch, a reused writer key, other device keys for a known index, an indexer change without a new epoch, or a non-indexer bootstrap writer.'
  },
  CLUSTER_LAST_INDEXER: {
    status: 409,
    doc: 'Thrown when a revocation would remove the last indexer of the cluster log.'
  },
  CLUSTER_NOT_MEMBER: {
    status: 403,
    doc: 'Thrown when an entry or connection comes from a key that is not a certified, unrevoked device.'
  },
  CLUSTER_DEVICE_UNKNOWN: {
    status: 404,
    doc: 'Thrown when a device id or index names no device of the account.'
  },
  CLUSTER_DEVICE_REVOKED: {
    status: 409,
    doc: 'Thrown when an operation names a device that has been revoked.'
  },
  CLUSTER_INVITE_INVALID: {
    status: 400,
    doc: 'Thrown when an invite text is malformed, forged or for another cluster.'
  },
  CLUSTER_INVITE_EXPIRED: {
    status: 410,
    doc: 'Thrown when an invite is used after its expiry or after it was already used.'
  },
  CLUSTER_PAIRING_FAILED: {
    status: 502,
    doc: 'Thrown when pairing cannot reach the inviting device or the exchange is refused.'
  },
  CLUSTER_CARD_INVALID: {
    status: 400,
    doc: 'Thrown when a contact card is malformed, its account id does not match its root keys, or a signature on it does not verify.'
  },
  CLUSTER_FRIEND_SELF: {
    status: 400,
    doc: "Thrown when a contact card of this device's own account is added as a friend."
  },
  CLUSTER_FRIEND_STALE: {
    status: 409,
    doc: 'Thrown when a contact card is not newer than the card already stored for that friend.'
  },
  CLUSTER_ADDRESS_NOT_OWN: {
    status: 403,
    doc: 'Thrown when a cluster/address entry names another device than the one whose writer appended it: a device writes only its own address.'
  },
  CLUSTER_ADDRESS_STALE: {
    status: 409,
    doc: 'Thrown when a cluster/address entry is not newer (`at`) than the address on record for that device.'
  },
  CLUSTER_NOT_WRITABLE: {
    status: 409,
    doc: 'Thrown when this device is not (yet) a writer of the cluster log.'
  },
  CLUSTER_ARCHIVE_NOT_OWN: {
    status: 403,
    doc: 'Thrown when an archive record names another device than the one appending it.'
  },
  CLUSTER_ARCHIVE_HOLDER: {
    status: 400,
    doc: 'Thrown when an archive record does not name two different current, unrevoked access devices of the account as holders.'
  },
  CLUSTER_ARCHIVE_EXISTS: {
    status: 409,
    doc: 'Thrown when an archive with the same id is already recorded (the first in the log order wins).'
  }
})
