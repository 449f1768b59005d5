import { asBuffer } from '../src/kernel/crypto/ed25519.js'
import { equalBytes, labelledHash } from '../src/kernel/crypto/hash.js'
import { XWING_SEAL_OVERHEAD_BYTES, type XWingSealRandomness } from '../src/kernel/crypto/xwing.js'
import { ArchiveErrors } from './errors.js'
import {
  ARCHIVE_ID_BYTES,
  ARCHIVE_MAX_NAME_BYTES,
  ARCHIVE_MAX_TITLE_BYTES,
  ARCHIVE_VERSION,
  archiveIdFor,
  ByteReader,
  field,
  HOLDER_HASH_BYTES,
  INDEX_MAGIC,
  LABEL,
  type Pair,
  titleBytes,
  u8,
  u64
} from './format.js'
import { type ArchiveHeader, encodedArchiveBytes } from './header.js'
import { type Envelope, holderHashes, type LayerContext, peelInner, sealEnvelopes } from './layers.js'

/**
 * An archive's index entry. The public part lets relays and the node list
 * and place archives; the secret part (the title) is double-sealed to the
 * same two holders as the archive, bound to the public part.
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
  readonly envelopes: Pair<Envelope>
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

function nameBytes(name: unknown, what: string): Buffer {
  if (typeof name !== 'string') throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`${what} is a string`)
  const b = Buffer.from(name, 'utf8')
  if (b.byteLength > ARCHIVE_MAX_NAME_BYTES) {
    throw ArchiveErrors.ARCHIVE_TOO_LARGE(`${what} is at most ${ARCHIVE_MAX_NAME_BYTES} UTF-8 bytes`)
  }
  return b
}

/** The public part's bytes, also what the layers are bound to. */
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

/**
 * Seals the index entry of an archive. Checks that the title gives the
 * archive's id under the index key and that the holders are the archive's.
 * `fixed` (test vectors only) gives the randomness of the four layers.
 */
export function sealIndexEntry(
  opts: SealIndexEntryOptions,
  fixed?: { layers: readonly XWingSealRandomness[] }
): SealedIndexEntry {
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
  const ctx = indexEntryContext(pub) // also checks the names
  const envelopes = sealEnvelopes(field(title, 2), opts.holders, ctx, fixed?.layers)
  return { ...pub, envelopes }
}

/** The entry as stored: public part ‖ u32be len ‖ envelope 0 ‖ u32be len ‖ envelope 1. */
export function encodeIndexEntry(entry: SealedIndexEntry): Buffer {
  return Buffer.concat([
    encodePublic(entry),
    field(entry.envelopes[0].sealed, 4),
    field(entry.envelopes[1].sealed, 4)
  ])
}

const MIN_INDEX_ENVELOPE = 2 * XWING_SEAL_OVERHEAD_BYTES + 2 + 1
const MAX_INDEX_ENVELOPE = 2 * XWING_SEAL_OVERHEAD_BYTES + 2 + ARCHIVE_MAX_TITLE_BYTES

/** Reads an encoded index entry; checks its structure (authenticity is checked when it is peeled). */
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
  const envelope = (innerHolder: 0 | 1): Envelope => {
    const len = r.u32()
    if (len < MIN_INDEX_ENVELOPE || len > MAX_INDEX_ENVELOPE) {
      throw ArchiveErrors.ARCHIVE_FORMAT(`an index envelope of ${len} bytes is outside the format`)
    }
    return { innerHolder, sealed: r.bytes(len) }
  }
  const envelopes = [envelope(0), envelope(1)] as const
  r.end()
  if (envelopes[0].sealed.byteLength !== envelopes[1].sealed.byteLength) {
    throw ArchiveErrors.ARCHIVE_FORMAT('the two envelopes of an index entry hold the same title')
  }
  return {
    version: ARCHIVE_VERSION,
    archiveId,
    archiveBytes,
    createdAt,
    headerDigest,
    holders,
    conversationId,
    envelopes
  }
}

/**
 * Step 2 for an index entry (step 1 is peelOuter with indexEntryContext):
 * removes the inner layer and returns the secret part. With `indexKey`, also
 * checks that the title gives the entry's archive id (ARCHIVE_INTEGRITY if not).
 */
export function openIndexEntry(
  entry: IndexEntryPublic,
  innerBlob: Uint8Array,
  innerHolderSecretKey: Uint8Array,
  indexKey?: Uint8Array
): IndexSecret {
  const secret = peelInner(innerBlob, innerHolderSecretKey, indexEntryContext(entry))
  const r = new ByteReader(secret, 'an index secret')
  let title: string
  try {
    title = r.utf8(r.u16())
    r.end()
  } catch (err) {
    // only a seal made with the holders' public keys gets here: well-formed bytes, wrong content
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the index secret is malformed', { cause: err })
  }
  if (title.length === 0 || title !== title.normalize('NFC')) {
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the index secret holds no NFC title')
  }
  if (indexKey !== undefined && !equalBytes(archiveIdFor(indexKey, title), entry.archiveId)) {
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the title does not give the archive id')
  }
  return { title }
}
