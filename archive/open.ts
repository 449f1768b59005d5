import { asBuffer } from '../src/kernel/crypto/ed25519.js'
import { equalBytes } from '../src/kernel/crypto/hash.js'
import {
  STREAM_ABYTES,
  STREAM_FRAME_LENGTH_BYTES,
  STREAM_HEADER_BYTES,
  StreamDecryptor
} from '../src/kernel/crypto/secretstream.js'
import { isConclaveError } from '../src/kernel/errors.js'
import { ArchiveErrors } from './errors.js'
import {
  ARCHIVE_HEADER_BYTES,
  ARCHIVE_MAGIC,
  ARCHIVE_MAX_CHUNK_BYTES,
  ARCHIVE_VERSION,
  ByteReader,
  checkArchiveId,
  checkMagic,
  DATA_KEY_BYTES,
  isBytesOf
} from './format.js'
import { type ArchiveHeader, archiveContext, bodyAd, encodedArchiveBytes, readHeader } from './header.js'
import type { LayerContext } from './layers.js'
import type { SealedArchive } from './seal.js'

/** Bytes pushed in pieces, taken out in runs; a run inside one piece is a view, not a copy. */
class ByteQueue {
  private parts: Buffer[] = []
  /** index of the first piece still (partly) queued, and the offset into it */
  private first = 0
  private head = 0
  length = 0

  push(b: Buffer): void {
    if (b.byteLength === 0) return
    this.parts.push(b)
    this.length += b.byteLength
  }

  /** The next n bytes without consuming them: a view when they lie in one piece. */
  peek(n: number): Buffer | null {
    if (this.length < n) return null
    const p0 = this.parts[this.first]
    if (p0 === undefined || n === 0) return Buffer.alloc(0)
    if (p0.byteLength - this.head >= n) return p0.subarray(this.head, this.head + n)
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    for (let i = this.first, from = this.head; filled < n; i++, from = 0) {
      const p = this.parts[i]!
      const k = Math.min(n - filled, p.byteLength - from)
      p.copy(out, filled, from, from + k)
      filled += k
    }
    return out
  }

  take(n: number): Buffer | null {
    const out = this.peek(n)
    if (out === null) return null
    this.length -= n
    this.head += n
    while (this.first < this.parts.length && this.head >= this.parts[this.first]!.byteLength) {
      this.head -= this.parts[this.first]!.byteLength
      this.first++
    }
    // drop consumed pieces now and then, so the array neither grows nor is shifted one by one
    if (this.first > 64 && this.first * 2 > this.parts.length) {
      this.parts = this.parts.slice(this.first)
      this.first = 0
    }
    return out
  }

  /** Everything still queued, as views. */
  drain(): Buffer[] {
    const out = this.parts.slice(this.first).map((p, i) => (i === 0 ? p.subarray(this.head) : p))
    this.parts = []
    this.first = 0
    this.head = 0
    this.length = 0
    return out
  }
}

/** Runs `fn`; any failure becomes a coded archive error (a kernel crypto error is ARCHIVE_INTEGRITY). */
function coded<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (isConclaveError(err) && err.code.startsWith('ARCHIVE_')) throw err
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the archive body does not authenticate', { cause: err })
  }
}

export interface ArchiveProgress {
  /** Bytes pushed so far, header included. */
  readonly receivedBytes: number
  /** The encoded archive's length, once its header has been read. */
  readonly totalBytes: number | null
  /** Plaintext bytes authenticated so far (held back until the final chunk). */
  readonly plaintextBytes: number
  readonly chunks: number
  /** True once the final chunk has been authenticated. */
  readonly finished: boolean
}

/**
 * Decrypts a body pushed in pieces of any size. Plaintext is kept until the
 * final chunk and its exact length are confirmed: end() is the only way out,
 * so a stream cut short never yields plaintext. Any failure poisons it.
 */
class BodyReader {
  private readonly queue = new ByteQueue()
  private readonly key: Buffer
  private readonly ad: Buffer
  private dec: StreamDecryptor | null = null
  private frameLength: number | null = null
  private plain: Buffer[] = []
  private failed = false
  finished = false
  received = 0
  plaintextBytes = 0
  chunks = 0

