import sodium from 'sodium-native'
import { labelledHash } from '../src/kernel/crypto/hash.js'

/**
 * Hashing that makes results independent of chance and of arrival order.
 *
 * The ballot digest is the sum, modulo 2^256, of one hash per current ballot.
 * A sum is order-free and can be updated in O(1) when a ballot is replaced
 * (subtract the old hash, add the new), so tie-breaking never rescans the
 * ballots. Ties then go to the option with the smallest
 * BLAKE2b(conversation id ‖ digest ‖ option).
 */

const encoder = new TextEncoder()

export const BALLOT_LABEL = 'conclave/consensus/ballot/v1'
export const TIE_BREAK_LABEL = 'conclave/consensus/tie-break/v1'
export const TALLY_LABEL = 'conclave/consensus/tally/v1'
export const DIGEST_BYTES = 32

/** len(label) ‖ label: the prefix labelledHash (src/kernel/crypto/hash.ts) puts before the parts. */
function labelPrefix(label: string): Buffer {
  const l = Buffer.from(label, 'utf8')
  const out = Buffer.alloc(2 + l.length)
  out.writeUInt16BE(l.length)
  l.copy(out, 2)
  return out
}

const BALLOT_PREFIX = labelPrefix(BALLOT_LABEL)
const TIE_BREAK_PREFIX = labelPrefix(TIE_BREAK_LABEL)

/** Writes a length-prefixed UTF-8 string at `off`; returns the offset after it. */
function writePrefixed(buf: Buffer, off: number, s: string): number {
  const n = buf.write(s, off + 4, 'utf8')
  buf.writeUInt32BE(n, off)
  return off + 4 + n
}

/*
 * These two run once per ballot and once per tied option per evaluation, so
 * they build the exact input labelledHash would hash (prefix ‖ parts) in one
 * buffer and call BLAKE2b once: the same bytes out (a test holds them to
 * labelledHash) at a fraction of the cost of its per-part buffers.
 */

export function ballotHash(account: string, canonicalBallot: string): Uint8Array {
  const input = Buffer.allocUnsafe(
    BALLOT_PREFIX.length + 8 + Buffer.byteLength(account, 'utf8') + Buffer.byteLength(canonicalBallot, 'utf8')
  )
  BALLOT_PREFIX.copy(input, 0)
  writePrefixed(input, writePrefixed(input, BALLOT_PREFIX.length, account), canonicalBallot)
  // A pooled slice: one ArrayBuffer per ballot would make garbage collection dominate. BLAKE2b fills it.
  const out = Buffer.allocUnsafe(DIGEST_BYTES)
  sodium.crypto_generichash(out, input)
  return out
}

/** d += h (mod 2^256), little-endian. */
export function digestAdd(d: Uint8Array, h: Uint8Array): void {
  let carry = 0
  for (let i = 0; i < DIGEST_BYTES; i++) {
    const s = d[i]! + h[i]! + carry
    d[i] = s & 0xff
    carry = s >>> 8
  }
}

/** d -= h (mod 2^256), little-endian. */
export function digestSub(d: Uint8Array, h: Uint8Array): void {
  let borrow = 0
  for (let i = 0; i < DIGEST_BYTES; i++) {
    let s = d[i]! - h[i]! - borrow
    borrow = s < 0 ? 1 : 0
    if (s < 0) s += 256
    d[i] = s
  }
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** The key an option is ranked by among tied options: smaller wins. */
export function tieBreakKey(conversationId: string, digest: Uint8Array, option: string): string {
  const head = TIE_BREAK_PREFIX.length
  const idBytes = Buffer.byteLength(conversationId, 'utf8')
  const input = Buffer.allocUnsafe(head + 8 + idBytes + DIGEST_BYTES + Buffer.byteLength(option, 'utf8'))
  TIE_BREAK_PREFIX.copy(input, 0)
  const off = writePrefixed(input, head, conversationId)
  input.set(digest, off)
  writePrefixed(input, off + DIGEST_BYTES, option)
  const out = Buffer.allocUnsafe(DIGEST_BYTES)
  sodium.crypto_generichash(out, input)
  return out.toString('hex')
}

export function tallyDigest(canonicalJson: string): string {
  return toHex(labelledHash(TALLY_LABEL, [encoder.encode(canonicalJson)], DIGEST_BYTES))
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
