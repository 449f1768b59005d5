/**
 * The conversations domain: the manifest, the message patterns, the
 * conversation autobase and its view (docs/conversations.md). The node
 * wires a Conversation to a store namespace, the network and the cluster.
 */
export { MAX_INDEXERS } from './apply.js'
export {
  type CertifiedDevice,
  CERT_CONTEXT,
  checkCertificate,
  checkRevocation,
  REVOCATION_CONTEXT,
  type RootPublic,
  type SignedCert,
  type SignedRevocation
} from './certificates.js'
export {
  Conversation,
  type ConversationComponents,
  type ConversationDevice,
  type ConversationEvents,
  type ConversationOptions,
  type ConversationSummary,
  type PostResult,
  type ShowOptions,
  type ShownDevice,
  type ShownOutcome
} from './conversation.js'
export {
  type ConversationEntry,
  type MessageEntry,
  type WriterRequest,
  WriterRequestSchema,
  signWriterRequest,
  verifyMessageRecord
} from './entries.js'
export { ConversationErrors } from './errors.js'
export {
  CONVERSATION_KEY_BYTES,
  newConversationKey,
  openConversationKey,
  sealConversationKey
} from './keys.js'
export {
  buildManifest,
  checkManifest,
  type ConsensusPart,
  consensusConfigOf,
  conversationIdFor,
  type Manifest,
  type ManifestInput,
  ManifestInputSchema,
  type ManifestRules,
  ManifestSchema,
  type Member
} from './manifest.js'
export {
  getPattern,
  HEARTBEAT_KIND,
  type KindSpec,
  listPatterns,
  type Pattern,
  type Sender,
  type TallyMapping
} from './patterns.js'
export type { MessageRecord, OutcomeRecord, TallyRecord } from './view-layout.js'