  constructor(
    dataKey: Uint8Array,
    header: Pick<ArchiveHeader, 'archiveId' | 'digest'>,
    private readonly expectedBytes: number
  ) {
    if (!isBytesOf(dataKey, DATA_KEY_BYTES)) {
      throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`a data key is ${DATA_KEY_BYTES} bytes`)
    }
    this.key = Buffer.from(dataKey)
    this.ad = bodyAd(header)
  }

  push(bytes: Buffer): void {
    this.guard(() => {
      this.received += bytes.byteLength
      if (this.received > this.expectedBytes)
        throw ArchiveErrors.ARCHIVE_INTEGRITY('bytes after the end of the body')
      this.queue.push(bytes)
      this.drain()
    })
  }

  end(): Buffer {
    return this.guard(() => {
      if (!this.finished) throw ArchiveErrors.ARCHIVE_INTEGRITY('the body ends before its final chunk')
      const out = Buffer.concat(this.plain, this.plaintextBytes)
      this.plain = []
      return out
    })
  }

  private drain(): void {
    for (;;) {
      if (this.finished) {
        if (this.queue.length > 0) throw ArchiveErrors.ARCHIVE_INTEGRITY('bytes after the final chunk')
        return
      }
      if (this.dec === null) {
        const header = this.queue.take(STREAM_HEADER_BYTES)
        if (header === null) return
        this.dec = new StreamDecryptor(this.key, header)
        continue
      }
      if (this.frameLength === null) {
        const len = this.queue.take(STREAM_FRAME_LENGTH_BYTES)
        if (len === null) return
        const n = len.readUInt32BE()
        if (n < STREAM_ABYTES || n > ARCHIVE_MAX_CHUNK_BYTES + STREAM_ABYTES) {
          throw ArchiveErrors.ARCHIVE_FORMAT(`a body chunk of ${n} bytes is outside the format`)
        }
        this.frameLength = n
      }
      const frame = this.queue.take(this.frameLength)
      if (frame === null) return
      this.frameLength = null
      const { plaintext, final } = this.dec.pull(frame, this.ad)
      this.plain.push(plaintext)
      this.plaintextBytes += plaintext.byteLength
      this.chunks++
      if (final) {
        this.finished = true
        this.key.fill(0)
        // the header said how long the body is; the final chunk must sit exactly there
        if (this.received - this.queue.length !== this.expectedBytes) {
          throw ArchiveErrors.ARCHIVE_INTEGRITY('the final chunk is not at the end of the body')
        }
      }
    }
  }

  private guard<T>(fn: () => T): T {
    if (this.failed) throw ArchiveErrors.ARCHIVE_INTEGRITY('the archive body already failed authentication')
    try {
      return coded(fn)
    } catch (err) {
      this.failed = true
      this.key.fill(0)
      for (const p of this.plain) p.fill(0)
      this.plain = []
      throw err
    }
  }
}

/**
 * Step 3 of the open: decrypts a body with the data key peelInner returned,
 * under its header's archive id and digest (a SealedArchive is its own
 * header). Throws ARCHIVE_INTEGRITY for a wrong key, archive id or header,
 * any changed, missing, reordered or extra byte or chunk, and a body without
 * its final chunk.
 */
export function openBody(
  dataKey: Uint8Array,
  header: Pick<ArchiveHeader, 'archiveId' | 'digest'>,
  body: Uint8Array
): Buffer {
  if (!(body instanceof Uint8Array)) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('a body is bytes')
  if (header === null || typeof header !== 'object' || !isBytesOf(header.digest, 32)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('openBody needs the archive header (id and digest)')
  }
  const id = checkArchiveId(header.archiveId)
  const reader = new BodyReader(dataKey, { archiveId: id, digest: asBuffer(header.digest) }, body.byteLength)
  reader.push(asBuffer(body))
  return reader.end()
}

/**
 * Reads an encoded archive (header and body, no copy of the body). Checks
 * the structure only: authenticity is checked by the peels and openBody.
 */
export function decodeArchive(bytes: Uint8Array): SealedArchive {
  if (!(bytes instanceof Uint8Array)) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('an archive is bytes')
  const r = new ByteReader(asBuffer(bytes), 'an archive')
  const header = readHeader(r)
  const body = r.bytes(header.bodyBytes)
  r.end()
  return { ...header, body }
}

/** What the opener checks the header against, from the index entry. */
export interface ArchiveExpectation {
  archiveId?: Uint8Array
  headerDigest?: Uint8Array
}

