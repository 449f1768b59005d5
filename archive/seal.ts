import { asBuffer } from '../src/kernel/crypto/ed25519.js'
import { randomBytes } from '../src/kernel/crypto/hash.js'
import {
  STREAM_ABYTES,
  STREAM_FRAME_LENGTH_BYTES,
  StreamEncryptor
} from '../src/kernel/crypto/secretstream.js'
import type { XWingSealRandomness } from '../src/kernel/crypto/xwing.js'
import { ArchiveErrors } from './errors.js'
import {
  ARCHIVE_DEFAULT_CHUNK_BYTES,
  ARCHIVE_MAX_CHUNK_BYTES,
  ARCHIVE_VERSION,
  checkArchiveId,
  DATA_KEY_BYTES,
  isBytesOf,
  type Pair
} from './format.js'
import {
  type ArchiveHeader,
  archiveContext,
  bodyAd,
  bodyBytesFor,
  encodedArchiveBytes,
  encodeHeader,
  headerDigest
} from './header.js'
import { holderHashes, sealEnvelopes } from './layers.js'

/** A transcript handed over in pieces (any sizes) whose total length is known up front. */
export interface TranscriptPieces {
  readonly byteLength: number
  readonly pieces: Iterable<Uint8Array>
}

export interface SealArchiveOptions {
  /** 32 bytes: archiveIdFor(indexKey, title). */
  archiveId: Uint8Array
  transcript: Uint8Array | TranscriptPieces
  /** The X-Wing public keys of holders A and B. */
  holders: Pair<Uint8Array>
  /** Plaintext bytes per chunk (and so per hypercore block), 1..ARCHIVE_MAX_CHUNK_BYTES; default 65536. */
  chunkBytes?: number
}

/** Every random input of a seal, fixed. For test vectors only. */
export interface ArchiveSealRandomness {
  dataKey: Uint8Array
  streamHeader: Uint8Array
  /** env 0 inner, env 0 outer, env 1 inner, env 1 outer */
  layers: readonly XWingSealRandomness[]
}

export interface SealedArchive extends ArchiveHeader {
  /** stream header (24) ‖ frames */
  readonly body: Buffer
}

export interface ArchiveChunks {
  readonly header: ArchiveHeader
  /** Total length of all chunks: encodedArchiveBytes(header). */
  readonly encodedBytes: number
  /**
   * The encoded archive in blocks, produced as they are pulled: first the
   * header with the stream header (4849 bytes), then one block per chunk
   * (u32 length ‖ chunk ‖ 17 bytes). Single use. If the transcript pieces do
   * not add up to their declared length it throws ARCHIVE_INVALID_INPUT, and
   * the blocks already taken end without a final chunk (no opener accepts them).
   */
  readonly chunks: Generator<Buffer, void, undefined>
}

function checkOptions(opts: SealArchiveOptions): { transcriptBytes: number; chunkBytes: number } {
  const chunkBytes = opts.chunkBytes ?? ARCHIVE_DEFAULT_CHUNK_BYTES
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('chunkBytes is a positive integer')
  }
  if (chunkBytes > ARCHIVE_MAX_CHUNK_BYTES) {
    throw ArchiveErrors.ARCHIVE_TOO_LARGE(`chunkBytes is at most ${ARCHIVE_MAX_CHUNK_BYTES}`)
  }
  const t = opts.transcript
  const transcriptBytes = t instanceof Uint8Array ? t.byteLength : t?.byteLength
  if (!Number.isSafeInteger(transcriptBytes) || transcriptBytes! < 0) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('a transcript is bytes, or pieces with a byteLength')
  }
  return { transcriptBytes: transcriptBytes!, chunkBytes }
}

/** Cuts pieces of any size into chunkBytes-long chunks (the last may be shorter), copying only across piece edges. */
function* rechunk(pieces: Iterable<Uint8Array>, chunkBytes: number): Generator<Buffer> {
  let cur: Buffer | null = null
  let fill = 0
  for (const piece of pieces) {
    if (!(piece instanceof Uint8Array))
      throw ArchiveErrors.ARCHIVE_INVALID_INPUT('a transcript piece is bytes')
    let b = asBuffer(piece)
    while (b.byteLength > 0) {
      if (fill === 0 && b.byteLength >= chunkBytes) {
        yield b.subarray(0, chunkBytes)
        b = b.subarray(chunkBytes)
        continue
      }
      cur ??= Buffer.allocUnsafe(chunkBytes)
      const n = Math.min(chunkBytes - fill, b.byteLength)
      b.copy(cur, fill, 0, n)
      fill += n
      b = b.subarray(n)
      if (fill === chunkBytes) {
        // the consumer encrypts a chunk before asking for the next, so the buffer can be refilled
        yield cur
        fill = 0
      }
    }
  }
  if (fill > 0) yield cur!.subarray(0, fill)
}

