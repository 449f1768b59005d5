import test from 'brittle'
import { ed25519KeyPairFromSeed, ed25519Sign, ed25519Verify } from '../../../src/kernel/crypto/ed25519.js'
import { isConclaveError } from '../../../src/kernel/errors.js'

// RFC 8032 §7.1 TEST 1 (empty message) and TEST 2 (one byte 0x72)
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
  }
]

test('ed25519: RFC 8032 vectors', (t) => {
  for (const v of RFC8032) {
    const kp = ed25519KeyPairFromSeed(Buffer.from(v.seed, 'hex'))
    t.is(kp.publicKey.toString('hex'), v.publicKey)
    t.is(kp.secretKey.length, 64)
    const sig = ed25519Sign(Buffer.from(v.msg, 'hex'), kp.secretKey)
    t.is(sig.toString('hex'), v.sig)
    t.ok(ed25519Verify(sig, Buffer.from(v.msg, 'hex'), kp.publicKey))
  }
})

test('ed25519: rejects tampered message, signature and wrong key', (t) => {
  const kp = ed25519KeyPairFromSeed(Buffer.alloc(32, 7))
  const other = ed25519KeyPairFromSeed(Buffer.alloc(32, 8))
  const msg = Buffer.from('hello conclave')
  const sig = ed25519Sign(msg, kp.secretKey)
  t.ok(ed25519Verify(sig, msg, kp.publicKey))
  const badMsg = Buffer.from(msg)
  badMsg[0]! ^= 1
  t.absent(ed25519Verify(sig, badMsg, kp.publicKey), 'tampered message')
  const badSig = Buffer.from(sig)
  badSig[10]! ^= 0x20
  t.absent(ed25519Verify(badSig, msg, kp.publicKey), 'tampered signature')
  t.absent(ed25519Verify(sig, msg, other.publicKey), 'other key')
})

test('ed25519: verify returns false on malformed input, never throws', (t) => {
  const kp = ed25519KeyPairFromSeed(Buffer.alloc(32, 1))
  const msg = Buffer.from('m')
  const sig = ed25519Sign(msg, kp.secretKey)
  t.absent(ed25519Verify(sig.subarray(0, 63), msg, kp.publicKey))
  t.absent(ed25519Verify(Buffer.concat([sig, Buffer.alloc(1)]), msg, kp.publicKey))
  t.absent(ed25519Verify(sig, msg, kp.publicKey.subarray(0, 31)))
  t.absent(ed25519Verify(sig, msg, Buffer.alloc(0)))
  t.absent(ed25519Verify(null as unknown as Uint8Array, msg, kp.publicKey))
  t.absent(ed25519Verify(sig, 'm' as unknown as Uint8Array, kp.publicKey))
})

test('ed25519: key and seed lengths are checked', (t) => {
  for (const len of [0, 31, 33, 64]) {
    try {
      ed25519KeyPairFromSeed(Buffer.alloc(len))
      t.fail(`seed of ${len} bytes accepted`)
    } catch (err) {
      t.ok(isConclaveError(err, 'CRYPTO_INVALID_KEY'), `seed of ${len} bytes`)
    }
  }
  try {
    ed25519Sign(Buffer.from('x'), Buffer.alloc(32))
    t.fail('32-byte secret key accepted')
  } catch (err) {
    t.ok(isConclaveError(err, 'CRYPTO_INVALID_KEY'))
  }
})
