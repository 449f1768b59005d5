import { asBuffer } from '../src/kernel/crypto/ed25519.js'
import { labelledHash } from '../src/kernel/crypto/hash.js'
import { XWING_PUBLIC_KEY_BYTES, XWING_SEAL_OVERHEAD_BYTES } from '../src/kernel/crypto/xwing.js'
import { ArchiveErrors } from './errors.js'

/**
 * The constants, labels and byte helpers every part of the archive format
 * shares. docs/archive.md is the byte-by-byte contract; a change here that is
 * not a new version breaks every archive already stored.
 */
export const ARCHIVE_VERSION = 1
/** "CNAR": first bytes of an encoded archive. */
export const ARCHIVE_MAGIC = Buffer.from('CNAR', 'latin1')
/** "CNIX": first bytes of an encoded index entry. */
export const INDEX_MAGIC = Buffer.from('CNIX', 'latin1')

export const ARCHIVE_ID_BYTES = 32
export const HOLDER_HASH_BYTES = 32
export const DATA_KEY_BYTES = 32
export const INDEX_KEY_BYTES = 32
export const ARCHIVE_DEFAULT_CHUNK_BYTES = 65536
/** Refused above this when sealing, and as a frame length when opening (so a reader never buffers more). */
export const ARCHIVE_MAX_CHUNK_BYTES = 1 << 20
export const ARCHIVE_MAX_TITLE_BYTES = 1024
/** Device ids and conversation ids stored in an index entry: one length byte. */
export const ARCHIVE_MAX_NAME_BYTES = 255

/** The data key sealed to the inner holder. */
export const ARCHIVE_INNER_LAYER_BYTES = XWING_SEAL_OVERHEAD_BYTES + DATA_KEY_BYTES
/** The inner layer sealed again to the outer holder: one envelope. */
export const ARCHIVE_ENVELOPE_BYTES = XWING_SEAL_OVERHEAD_BYTES + ARCHIVE_INNER_LAYER_BYTES
/** magic ‖ version ‖ id ‖ two holder hashes ‖ two length-prefixed envelopes ‖ u64 body length. */
export const ARCHIVE_HEADER_BYTES =
  ARCHIVE_MAGIC.length + 1 + ARCHIVE_ID_BYTES + 2 * HOLDER_HASH_BYTES + 2 * (4 + ARCHIVE_ENVELOPE_BYTES) + 8

export const LABEL = {
  id: 'conclave/archive/v1/id',
  holder: 'conclave/archive/v1/holder',
  header: 'conclave/archive/v1/header',
  body: 'conclave/archive/v1/body',
  keyLayer: 'conclave/archive/v1/key-layer',
  indexLayer: 'conclave/archive/v1/index-layer',
  indexPublic: 'conclave/archive/v1/index-public',
  indexEntry: 'conclave/archive/v1/index-entry',
  indexSecret: 'conclave/archive/v1/index-secret'
} as const

/** Index of a holder in the order the archive was sealed with: 0 is A, 1 is B. */
export type HolderIndex = 0 | 1
export type Pair<T> = readonly [T, T]

/** u16be(len label) ‖ label: the same framing labelledHash puts in front of its parts. */
export function labelBytes(label: string): Buffer {
  const l = Buffer.from(label, 'utf8')
  return Buffer.concat([u16(l.length), l])
}

export function u8(n: number): Buffer {
  return Buffer.from([n])
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

export function u64(n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}

/** Length-prefixed bytes, the prefix `width` bytes wide (1, 2 or 4). */
export function field(bytes: Uint8Array, width: 1 | 2 | 4): Buffer {
  const len = width === 1 ? u8(bytes.byteLength) : width === 2 ? u16(bytes.byteLength) : u32(bytes.byteLength)
  return Buffer.concat([len, bytes])
}

export function isBytesOf(b: unknown, n: number): b is Uint8Array {
  return b instanceof Uint8Array && b.byteLength === n
}

/** The hash that names a holder's X-Wing public key in headers, index entries and every layer's AD. */
export function holderHash(xwingPublicKey: Uint8Array): Buffer {
  if (!isBytesOf(xwingPublicKey, XWING_PUBLIC_KEY_BYTES)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`an X-Wing public key is ${XWING_PUBLIC_KEY_BYTES} bytes`)
  }
  return labelledHash(LABEL.holder, [xwingPublicKey])
}

