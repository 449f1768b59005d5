import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, aeadDecrypt, aeadEncrypt } from '../src/kernel/crypto/aead.js'
import { asBuffer } from '../src/kernel/crypto/ed25519.js'
import { equalBytes, labelledHash, randomBytes } from '../src/kernel/crypto/hash.js'
import type { XWingSealRandomness } from '../src/kernel/crypto/xwing.js'
import { ArchiveErrors } from './errors.js'
import {
  ARCHIVE_ID_BYTES,
  ARCHIVE_MAX_NAME_BYTES,
  ARCHIVE_MAX_TITLE_BYTES,
  ARCHIVE_VERSION,
  archiveIdFor,
  ByteReader,
  DATA_KEY_BYTES,
  field,
  HOLDER_HASH_BYTES,
  INDEX_MAGIC,
  isBytesOf,
  LABEL,
  labelBytes,
  type Pair,
  titleBytes,
  u8,
  u64
} from './format.js'
import { type ArchiveHeader, encodedArchiveBytes } from './header.js'
import {
  type Envelope,
  encodeEnvelopes,
  holderHashes,
  type LayerContext,
  peelInner,
  readEnvelopes,
  sealEnvelopes
} from './layers.js'

/**
 * An archive's index entry, sealed like the archive itself: the public part
 * lets relays and the node list and place archives; a fresh entry key,
 * double-sealed to the archive's two holders, encrypts the secret part (the
 * title), whose AD covers every byte before it.
 */
export interface IndexHolder {
  /** holderHash of the holder's X-Wing public key */
  readonly keyHash: Buffer
  /** as given by the caller (e.g. a printable device id); at most 255 UTF-8 bytes, may be empty */
  readonly deviceId: string
}

export interface IndexEntryPublic {
  readonly version: number
  readonly archiveId: Buffer
  /** length of the encoded archive */
  readonly archiveBytes: number
  /** milliseconds since the Unix epoch, as given */
  readonly createdAt: number
  /** the archive's header digest: pins the archive this entry names */
  readonly headerDigest: Buffer
  readonly holders: Pair<IndexHolder>
  /** as given (at most 255 UTF-8 bytes) */
  readonly conversationId: string
}

export interface SealedIndexEntry extends IndexEntryPublic {
  /** the entry key, double-sealed */
  readonly envelopes: Pair<Envelope>
  /** nonce (24) ‖ XChaCha20-Poly1305 of the title ‖ tag (16) */
  readonly secret: Buffer
}

export interface IndexSecret {
  /** NFC */
  readonly title: string
}

export interface SealIndexEntryOptions {
  indexKey: Uint8Array
  title: string
  /** the sealed archive's header (SealedArchive, ArchiveChunks.header, or decodeArchive's result) */
  archive: ArchiveHeader
  /** the X-Wing public keys the archive was sealed to, in the same order */
  holders: Pair<Uint8Array>
  deviceIds?: Pair<string>
  createdAt: number
  conversationId: string
}

/** Every random input of an index entry, fixed. For test vectors only. */
export interface IndexSealRandomness {
  entryKey: Uint8Array
  nonce: Uint8Array
  /** env 0 inner, env 0 outer, env 1 inner, env 1 outer */
  layers: readonly XWingSealRandomness[]
}

const MIN_SECRET_BYTES = AEAD_NONCE_BYTES + 1 + AEAD_TAG_BYTES
const MAX_SECRET_BYTES = AEAD_NONCE_BYTES + ARCHIVE_MAX_TITLE_BYTES + AEAD_TAG_BYTES

function nameBytes(name: unknown, what: string): Buffer {
  if (typeof name !== 'string') throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`${what} is a string`)
  const b = Buffer.from(name, 'utf8')
  if (b.byteLength > ARCHIVE_MAX_NAME_BYTES) {
    throw ArchiveErrors.ARCHIVE_TOO_LARGE(`${what} is at most ${ARCHIVE_MAX_NAME_BYTES} UTF-8 bytes`)
  }
  return b
}

function encodePublic(e: IndexEntryPublic): Buffer {
  return Buffer.concat([
    INDEX_MAGIC,
    u8(ARCHIVE_VERSION),
    e.archiveId,
    u64(e.archiveBytes),
    u64(e.createdAt),
    e.headerDigest,
    e.holders[0].keyHash,
    field(nameBytes(e.holders[0].deviceId, 'a device id'), 1),
    e.holders[1].keyHash,
    field(nameBytes(e.holders[1].deviceId, 'a device id'), 1),
    field(nameBytes(e.conversationId, 'a conversation id'), 1)
  ])
}

/** The context every layer of an index entry is bound to: the archive, the holders and the whole public part. */
export function indexEntryContext(entry: IndexEntryPublic): LayerContext {
  return {
    purpose: 'index',
    archiveId: entry.archiveId,
    holders: [entry.holders[0].keyHash, entry.holders[1].keyHash],
    binding: labelledHash(LABEL.indexPublic, [encodePublic(entry)])
  }
}

/** AD of the secret part: u16be(len label) ‖ label ‖ u8 version ‖ labelled digest of all bytes before it. */
function secretAd(entry: Omit<SealedIndexEntry, 'secret'>): Buffer {
  const before = Buffer.concat([encodePublic(entry), encodeEnvelopes(entry.envelopes)])
  return Buffer.concat([
    labelBytes(LABEL.indexSecret),
    u8(ARCHIVE_VERSION),
    labelledHash(LABEL.indexEntry, [before])
  ])
}

