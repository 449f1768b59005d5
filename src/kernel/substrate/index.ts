export { type BlindEncryption, blindEncryption, defaultWrapKey } from './blind-encryption.js'
export { type EntryCodec, jsonCodec } from './codec.js'
export {
  COPIES_POLL_MS,
  type CopiesOptions,
  type CopiesResult,
  CopiesTracker,
  type CopyPeer,
  holdersOf,
  type KnownHolder,
  peerLengths,
  waitForCopies
} from './copies.js'
export { SubstrateErrors } from './errors.js'
export {
  type Finality,
  finalityOf,
  isIndexed,
  waitForIndexed,
  waitForIndexer,
  waitForWriter
} from './finality.js'
export { coreKeyFor, discoveryKeyFor, type KeyPair } from './keys.js'
export { DEFAULT_ACK_INTERVAL_MS, openBase, SubstrateBase, type SubstrateBaseOptions } from './open-base.js'
export {
  type PeerFilter,
  Replicator,
  type ReplicatorOptions,
  type StreamAttachable,
  swarmFirewall
} from './replicator.js'
export {
  type ApplyEndHandler,
  type ApplyHandler,
  CALL_LOCAL_PREFIX,
  type BaseEntry,
  type MembershipHost,
  RESERVED_KEY_PREFIX,
  readSkipped,
  type SkipCode,
  type SkipRecord,
  safeApply,
  skipKey,
  type View,
  type ViewBatch
} from './safe-apply.js'
export { viewHash } from './view-hash.js'
export { prefixRange, readPrefix } from './view-read.js'