/**
 * Opens an encoded archive pushed block by block (as read from a hypercore):
 * push blocks; once `header` is set, do the two-device peel with
 * `context()` and `header.envelopes`; unlock(dataKey); push the rest; end()
 * returns the transcript. Blocks pushed before unlock are kept, then
 * decrypted. Every failure is a coded ArchiveError and poisons the opener;
 * no plaintext leaves it before the final chunk is authenticated.
 */
export class ArchiveOpener {
  private readonly expect: { archiveId: Buffer | null; headerDigest: Buffer | null }
  private readonly pending = new ByteQueue()
  private parsed: ArchiveHeader | null = null
  private body: BodyReader | null = null
  private failed = false
  private received = 0

  constructor(expect: ArchiveExpectation = {}) {
    const digest = expect.headerDigest
    if (digest !== undefined && !isBytesOf(digest, 32)) {
      throw ArchiveErrors.ARCHIVE_INVALID_INPUT('a header digest is 32 bytes')
    }
    this.expect = {
      archiveId: expect.archiveId === undefined ? null : Buffer.from(checkArchiveId(expect.archiveId)),
      headerDigest: digest === undefined ? null : Buffer.from(digest)
    }
  }

  /** The parsed header, once ARCHIVE_HEADER_BYTES have arrived. */
  get header(): ArchiveHeader | null {
    return this.parsed
  }

  get progress(): ArchiveProgress {
    return {
      receivedBytes: this.received,
      totalBytes: this.parsed ? encodedArchiveBytes(this.parsed) : null,
      plaintextBytes: this.body?.plaintextBytes ?? 0,
      chunks: this.body?.chunks ?? 0,
      finished: this.body?.finished ?? false
    }
  }

  /** The context the envelopes are peeled with. */
  context(): LayerContext {
    if (!this.parsed) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the header has not arrived yet')
    return archiveContext(this.parsed)
  }

  push(block: Uint8Array): void {
    if (!(block instanceof Uint8Array)) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('a block is bytes')
    this.guard(() => {
      this.received += block.byteLength
      if (this.body) return this.body.push(asBuffer(block))
      this.pending.push(asBuffer(block))
      if (!this.parsed) this.readHeader()
    })
  }

  /** Gives the data key (from peelInner) and decrypts what has arrived. */
  unlock(dataKey: Uint8Array): void {
    this.guard(() => {
      if (!this.parsed) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('unlock before the header has arrived')
      if (this.body) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('already unlocked')
      const body = new BodyReader(dataKey, this.parsed, this.parsed.bodyBytes)
      this.body = body
      for (const part of this.pending.drain()) body.push(part)
    })
  }

  /** Declares the input complete; returns the transcript if the archive authenticated to its last byte. */
  end(): Buffer {
    return this.guard(() => {
      if (!this.parsed) throw ArchiveErrors.ARCHIVE_INTEGRITY('the archive ends inside its header')
      if (!this.body) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('unlock with the data key before end()')
      return this.body.end()
    })
  }

  private readHeader(): void {
    const prefix = this.pending.peek(Math.min(this.pending.length, ARCHIVE_MAGIC.length + 1))!
    checkMagic(prefix, ARCHIVE_MAGIC, ARCHIVE_VERSION, 'an archive')
    const head = this.pending.take(ARCHIVE_HEADER_BYTES)
    if (head === null) return
    const header = readHeader(new ByteReader(head, 'an archive'))
    if (this.expect.archiveId && !equalBytes(this.expect.archiveId, header.archiveId)) {
      throw ArchiveErrors.ARCHIVE_INTEGRITY('the archive has another archive id than expected')
    }
    if (this.expect.headerDigest && !equalBytes(this.expect.headerDigest, header.digest)) {
      throw ArchiveErrors.ARCHIVE_INTEGRITY('the archive header is not the one the index entry names')
    }
    this.parsed = header
  }

  private guard<T>(fn: () => T): T {
    if (this.failed) throw ArchiveErrors.ARCHIVE_INTEGRITY('the archive already failed to open')
    try {
      return fn()
    } catch (err) {
      // a caller's mistake (no key yet) does not spoil the bytes received so far
      if (isConclaveError(err, 'ARCHIVE_INVALID_INPUT')) throw err
      this.failed = true
      throw isConclaveError(err) && err.code.startsWith('ARCHIVE_')
        ? err
        : ArchiveErrors.ARCHIVE_INTEGRITY('the archive does not open', { cause: err })
    }
  }
}
