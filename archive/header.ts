import { labelledHash } from '../src/kernel/crypto/hash.js'
import {
  STREAM_ABYTES,
  STREAM_FRAME_LENGTH_BYTES,
  STREAM_HEADER_BYTES
} from '../src/kernel/crypto/secretstream.js'
import { ArchiveErrors } from './errors.js'
import {
  ARCHIVE_HEADER_BYTES,
  ARCHIVE_ID_BYTES,
  ARCHIVE_MAGIC,
  ARCHIVE_VERSION,
  ByteReader,
  HOLDER_HASH_BYTES,
  LABEL,
  labelBytes,
  type Pair,
  u8,
  u64
} from './format.js'
import { type Envelope, encodeEnvelopes, type LayerContext, readEnvelopes } from './layers.js'

/** The part of an encoded archive before its body. */
export interface ArchiveHeader {
  readonly version: number
  readonly archiveId: Buffer
  /** holderHash of A's and B's X-Wing public keys, in the order the archive was sealed with. */
  readonly holders: Pair<Buffer>
  /** envelopes[0]: inner A, outer B; envelopes[1]: inner B, outer A. */
  readonly envelopes: Pair<Envelope>
  readonly bodyBytes: number
  /**
   * Labelled BLAKE2b-256 of the encoded header. Pinned in the (signed)
   * index entry it fixes the envelopes, hence the data key, hence the body:
   * nobody without the data key can make another archive that matches.
   */
  readonly digest: Buffer
}

/** The smallest body: stream header ‖ one frame holding an empty FINAL chunk. */
export const ARCHIVE_MIN_BODY_BYTES = STREAM_HEADER_BYTES + STREAM_FRAME_LENGTH_BYTES + STREAM_ABYTES

/** Body bytes for a transcript: stream header, then per chunk a u32 length and the chunk plus 17 bytes. */
export function bodyBytesFor(transcriptBytes: number, chunkBytes: number): number {
  const chunks = Math.max(1, Math.ceil(transcriptBytes / chunkBytes))
  return STREAM_HEADER_BYTES + chunks * (STREAM_FRAME_LENGTH_BYTES + STREAM_ABYTES) + transcriptBytes
}

export function encodedArchiveBytes(header: Pick<ArchiveHeader, 'bodyBytes'>): number {
  return ARCHIVE_HEADER_BYTES + header.bodyBytes
}

/** The context every layer of an archive's envelopes is bound to. */
export function archiveContext(archive: Pick<ArchiveHeader, 'archiveId' | 'holders'>): LayerContext {
  return { purpose: 'key', archiveId: archive.archiveId, holders: archive.holders }
}

/**
 * AD of every body chunk: u16be(len label) ‖ label ‖ u8 version ‖ archive id (32) ‖ header digest (32).
 * The digest makes the body vouch for every header byte, the envelope not used to open included.
 */
export function bodyAd(header: Pick<ArchiveHeader, 'archiveId' | 'digest'>): Buffer {
  return Buffer.concat([labelBytes(LABEL.body), u8(ARCHIVE_VERSION), header.archiveId, header.digest])
}

export function encodeHeader(fields: Omit<ArchiveHeader, 'digest' | 'version'>): Buffer {
  return Buffer.concat([
    ARCHIVE_MAGIC,
    u8(ARCHIVE_VERSION),
    fields.archiveId,
    fields.holders[0],
    fields.holders[1],
    encodeEnvelopes(fields.envelopes),
    u64(fields.bodyBytes)
  ])
}

export function headerDigest(encodedHeader: Buffer): Buffer {
  return labelledHash(LABEL.header, [encodedHeader])
}

/** Parses the header from the reader's position; the body is left to read. */
export function readHeader(r: ByteReader): ArchiveHeader {
  const start = r.at
  r.magic(ARCHIVE_MAGIC, ARCHIVE_VERSION)
  const archiveId = r.bytes(ARCHIVE_ID_BYTES)
  const holders = [r.bytes(HOLDER_HASH_BYTES), r.bytes(HOLDER_HASH_BYTES)] as const
  const envelopes = readEnvelopes(r)
  const bodyBytes = r.u64()
  if (bodyBytes < ARCHIVE_MIN_BODY_BYTES) {
    throw ArchiveErrors.ARCHIVE_FORMAT(`a body is at least ${ARCHIVE_MIN_BODY_BYTES} bytes`)
  }
  const digest = headerDigest(r.slice(start, r.at))
  return { version: ARCHIVE_VERSION, archiveId, holders, envelopes, bodyBytes, digest }
}