/**
 * Seals the index entry of an archive. Checks that the title gives the
 * archive's id under the index key and that the holders are the archive's.
 * `fixed` is for test vectors only.
 */
export function sealIndexEntry(opts: SealIndexEntryOptions, fixed?: IndexSealRandomness): SealedIndexEntry {
  const title = titleBytes(opts.title)
  const archive = opts.archive
  if (!equalBytes(archiveIdFor(opts.indexKey, opts.title), archive.archiveId)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the title and index key do not give this archive id')
  }
  const hashes = holderHashes(opts.holders)
  if (!equalBytes(hashes[0], archive.holders[0]) || !equalBytes(hashes[1], archive.holders[1])) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the holders are not the archive holders, in its order')
  }
  if (!Number.isSafeInteger(opts.createdAt) || opts.createdAt < 0) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('createdAt is a non-negative integer of milliseconds')
  }
  if (
    fixed !== undefined &&
    (!isBytesOf(fixed.entryKey, DATA_KEY_BYTES) || !isBytesOf(fixed.nonce, AEAD_NONCE_BYTES))
  ) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('malformed fixed randomness')
  }
  const deviceIds = opts.deviceIds ?? ['', '']
  const pub: IndexEntryPublic = {
    version: ARCHIVE_VERSION,
    archiveId: Buffer.from(archive.archiveId),
    archiveBytes: encodedArchiveBytes(archive),
    createdAt: opts.createdAt,
    headerDigest: Buffer.from(archive.digest),
    holders: [
      { keyHash: hashes[0], deviceId: deviceIds[0] },
      { keyHash: hashes[1], deviceId: deviceIds[1] }
    ],
    conversationId: opts.conversationId
  }
  const entryKey = fixed ? Buffer.from(fixed.entryKey) : randomBytes(DATA_KEY_BYTES)
  try {
    const envelopes = sealEnvelopes(entryKey, opts.holders, indexEntryContext(pub), fixed?.layers)
    const secret = aeadEncrypt(entryKey, title, secretAd({ ...pub, envelopes }), fixed?.nonce)
    return { ...pub, envelopes, secret }
  } finally {
    entryKey.fill(0)
  }
}

/** The entry as stored: public part ‖ envelopes ‖ u16be len ‖ secret part (docs/archive.md). */
export function encodeIndexEntry(entry: SealedIndexEntry): Buffer {
  return Buffer.concat([encodePublic(entry), encodeEnvelopes(entry.envelopes), field(entry.secret, 2)])
}

/** Reads an encoded index entry; checks its structure (authenticity is checked when it is opened). */
export function decodeIndexEntry(bytes: Uint8Array): SealedIndexEntry {
  if (!(bytes instanceof Uint8Array)) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('an index entry is bytes')
  const r = new ByteReader(asBuffer(bytes), 'an index entry')
  r.magic(INDEX_MAGIC, ARCHIVE_VERSION)
  const archiveId = r.bytes(ARCHIVE_ID_BYTES)
  const archiveBytes = r.u64()
  const createdAt = r.u64()
  const headerDigest = r.bytes(32)
  const holder = (): IndexHolder => ({ keyHash: r.bytes(HOLDER_HASH_BYTES), deviceId: r.utf8(r.u8()) })
  const holders = [holder(), holder()] as const
  const conversationId = r.utf8(r.u8())
  const envelopes = readEnvelopes(r)
  const len = r.u16()
  if (len < MIN_SECRET_BYTES || len > MAX_SECRET_BYTES) {
    throw ArchiveErrors.ARCHIVE_FORMAT(`an index secret of ${len} bytes is outside the format`)
  }
  const secret = r.bytes(len)
  r.end()
  const version = ARCHIVE_VERSION
  return {
    version,
    archiveId,
    archiveBytes,
    createdAt,
    headerDigest,
    holders,
    conversationId,
    envelopes,
    secret
  }
}

/**
 * Step 2 and 3 for an index entry (step 1 is peelOuter with
 * indexEntryContext): removes the inner layer, then decrypts the title.
 * With `indexKey`, also checks that the title gives the entry's archive id.
 * Throws ARCHIVE_NOT_RECIPIENT / ARCHIVE_INTEGRITY like peelInner and openBody.
 */
export function openIndexEntry(
  entry: SealedIndexEntry,
  innerBlob: Uint8Array,
  innerHolderSecretKey: Uint8Array,
  indexKey?: Uint8Array
): IndexSecret {
  const entryKey = peelInner(innerBlob, innerHolderSecretKey, indexEntryContext(entry))
  let title: string
  try {
    const plain = aeadDecrypt(entryKey, entry.secret, secretAd(entry))
    title = new ByteReader(plain, 'an index title').utf8(plain.byteLength)
  } catch (err) {
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the index entry does not authenticate', { cause: err })
  } finally {
    entryKey.fill(0)
  }
  if (title.length === 0 || title !== title.normalize('NFC')) {
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the index entry holds no NFC title')
  }
  if (indexKey !== undefined && !equalBytes(archiveIdFor(indexKey, title), entry.archiveId)) {
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the title does not give the archive id')
  }
  return { title }
}
