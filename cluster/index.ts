export { type ArchiveRecord, ArchiveRecordSchema } from './archives.js'
export { type AddressRecord, AddressEntrySchema, applyAddress } from './addresses.js'
export { type ApplyContext, type ClusterRules, batchContext, dryRunContext } from './apply-context.js'
export {
  CERT_CONTEXT,
  type DeviceCertificate,
  DeviceCertificateSchema,
  issueCertificate,
  issueRevocation,
  REVOCATION_CONTEXT,
  type Revocation,
  RevocationSchema,
  type SignedCertificate,
  type SignedRevocation,
  verifyCertificate,
  verifyRevocation
} from './certificate.js'
export { Cluster, type ClusterComponents, type ClusterEvents, type ClusterInit } from './cluster.js'
export {
  ADDRESS,
  type AddressEntry,
  addressEntry,
  CERTIFY,
  type CertifyEntry,
  type ClusterEntry,
  certifyEntry,
  REVOKE,
  type RevokeEntry,
  revokeEntry
} from './entries.js'
export { clusterApply, ENTRY_KINDS, type EntryKind, parseEntry, runEntry } from './entry-kinds.js'
export { ClusterErrors } from './errors.js'
export { encodeFrame, FrameChannel, FrameError, FrameReader, MAX_FRAME_BYTES } from './frames.js'
export {
  createInvite,
  decodeInvite,
  encodeInvite,
  INVITE_PREFIX,
  type Invite,
  type InviteKeys,
  inviteKeys,
  isExpired
} from './invite.js'
export { type DeviceRecord, type Role, type WriterRecord } from './membership.js'
export {
  type JoinOptions,
  joinWithInvite,
  PAIRING_LINGER_MS,
  PAIRING_TIMEOUT_MS,
  type PairedEvent,
  PairingServer,
  type PairingServerOptions,
  type RefusedEvent
} from './pairing.js'
export * as viewLayout from './view-layout.js'
export {
  CARD_CONTEXT,
  CARD_PREFIX,
  type ContactCard,
  ContactCardSchema,
  cardRootPublic,
  decodeCardText,
  encodeCardText,
  issueCard,
  type SignedCard,
  verifyCard
} from './contact-card.js'
export { type FriendDevice, type FriendRecord } from './friends.js'
