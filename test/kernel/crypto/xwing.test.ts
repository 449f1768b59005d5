import test from 'brittle'
import {
  XWING_CIPHERTEXT_BYTES,
  XWING_PUBLIC_KEY_BYTES,
  XWING_SEAL_OVERHEAD_BYTES,
  XWING_SECRET_KEY_BYTES,
  xwingKeyPairFromSeed,
  xwingOpen,
  xwingPublicKeyFromSecret,
  xwingSeal
} from '../../../src/kernel/crypto/xwing.js'
import { isConclaveError } from '../../../src/kernel/errors.js'

function throwsCode(
  t: { ok(v: unknown, m?: string): void; fail(m?: string): void },
  fn: () => unknown,
  code: string,
  m = code
) {
  try {
    fn()
    t.fail(`${m}: did not throw`)
  } catch (err) {
    t.ok(isConclaveError(err, code), `${m} (${(err as { code?: string }).code})`)
  }
}

const alice = xwingKeyPairFromSeed(Buffer.alloc(32, 0xa1))
const bob = xwingKeyPairFromSeed(Buffer.alloc(32, 0xb0))
const AD = Buffer.from('archive-id|A|B')

test('xwing: key sizes, determinism, public from secret', (t) => {
  t.is(alice.publicKey.length, XWING_PUBLIC_KEY_BYTES)
  t.is(alice.secretKey.length, XWING_SECRET_KEY_BYTES)
  t.alike(xwingKeyPairFromSeed(Buffer.alloc(32, 0xa1)).publicKey, alice.publicKey)
  t.unlike(alice.publicKey, bob.publicKey)
  t.alike(xwingPublicKeyFromSecret(alice.secretKey), alice.publicKey)
})

test('xwing: seal/open roundtrip; layout and size', (t) => {
  const pt = Buffer.from('the data key')
  const sealed = xwingSeal(alice.publicKey, pt, AD)
  t.is(sealed[0], 1, 'version byte')
  t.is(sealed.length, XWING_SEAL_OVERHEAD_BYTES + pt.length)
  t.is(XWING_SEAL_OVERHEAD_BYTES, 1 + XWING_CIPHERTEXT_BYTES + 24 + 16)
  t.alike(xwingOpen(alice.secretKey, sealed, AD), pt)
  t.alike(
    xwingOpen(alice.secretKey, xwingSeal(alice.publicKey, Buffer.alloc(0), AD), AD),
    Buffer.alloc(0),
    'empty'
  )
  t.unlike(xwingSeal(alice.publicKey, pt, AD), sealed, 'seals are randomized')
})

test('xwing: wrong AD, wrong key, flipped bits, truncation → CRYPTO_DECRYPT_FAILED', (t) => {
  const sealed = xwingSeal(alice.publicKey, Buffer.from('secret'), AD)
  throwsCode(
    t,
    () => xwingOpen(alice.secretKey, sealed, Buffer.from('other')),
    'CRYPTO_DECRYPT_FAILED',
    'wrong AD'
  )
  throwsCode(
    t,
    () => xwingOpen(alice.secretKey, sealed, Buffer.alloc(0)),
    'CRYPTO_DECRYPT_FAILED',
    'empty AD'
  )
  throwsCode(t, () => xwingOpen(bob.secretKey, sealed, AD), 'CRYPTO_DECRYPT_FAILED', 'wrong key')
  const positions = {
    version: 0,
    kem: 1,
    kemEnd: XWING_CIPHERTEXT_BYTES,
    nonce: 1 + XWING_CIPHERTEXT_BYTES,
    body: sealed.length - 20,
    tag: sealed.length - 1
  }
  for (const [name, i] of Object.entries(positions)) {
    const bad = Buffer.from(sealed)
    bad[i]! ^= 0x01
    throwsCode(t, () => xwingOpen(alice.secretKey, bad, AD), 'CRYPTO_DECRYPT_FAILED', `bit flip in ${name}`)
  }
  throwsCode(
    t,
    () => xwingOpen(alice.secretKey, sealed.subarray(0, sealed.length - 1), AD),
    'CRYPTO_DECRYPT_FAILED',
    'last byte cut'
  )
  throwsCode(
    t,
    () => xwingOpen(alice.secretKey, sealed.subarray(0, 100), AD),
    'CRYPTO_DECRYPT_FAILED',
    'cut in KEM ciphertext'
  )
  throwsCode(t, () => xwingOpen(alice.secretKey, Buffer.alloc(0), AD), 'CRYPTO_DECRYPT_FAILED', 'empty')
  throwsCode(
    t,
    () => xwingOpen(alice.secretKey, Buffer.concat([sealed, Buffer.alloc(1)]), AD),
    'CRYPTO_DECRYPT_FAILED',
    'extra byte'
  )
})

test('xwing: a seal cannot be re-targeted by swapping in another KEM ciphertext', (t) => {
  const toAlice = xwingSeal(alice.publicKey, Buffer.from('for alice'), AD)
  const other = xwingSeal(alice.publicKey, Buffer.from('for alice, again'), AD)
  const spliced = Buffer.concat([
    other.subarray(0, 1 + XWING_CIPHERTEXT_BYTES),
    toAlice.subarray(1 + XWING_CIPHERTEXT_BYTES)
  ])
  throwsCode(t, () => xwingOpen(alice.secretKey, spliced, AD), 'CRYPTO_DECRYPT_FAILED')
})

test('xwing: bad key lengths are CRYPTO_INVALID_KEY', (t) => {
  throwsCode(t, () => xwingKeyPairFromSeed(Buffer.alloc(31)), 'CRYPTO_INVALID_KEY', 'short seed')
  throwsCode(t, () => xwingKeyPairFromSeed(Buffer.alloc(64)), 'CRYPTO_INVALID_KEY', 'long seed')
  throwsCode(
    t,
    () => xwingSeal(alice.publicKey.subarray(1), Buffer.from('x'), AD),
    'CRYPTO_INVALID_KEY',
    'short public key'
  )
  throwsCode(
    t,
    () => xwingOpen(alice.secretKey.subarray(1), Buffer.alloc(2000), AD),
    'CRYPTO_INVALID_KEY',
    'short secret key'
  )
})

test('xwing: fixed randomness (test vectors) gives the same seal, which opens', (t) => {
  const fixed = { encapsulation: Buffer.alloc(64, 0x3c), nonce: Buffer.alloc(24, 0x4d) }
  const pt = Buffer.from('the data key')
  const a = xwingSeal(alice.publicKey, pt, AD, fixed)
  t.alike(xwingSeal(alice.publicKey, pt, AD, fixed), a, 'deterministic')
  t.alike(a.subarray(1 + XWING_CIPHERTEXT_BYTES, 1 + XWING_CIPHERTEXT_BYTES + 24), fixed.nonce, 'nonce used')
  t.alike(xwingOpen(alice.secretKey, a, AD), pt)
  throwsCode(
    t,
    () => xwingSeal(alice.publicKey, pt, AD, { ...fixed, encapsulation: Buffer.alloc(32) }),
    'CRYPTO_INVALID_INPUT',
    'short encapsulation randomness'
  )
  throwsCode(
    t,
    () => xwingSeal(alice.publicKey, pt, AD, { ...fixed, nonce: Buffer.alloc(12) }),
    'CRYPTO_INVALID_INPUT',
    'short nonce'
  )
})
