import sodium from 'sodium-native'
import { KernelErrors } from '../errors.js'
import { asBuffer, isBytes } from './ed25519.js'

/**
 * libsodium crypto_secretstream_xchacha20poly1305: a chunked AEAD whose
 * chunks are chained (reordering, dropping or repeating one breaks the next)
 * and whose last chunk carries the FINAL tag (so a truncated stream is told
 * apart from a complete one).
 */
export const STREAM_KEY_BYTES = 32
export const STREAM_HEADER_BYTES = 24
/** Per-chunk overhead: 1 encrypted tag byte + 16-byte MAC. */
export const STREAM_ABYTES = 17
/** Bytes of the big-endian length prefix before each chunk in the sealStream framing. */
export const STREAM_FRAME_LENGTH_BYTES = 4
export const STREAM_DEFAULT_CHUNK_BYTES = 65536
/** The largest plaintext chunk whose ciphertext length fits the u32 frame prefix. */
export const STREAM_MAX_CHUNK_BYTES = 0xffffffff - STREAM_ABYTES

const TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
const TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL

function checkKey(key: Uint8Array): Buffer {
  if (!isBytes(key) || key.byteLength !== STREAM_KEY_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`secretstream key must be ${STREAM_KEY_BYTES} bytes`)
  }
  return asBuffer(key)
}

export class StreamEncryptor {
  readonly header: Buffer
  private readonly state: Buffer
  private done = false

  /**
   * `fixedHeader` is for test vectors only: libsodium draws the header at
   * random and has no way to pass one in, but init_pull derives exactly the
   * state init_push would have derived from that header, so the push side
   * starts from it. A header must never be reused with the same key.
   */
  constructor(key32: Uint8Array, fixedHeader?: Uint8Array) {
    const key = checkKey(key32)
    this.state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES)
    if (fixedHeader === undefined) {
      this.header = Buffer.alloc(STREAM_HEADER_BYTES)
      sodium.crypto_secretstream_xchacha20poly1305_init_push(this.state, this.header, key)
      return
    }
    if (!isBytes(fixedHeader) || fixedHeader.byteLength !== STREAM_HEADER_BYTES) {
      throw KernelErrors.CRYPTO_INVALID_INPUT(`secretstream header must be ${STREAM_HEADER_BYTES} bytes`)
    }
    this.header = Buffer.from(fixedHeader)
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(this.state, this.header, key)
  }

  get finished(): boolean {
    return this.done
  }

  /**
   * Encrypts one chunk; `final` marks the end of the stream. `ad` (optional)
   * is bound to this chunk only. `into` (optional, exactly chunk + 17 bytes)
   * receives the ciphertext instead of a new buffer, so that a caller
   * building framed blocks need not copy it.
   */
  push(chunk: Uint8Array, final = false, ad?: Uint8Array, into?: Buffer): Buffer {
    if (this.done) throw KernelErrors.CRYPTO_INVALID_INPUT('push after the final chunk')
    if (
      into !== undefined &&
      (!Buffer.isBuffer(into) || into.byteLength !== chunk.byteLength + STREAM_ABYTES)
    ) {
      throw KernelErrors.CRYPTO_INVALID_INPUT(
        `the output of a chunk is ${STREAM_ABYTES} bytes longer than the chunk`
      )
    }
    const out = into ?? Buffer.alloc(chunk.byteLength + STREAM_ABYTES)
    sodium.crypto_secretstream_xchacha20poly1305_push(
      this.state,
      out,
      asBuffer(chunk),
      ad ? asBuffer(ad) : null,
      final ? TAG_FINAL : TAG_MESSAGE
    )
    if (final) {
      this.done = true
      this.state.fill(0)
    }
    return out
  }
}

export class StreamDecryptor {
  private readonly state: Buffer
  private done = false
  private failed = false