function plaintextChunks(t: Uint8Array | TranscriptPieces, chunkBytes: number): Iterable<Buffer> {
  if (!(t instanceof Uint8Array)) return rechunk(t.pieces, chunkBytes)
  const b = asBuffer(t)
  return (function* () {
    for (let at = 0; at < b.byteLength; at += chunkBytes) yield b.subarray(at, at + chunkBytes)
  })()
}

/**
 * Seals a transcript for two holders, block by block (see ArchiveChunks):
 * a fresh data key encrypts the body; the envelopes hold it double-sealed.
 * `fixed` is for test vectors only.
 */
export function sealArchiveChunks(opts: SealArchiveOptions, fixed?: ArchiveSealRandomness): ArchiveChunks {
  const { transcriptBytes, chunkBytes } = checkOptions(opts)
  const archiveId = Buffer.from(checkArchiveId(opts.archiveId))
  const holders = holderHashes(opts.holders)
  if (fixed !== undefined && !isBytesOf(fixed.dataKey, DATA_KEY_BYTES)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`a data key is ${DATA_KEY_BYTES} bytes`)
  }
  const dataKey = fixed ? Buffer.from(fixed.dataKey) : randomBytes(DATA_KEY_BYTES)
  const envelopes = sealEnvelopes(
    dataKey,
    opts.holders,
    archiveContext({ archiveId, holders }),
    fixed?.layers
  )
  const bodyBytes = bodyBytesFor(transcriptBytes, chunkBytes)
  const encoded = encodeHeader({ archiveId, holders, envelopes, bodyBytes })
  const header: ArchiveHeader = {
    version: ARCHIVE_VERSION,
    archiveId,
    holders,
    envelopes,
    bodyBytes,
    digest: headerDigest(encoded)
  }
  let enc: StreamEncryptor
  try {
    enc = new StreamEncryptor(dataKey, fixed?.streamHeader)
  } catch (err) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('malformed fixed stream header', { cause: err })
  }
  const count = Math.max(1, Math.ceil(transcriptBytes / chunkBytes))
  const ad = bodyAd(header)
  function* chunks(): Generator<Buffer, void, undefined> {
    try {
      yield Buffer.concat([encoded, enc.header])
      let index = 0
      let seen = 0
      const frame = (plain: Buffer, final: boolean): Buffer => {
        const out = Buffer.allocUnsafe(STREAM_FRAME_LENGTH_BYTES + plain.byteLength + STREAM_ABYTES)
        out.writeUInt32BE(plain.byteLength + STREAM_ABYTES)
        enc.push(plain, final, ad, out.subarray(STREAM_FRAME_LENGTH_BYTES))
        return out
      }
      for (const plain of plaintextChunks(opts.transcript, chunkBytes)) {
        seen += plain.byteLength
        if (seen > transcriptBytes) {
          throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the transcript pieces are longer than their byteLength')
        }
        index++
        yield frame(plain, index === count)
      }
      if (seen !== transcriptBytes) {
        throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the transcript pieces are shorter than their byteLength')
      }
      if (transcriptBytes === 0) yield frame(Buffer.alloc(0), true)
    } finally {
      dataKey.fill(0)
    }
  }
  return { header, encodedBytes: encodedArchiveBytes(header), chunks: chunks() }
}

/** Seals a transcript in one call (see sealArchiveChunks); the body is built with one copy. */
export function sealArchive(opts: SealArchiveOptions, fixed?: ArchiveSealRandomness): SealedArchive {
  const sealing = sealArchiveChunks(opts, fixed)
  const headerBytes = sealing.encodedBytes - sealing.header.bodyBytes
  const parts: Buffer[] = []
  for (const chunk of sealing.chunks) parts.push(parts.length === 0 ? chunk.subarray(headerBytes) : chunk)
  return { ...sealing.header, body: Buffer.concat(parts, sealing.header.bodyBytes) }
}

/** The archive as stored: header ‖ body (docs/archive.md). */
export function encodeArchive(archive: SealedArchive): Buffer {
  if (archive.body.byteLength !== archive.bodyBytes) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the body length does not match the header')
  }
  return Buffer.concat([encodeHeader(archive), archive.body])
}