/** Titles are hashed and sealed in Unicode NFC, so two spellings of one title name one archive. */
export function titleBytes(title: string): Buffer {
  if (typeof title !== 'string' || title.length === 0) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('an archive title is a non-empty string')
  }
  const b = Buffer.from(title.normalize('NFC'), 'utf8')
  if (b.byteLength > ARCHIVE_MAX_TITLE_BYTES) {
    throw ArchiveErrors.ARCHIVE_TOO_LARGE(
      `an archive title is at most ${ARCHIVE_MAX_TITLE_BYTES} UTF-8 bytes`
    )
  }
  return b
}

/**
 * The archive id: BLAKE2b-256 keyed with the account's index key over the
 * labelled title. Without the index key a relay cannot test a guessed title.
 */
export function archiveIdFor(indexKey: Uint8Array, title: string): Buffer {
  if (!isBytesOf(indexKey, INDEX_KEY_BYTES)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`the index key is ${INDEX_KEY_BYTES} bytes`)
  }
  return labelledHash(LABEL.id, [titleBytes(title)], ARCHIVE_ID_BYTES, indexKey)
}

export function checkArchiveId(archiveId: unknown): Buffer {
  if (!isBytesOf(archiveId, ARCHIVE_ID_BYTES)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`an archive id is ${ARCHIVE_ID_BYTES} bytes`)
  }
  return asBuffer(archiveId)
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads a whole encoded record: running out of bytes is a truncation
 * (ARCHIVE_INTEGRITY), a value the format does not allow is ARCHIVE_FORMAT.
 */
export class ByteReader {
  at = 0

  constructor(
    private readonly buf: Buffer,
    private readonly what: string
  ) {}

  get remaining(): number {
    return this.buf.byteLength - this.at
  }

  bytes(n: number): Buffer {
    if (this.remaining < n) throw ArchiveErrors.ARCHIVE_INTEGRITY(`${this.what} is truncated`)
    const out = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return out
  }

  slice(from: number, to: number): Buffer {
    return this.buf.subarray(from, to)
  }

  u8(): number {
    return this.bytes(1)[0]!
  }

  u16(): number {
    return this.bytes(2).readUInt16BE()
  }

  u32(): number {
    return this.bytes(4).readUInt32BE()
  }

  u64(): number {
    const n = this.bytes(8).readBigUInt64BE()
    if (n > BigInt(Number.MAX_SAFE_INTEGER))
      throw ArchiveErrors.ARCHIVE_FORMAT(`${this.what}: number too large`)
    return Number(n)
  }

  utf8(n: number): string {
    try {
      return utf8.decode(this.bytes(n))
    } catch (err) {
      if (err instanceof TypeError) throw ArchiveErrors.ARCHIVE_FORMAT(`${this.what}: text is not UTF-8`)
      throw err
    }
  }

  /** Reads the magic and version: see checkMagic. */
  magic(magic: Buffer, version: number): void {
    checkMagic(this.buf, magic, version, this.what)
    this.bytes(magic.length + 1)
  }

  end(): void {
    if (this.remaining !== 0) throw ArchiveErrors.ARCHIVE_INTEGRITY(`bytes after the end of ${this.what}`)
  }
}

/**
 * ARCHIVE_FORMAT unless `prefix` (however short) starts like magic ‖ version:
 * a short but matching prefix is left for the reader to call a truncation.
 */
export function checkMagic(prefix: Buffer, magic: Buffer, version: number, what: string): void {
  const want = Buffer.concat([magic, u8(version)])
  const head = prefix.subarray(0, want.length)
  if (head.equals(want.subarray(0, head.length))) return
  const magicOk = head
    .subarray(0, magic.length)
    .equals(magic.subarray(0, Math.min(head.length, magic.length)))
  throw ArchiveErrors.ARCHIVE_FORMAT(
    magicOk ? `${what}: unknown version ${head[magic.length]}` : `not ${what} (wrong magic)`
  )
}