  constructor(key32: Uint8Array, header: Uint8Array) {
    const key = checkKey(key32)
    if (!isBytes(header) || header.byteLength !== STREAM_HEADER_BYTES) {
      throw KernelErrors.CRYPTO_DECRYPT_FAILED(`secretstream header must be ${STREAM_HEADER_BYTES} bytes`)
    }
    this.state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES)
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(this.state, asBuffer(header), key)
  }

  /** True once the chunk with the FINAL tag was pulled. */
  get finished(): boolean {
    return this.done
  }

  /**
   * Decrypts and authenticates the next chunk. A failure poisons the
   * decryptor: a stream that was tampered with once is not read further.
   */
  pull(cipherChunk: Uint8Array, ad?: Uint8Array): { plaintext: Buffer; final: boolean } {
    if (this.failed) throw KernelErrors.CRYPTO_DECRYPT_FAILED('stream already failed authentication')
    if (this.done) throw KernelErrors.CRYPTO_DECRYPT_FAILED('data after the final chunk')
    if (!isBytes(cipherChunk) || cipherChunk.byteLength < STREAM_ABYTES) {
      this.fail()
      throw KernelErrors.CRYPTO_DECRYPT_FAILED('stream chunk too short')
    }
    const plaintext = Buffer.alloc(cipherChunk.byteLength - STREAM_ABYTES)
    const tag = Buffer.alloc(1)
    let n = -1
    try {
      n = sodium.crypto_secretstream_xchacha20poly1305_pull(
        this.state,
        plaintext,
        tag,
        asBuffer(cipherChunk),
        ad ? asBuffer(ad) : null
      )
    } catch (err) {
      this.fail()
      throw KernelErrors.CRYPTO_DECRYPT_FAILED('stream chunk failed authentication', { cause: err })
    }
    if (n !== plaintext.byteLength) {
      this.fail()
      throw KernelErrors.CRYPTO_DECRYPT_FAILED('stream chunk failed authentication')
    }
    // we only ever push MESSAGE and FINAL; PUSH or REKEY here means a stream from somewhere else
    if (tag[0] !== TAG_MESSAGE && tag[0] !== TAG_FINAL) {
      this.fail()
      throw KernelErrors.CRYPTO_DECRYPT_FAILED(`unexpected secretstream tag ${tag[0]}`)
    }
    const final = tag[0] === TAG_FINAL
    if (final) {
      this.done = true
      this.state.fill(0)
    }
    return { plaintext, final }
  }

  /** Declares the input exhausted: throws CRYPTO_TRUNCATED unless the final chunk was seen. */
  end(): void {
    if (this.failed) throw KernelErrors.CRYPTO_DECRYPT_FAILED('stream already failed authentication')
    if (!this.done) throw KernelErrors.CRYPTO_TRUNCATED('stream ended before its final chunk')
  }

  private fail(): void {
    this.failed = true
    this.state.fill(0)
  }
}

/**
 * Encrypts `data` in chunks of `chunkSize` plaintext bytes into a
 * self-delimiting buffer:
 *   header (24) ‖ repeated [ u32be(len c_i) ‖ c_i ]
 * where c_i = secretstream chunk (plaintext_i + 17 bytes); only the last chunk
 * has the FINAL tag. Empty data is one empty FINAL chunk. `ad` is bound to
 * every chunk.
 */
export function sealStream(
  key: Uint8Array,
  data: Uint8Array,
  chunkSize = STREAM_DEFAULT_CHUNK_BYTES,
  ad?: Uint8Array
): Buffer {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > STREAM_MAX_CHUNK_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_INPUT(`chunk size must be an integer in 1..${STREAM_MAX_CHUNK_BYTES}`)
  }
  const enc = new StreamEncryptor(key)
  const count = Math.max(1, Math.ceil(data.byteLength / chunkSize))
  const parts: Buffer[] = [enc.header]
  for (let i = 0; i < count; i++) {
    const chunk = data.subarray(i * chunkSize, Math.min(data.byteLength, (i + 1) * chunkSize))
    const c = enc.push(chunk, i === count - 1, ad)
    const len = Buffer.alloc(STREAM_FRAME_LENGTH_BYTES)
    len.writeUInt32BE(c.byteLength)
    parts.push(len, c)
  }
  return Buffer.concat(parts)
}

/**
 * Reverses sealStream. Input that stops before the FINAL chunk (including
 * mid-frame) is CRYPTO_TRUNCATED; a failed chunk, reordered or dropped
 * chunks, and any bytes after the FINAL chunk are CRYPTO_DECRYPT_FAILED.
 */
export function openStream(key: Uint8Array, framed: Uint8Array, ad?: Uint8Array): Buffer {
  checkKey(key)
  if (!isBytes(framed) || framed.byteLength < STREAM_HEADER_BYTES) {
    throw KernelErrors.CRYPTO_TRUNCATED('stream ended inside its header')
  }
  const buf = asBuffer(framed)
  const dec = new StreamDecryptor(key, buf.subarray(0, STREAM_HEADER_BYTES))
  const out: Buffer[] = []
  let at = STREAM_HEADER_BYTES
  while (!dec.finished) {
    if (buf.byteLength - at < STREAM_FRAME_LENGTH_BYTES) {
      throw KernelErrors.CRYPTO_TRUNCATED('stream ended before its final chunk')
    }
    const len = buf.readUInt32BE(at)
    at += STREAM_FRAME_LENGTH_BYTES
    if (buf.byteLength - at < len) throw KernelErrors.CRYPTO_TRUNCATED('stream ended inside a chunk')
    out.push(dec.pull(buf.subarray(at, at + len), ad).plaintext)
    at += len
  }
  if (at !== buf.byteLength) throw KernelErrors.CRYPTO_DECRYPT_FAILED('bytes after the final chunk')
  return Buffer.concat(out)
}
