export { ArchiveErrors } from './errors.js'
export {
  ARCHIVE_DEFAULT_CHUNK_BYTES,
  ARCHIVE_ENVELOPE_BYTES,
  ARCHIVE_HEADER_BYTES,
  ARCHIVE_ID_BYTES,
  ARCHIVE_INNER_LAYER_BYTES,
  ARCHIVE_MAGIC,
  ARCHIVE_MAX_CHUNK_BYTES,
  ARCHIVE_MAX_NAME_BYTES,
  ARCHIVE_MAX_TITLE_BYTES,
  ARCHIVE_VERSION,
  archiveIdFor,
  DATA_KEY_BYTES,
  HOLDER_HASH_BYTES,
  type HolderIndex,
  holderHash,
  INDEX_KEY_BYTES,
  INDEX_MAGIC,
  type Pair
} from './format.js'
export { type ArchiveHeader, archiveContext, encodedArchiveBytes } from './header.js'
export {
  decodeIndexEntry,
  encodeIndexEntry,
  type IndexEntryPublic,
  indexEntryContext,
  type IndexHolder,
  type IndexSealRandomness,
  type IndexSecret,
  openIndexEntry,
  type SealedIndexEntry,
  type SealIndexEntryOptions,
  sealIndexEntry
} from './index-entry.js'
export { type Envelope, envelopeFor, type LayerContext, peelInner, peelOuter } from './layers.js'
export {
  type ArchiveExpectation,
  ArchiveOpener,
  type ArchiveProgress,
  decodeArchive,
  openBody
} from './open.js'
export {
  type ArchiveChunks,
  type ArchiveSealRandomness,
  encodeArchive,
  type SealArchiveOptions,
  type SealedArchive,
  sealArchive,
  sealArchiveChunks,
  type TranscriptPieces
} from './seal.js'
