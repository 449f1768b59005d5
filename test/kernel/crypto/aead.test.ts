import test from 'brittle'
import { AEAD_NONCE_BYTES, aeadDecrypt, aeadEncrypt } from '../../../src/kernel/crypto/aead.js'
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

const key = Buffer.alloc(32, 9)

test('aead: draft-irtf-cfrg-xchacha A.3.1 vector', (t) => {
  const k = Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex')
  const nonce = Buffer.from('404142434445464748494a4b4c4d4e4f5051525354555657', 'hex')
  const ad = Buffer.from('50515253c0c1c2c3c4c5c6c7', 'hex')
  const pt = Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
  )
  const out = aeadEncrypt(k, pt, ad, nonce)
  t.alike(out.subarray(0, AEAD_NONCE_BYTES), nonce)
  t.is(
    out.subarray(AEAD_NONCE_BYTES).toString('hex'),
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb' +
      '731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452' +
      '2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9' +
      '21f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49',
    'ciphertext ‖ tag'
  )
  t.alike(aeadDecrypt(k, out, ad), pt)
})

test('aead: roundtrip with and without AD, empty plaintext, random nonces', (t) => {
  const ad = Buffer.from('ad')
  t.alike(aeadDecrypt(key, aeadEncrypt(key, Buffer.from('x'), ad), ad), Buffer.from('x'))
  t.alike(aeadDecrypt(key, aeadEncrypt(key, Buffer.from('y'))), Buffer.from('y'))
  t.alike(aeadDecrypt(key, aeadEncrypt(key, Buffer.alloc(0))), Buffer.alloc(0))
  const a = aeadEncrypt(key, Buffer.from('same'))
  const b = aeadEncrypt(key, Buffer.from('same'))
  t.unlike(a.subarray(0, AEAD_NONCE_BYTES), b.subarray(0, AEAD_NONCE_BYTES), 'fresh nonce per call')
})

test('aead: wrong key, wrong AD, flipped bit, truncation fail with CRYPTO_DECRYPT_FAILED', (t) => {
  const ad = Buffer.from('bound')
  const ct = aeadEncrypt(key, Buffer.from('secret'), ad)
  throwsCode(t, () => aeadDecrypt(Buffer.alloc(32, 1), ct, ad), 'CRYPTO_DECRYPT_FAILED', 'wrong key')
  throwsCode(t, () => aeadDecrypt(key, ct, Buffer.from('other')), 'CRYPTO_DECRYPT_FAILED', 'wrong AD')
  throwsCode(t, () => aeadDecrypt(key, ct), 'CRYPTO_DECRYPT_FAILED', 'missing AD')
  for (const i of [0, AEAD_NONCE_BYTES, ct.length - 1]) {
    const bad = Buffer.from(ct)
    bad[i]! ^= 1
    throwsCode(t, () => aeadDecrypt(key, bad, ad), 'CRYPTO_DECRYPT_FAILED', `bit flip at ${i}`)
  }
  throwsCode(
    t,
    () => aeadDecrypt(key, ct.subarray(0, ct.length - 1), ad),
    'CRYPTO_DECRYPT_FAILED',
    'truncated'
  )
  throwsCode(
    t,
    () => aeadDecrypt(key, ct.subarray(0, 39), ad),
    'CRYPTO_DECRYPT_FAILED',
    'shorter than nonce + tag'
  )
})

test('aead: bad key and nonce lengths', (t) => {
  throwsCode(t, () => aeadEncrypt(Buffer.alloc(31), Buffer.from('x')), 'CRYPTO_INVALID_KEY')
  throwsCode(t, () => aeadDecrypt(Buffer.alloc(33), Buffer.alloc(64)), 'CRYPTO_INVALID_KEY')
  throwsCode(t, () => aeadEncrypt(key, Buffer.from('x'), undefined, Buffer.alloc(12)), 'CRYPTO_INVALID_INPUT')
})
