import { defineCodes } from '../src/kernel/errors.js'

/**
 * Codes of the conversations domain. The same code is thrown by a local
 * check before an append and recorded by apply when it skips an entry, so
 * every node records the same code for the same hostile entry.
 */
export const ConversationErrors = defineCodes({
  CONV_MANIFEST_INVALID: {
    status: 400,
    doc: 'Thrown when a conversation manifest fails validation: its shape, id, members, device certificates or creator signature.'
  },
  CONV_PATTERN_UNKNOWN: {
    status: 400,
    doc: 'Thrown when a manifest names a message pattern this node does not know.'
  },
  CONV_PATTERN_MISMATCH: {
    status: 400,
    doc: "Thrown when a manifest's options or consensus method do not fit its message pattern (e.g. a vote without options)."
  },
  CONV_NO_MANIFEST: {
    status: 409,
    doc: 'Thrown when a conversation entry or call needs the manifest and the log has none (yet).'
  },
  CONV_MANIFEST_EXISTS: {
    status: 409,
    doc: 'Thrown when a manifest is appended to a conversation that already has one.'
  },
  CONV_ENTRY_INVALID: {
    status: 400,
    doc: 'Thrown when a conversation log entry is not a known type and version or its fields are malformed.'
  },
  CONV_KIND_UNKNOWN: {
    status: 400,
    doc: "Thrown when a message names a kind its conversation's pattern does not have."
  },
  CONV_BODY_INVALID: {
    status: 400,
    doc: "Thrown when a message body fails its kind's schema."
  },
  CONV_BAD_SIGNATURE: {
    status: 400,
    doc: "Thrown when an entry's device signature does not verify under the signing key of the device it names."
  },
  CONV_NOT_MEMBER: {
    status: 403,
    doc: 'Thrown when an entry names an account that is not a member, or a device that is not a certified device of a member.'
  },
  CONV_DEVICE_REVOKED: {
    status: 403,
    doc: 'Thrown when an entry comes from, or names, a device whose revocation the conversation has recorded.'
  },
  CONV_DEVICE_EXISTS: {
    status: 409,
    doc: 'Thrown when a device is added to a conversation that already knows it.'
  },
  CONV_WRONG_WRITER: {
    status: 403,
    doc: 'Thrown when an entry was appended from a writer core that is not the one registered for the device that signed it.'
  },
  CONV_WRITER_CONFLICT: {
    status: 409,
    doc: 'Thrown when a writer key is registered for a device while it already belongs to another device or was retired.'
  },
  CONV_NOT_WRITABLE: {
    status: 409,
    doc: 'Thrown when this device is not (yet) a writer of the conversation log.'
  },
  CONV_FORBIDDEN: {
    status: 403,
    doc: 'Thrown when the pattern does not let this sender send this kind of message (e.g. a publish by a non-creator, a device added by another account).'
  },
  CONV_WRONG_PHASE: {
    status: 409,
    doc: "Thrown when a message kind is not allowed in the conversation's current phase (e.g. a ballot before voting opened)."
  },
  CONV_DUPLICATE: {
    status: 409,
    doc: 'Thrown when a message kind that may be sent once (per account or per conversation) is sent again.'
  },
  CONV_UNKNOWN_OPTION: {
    status: 400,
    doc: 'Thrown when a ballot names an option the manifest does not list; data.option names it.'
  },
  CONV_BALLOT_INVALID: {
    status: 400,
    doc: "Thrown when a ballot or delegation is refused by the conversation's consensus method; data.reason is the consensus reject reason (wrong-ballot-kind, duplicate-option, score-out-of-range, over-budget, …)."
  },
  CONV_CLOSED: {
    status: 409,
    doc: 'Thrown when a message is posted locally to a closed conversation (a message that reaches apply after the close is stored as late instead).'
  }
})
