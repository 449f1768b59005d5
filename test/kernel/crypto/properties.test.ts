import test from 'brittle'
import fc from 'fast-check'
import { aeadDecrypt, aeadEncrypt } from '../../../src/kernel/crypto/aead.js'
import { openStream, STREAM_HEADER_BYTES, sealStream } from '../../../src/kernel/crypto/secretstream.js'
import { xwingKeyPairFromSeed, xwingOpen, xwingSeal } from '../../../src/kernel/crypto/xwing.js'
import { isConclaveError } from '../../../src/kernel/errors.js'

// X-Wing encapsulation costs about a millisecond: keep runs modest
const RUNS = 50

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return isConclaveError(err) ? err.code : `non-conclave error: ${String(err)}`
  }
}

const recipient = xwingKeyPairFromSeed(Buffer.alloc(32, 0x5e))
const key = Buffer.alloc(32, 0x77)

test('property: xwing seal/open roundtrip', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 64 }), (pt, ad) => {
      const sealed = xwingSeal(recipient.publicKey, pt, ad)
      return Buffer.from(pt).equals(xwingOpen(recipient.secretKey, sealed, ad))
    }),
    { numRuns: RUNS }
  )
  t.pass(`${RUNS} runs`)
})

test('property: any flipped bit in an X-Wing seal is CRYPTO_DECRYPT_FAILED', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 512 }),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      (pt, pos, bit) => {
        const ad = Buffer.from('ad')
        const sealed = xwingSeal(recipient.publicKey, pt, ad)
        const i = pos % sealed.length
        sealed[i]! ^= 1 << bit
        return codeOf(() => xwingOpen(recipient.secretKey, sealed, ad)) === 'CRYPTO_DECRYPT_FAILED'
      }
    ),
    { numRuns: RUNS }
  )
  t.pass(`${RUNS} runs`)
})

test('property: aead roundtrip and flipped bit detection', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 1024 }),
      fc.uint8Array({ maxLength: 32 }),
      fc.nat(),
      (pt, ad, pos) => {
        const ct = aeadEncrypt(key, pt, ad)
        if (!Buffer.from(pt).equals(aeadDecrypt(key, ct, ad))) return false
        ct[pos % ct.length]! ^= 0x01
        return codeOf(() => aeadDecrypt(key, ct, ad)) === 'CRYPTO_DECRYPT_FAILED'
      }
    ),
    { numRuns: 200 }
  )
  t.pass('200 runs')
})

test('property: stream roundtrip for any data and chunk size', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 1, max: 700 }), (d, chunk) => {
      return Buffer.from(d).equals(openStream(key, sealStream(key, d, chunk)))
    }),
    { numRuns: RUNS }
  )
  t.pass(`${RUNS} runs`)
})

/** Offsets of the u32 length prefixes in a sealStream output. */
function prefixOffsets(framed: Buffer): Set<number> {
  const out = new Set<number>()
  let at = STREAM_HEADER_BYTES
  while (at < framed.length) {
    for (let k = 0; k < 4; k++) out.add(at + k)
    at += 4 + framed.readUInt32BE(at)
  }
  return out
}

test('property: a flipped bit in a sealed stream never decrypts', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.integer({ min: 1, max: 500 }),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      (d, chunk, pos, bit) => {
        const framed = sealStream(key, d, chunk)
        const i = pos % framed.length
        const inPrefix = prefixOffsets(framed).has(i)
        framed[i]! ^= 1 << bit
        const code = codeOf(() => openStream(key, framed))
        // a flipped length prefix can make the stream look cut short; everything else is an auth failure
        return inPrefix
          ? code === 'CRYPTO_DECRYPT_FAILED' || code === 'CRYPTO_TRUNCATED'
          : code === 'CRYPTO_DECRYPT_FAILED'
      }
    ),
    { numRuns: 200 }
  )
  t.pass('200 runs')
})

test('property: every proper prefix of a sealed stream is CRYPTO_TRUNCATED', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.integer({ min: 1, max: 500 }),
      fc.nat(),
      (d, chunk, cut) => {
        const framed = sealStream(key, d, chunk)
        return codeOf(() => openStream(key, framed.subarray(0, cut % framed.length))) === 'CRYPTO_TRUNCATED'
      }
    ),
    { numRuns: 200 }
  )
  t.pass('200 runs')
})
