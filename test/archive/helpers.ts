import {
  archiveContext,
  decodeArchive,
  envelopeFor,
  openBody,
  peelInner,
  peelOuter
} from '../../archive/index.js'
import { blake2b } from '../../src/kernel/crypto/hash.js'
import { type XWingKeyPair, xwingKeyPairFromSeed } from '../../src/kernel/crypto/xwing.js'

export const A = xwingKeyPairFromSeed(Buffer.alloc(32, 0xa1))
export const B = xwingKeyPairFromSeed(Buffer.alloc(32, 0xb2))
/** Not a holder of anything. */
export const C = xwingKeyPairFromSeed(Buffer.alloc(32, 0xc3))
export const INDEX_KEY = Buffer.alloc(32, 0x1d)

export { codeOf } from '../helpers/codes.js'

/** A seeded generator: BLAKE2b in counter mode. */
export class Prng {
  private counter = 0

  constructor(private readonly seed: number) {}

  private next(): Buffer {
    const c = Buffer.alloc(8)
    c.writeUInt32BE(this.seed)
    c.writeUInt32BE(this.counter++, 4)
    return blake2b(c, 64)
  }

  /** An integer in 0..n-1. */
  int(n: number): number {
    return Math.floor((this.next().readUInt32BE() / 2 ** 32) * n)
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n)
    for (let at = 0; at < n; at += 64) this.next().copy(out, at)
    return out
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!
  }
}

/**
 * The whole open of an encoded archive as the node does it: `asking` is the
 * inner holder, `helping` peels the outer layer of the envelope in which
 * `asking` is inside.
 */
export function openWith(encoded: Uint8Array, asking: XWingKeyPair, helping: XWingKeyPair): Buffer {
  const archive = decodeArchive(encoded)
  const ctx = archiveContext(archive)
  const blob = peelOuter(envelopeFor(archive.envelopes, ctx, asking.publicKey), helping.secretKey, ctx)
  return openBody(peelInner(blob, asking.secretKey, ctx), archive, archive.body)
}

export const ARCHIVE_CODES = ['ARCHIVE_INTEGRITY', 'ARCHIVE_NOT_RECIPIENT', 'ARCHIVE_FORMAT']
