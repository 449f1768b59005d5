import { BoundedSet } from './bounded-set.js'
import { labelledHash } from './crypto/hash.js'
import { KernelErrors } from './errors.js'

/**
 * Branded identifiers. Printable form: `<prefix>_<base32(bytes ‖ checksum)>`,
 * RFC 4648 base32, lowercase, no padding; the checksum is the first 4 bytes of
 * a labelled BLAKE2b over the prefix and the bytes, so a mistyped or truncated
 * id is refused instead of naming something else.
 */
export type AccountId = string & { readonly __brand: 'AccountId' }
export type DeviceId = string & { readonly __brand: 'DeviceId' }
export type ConversationId = string & { readonly __brand: 'ConversationId' }
export type ArchiveId = string & { readonly __brand: 'ArchiveId' }

export const ID_PREFIX = {
  account: 'acc',
  device: 'dev',
  conversation: 'cnv',
  archive: 'arc'
} as const
export type IdKind = keyof typeof ID_PREFIX

interface IdOf {
  account: AccountId
  device: DeviceId
  conversation: ConversationId
  archive: ArchiveId
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const CHECKSUM_BYTES = 4

export function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export function base32Decode(text: string): Buffer | null {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch)
    if (v === -1) return null
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  // non-canonical trailing bits would let two strings name one id
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return null
  return Buffer.from(out)
}

function checksum(prefix: string, bytes: Uint8Array): Buffer {
  return labelledHash('conclave/id-checksum/v1', [Buffer.from(prefix), bytes], 32).subarray(0, CHECKSUM_BYTES)
}

export function encodeId<K extends IdKind>(kind: K, bytes: Uint8Array): IdOf[K] {
  const prefix = ID_PREFIX[kind]
  return `${prefix}_${base32Encode(Buffer.concat([bytes, checksum(prefix, bytes)]))}` as IdOf[K]
}

/** Parses and checks a printable id; throws KERNEL_ID_INVALID. */
export function decodeId<K extends IdKind>(kind: K, text: string): { id: IdOf[K]; bytes: Buffer } {
  const prefix = ID_PREFIX[kind]
  if (typeof text !== 'string' || !text.startsWith(`${prefix}_`)) {
    throw KernelErrors.KERNEL_ID_INVALID(`not a ${kind} id (expected prefix "${prefix}_")`, {
      data: { kind }
    })
  }
  const raw = base32Decode(text.slice(prefix.length + 1))
  if (!raw || raw.length <= CHECKSUM_BYTES) {
    throw KernelErrors.KERNEL_ID_INVALID(`malformed ${kind} id`, { data: { kind } })
  }
  const bytes = raw.subarray(0, raw.length - CHECKSUM_BYTES)
  if (!checksum(prefix, bytes).equals(raw.subarray(raw.length - CHECKSUM_BYTES))) {
    throw KernelErrors.KERNEL_ID_INVALID(`${kind} id checksum mismatch (mistyped?)`, { data: { kind } })
  }
  return { id: text as IdOf[K], bytes }
}

/**
 * Printable ids that checked out (any kind: the prefix names it), oldest
 * dropped first. Every entry of a log names the same few accounts and
 * devices, and checking one costs a hash.
 */
const CHECKED = new BoundedSet(4096)

export function isId(kind: IdKind, text: unknown): boolean {
  if (typeof text !== 'string') return false
  if (CHECKED.has(text)) return text.startsWith(`${ID_PREFIX[kind]}_`)
  try {
    decodeId(kind, text)
  } catch {
    return false
  }
  CHECKED.add(text)
  return true
}
