import test from 'brittle'
import { ed25519Sign, ed25519Verify } from '../../../src/kernel/crypto/ed25519.js'
import {
  HYBRID_SIGNATURE_BYTES,
  type HybridPublicKey,
  hybridKeyPairFromSeeds,
  hybridPublicKeyOf,
  hybridSign,
  hybridSignedBytes,
  hybridVerify,
  MLDSA65_PUBLIC_KEY_BYTES
} from '../../../src/kernel/crypto/hybrid-sign.js'

const kp = hybridKeyPairFromSeeds(Buffer.alloc(32, 1), Buffer.alloc(32, 2))
const other = hybridKeyPairFromSeeds(Buffer.alloc(32, 3), Buffer.alloc(32, 4))
const pub = hybridPublicKeyOf(kp)
const msg = Buffer.from('device certificate bytes')
const CTX = 'conclave/v1/test'
const sig = hybridSign(kp, msg, CTX)

test('hybrid: sizes and a valid signature verifies', (t) => {
  t.is(pub.ed25519.length, 32)
  t.is(pub.mldsa.length, MLDSA65_PUBLIC_KEY_BYTES)
  t.is(kp.mldsa.secretKey.length, 4032)
  t.is(sig.length, HYBRID_SIGNATURE_BYTES)
  t.is(sig.length, 64 + 3309)
  t.ok(hybridVerify(pub, msg, sig, CTX))
})

test('hybrid: key pairs are deterministic in their seeds', (t) => {
  const again = hybridKeyPairFromSeeds(Buffer.alloc(32, 1), Buffer.alloc(32, 2))
  t.alike(again.ed25519.publicKey, kp.ed25519.publicKey)
  t.alike(again.mldsa.publicKey, kp.mldsa.publicKey)
  t.unlike(other.mldsa.publicKey, kp.mldsa.publicKey)
})

test('hybrid: the classical half signs the domain-separated bytes, not the raw message', (t) => {
  const edHalf = sig.subarray(0, 64)
  t.ok(ed25519Verify(edHalf, hybridSignedBytes(msg, CTX), pub.ed25519))
  t.absent(ed25519Verify(edHalf, msg, pub.ed25519), 'not a plain ed25519 signature of msg')
})

test('hybrid: fails if either half is tampered', (t) => {
  const a = Buffer.from(sig)
  a[5]! ^= 1
  t.absent(hybridVerify(pub, msg, a, CTX), 'ed25519 half flipped')
  const b = Buffer.from(sig)
  b[64 + 100]! ^= 1
  t.absent(hybridVerify(pub, msg, b, CTX), 'ML-DSA half flipped')
  const c = Buffer.from(sig)
  c[c.length - 1]! ^= 0x80
  t.absent(hybridVerify(pub, msg, c, CTX), 'last byte flipped')
})

test('hybrid: fails if one half is replaced by a valid half from elsewhere', (t) => {
  const otherSig = hybridSign(other, msg, CTX)
  const mixed1 = Buffer.concat([otherSig.subarray(0, 64), sig.subarray(64)])
  const mixed2 = Buffer.concat([sig.subarray(0, 64), otherSig.subarray(64)])
  t.absent(hybridVerify(pub, msg, mixed1, CTX), 'foreign ed25519 half')
  t.absent(hybridVerify(pub, msg, mixed2, CTX), 'foreign ML-DSA half')
  // a correct ed25519 half over the same bytes, with a foreign ML-DSA half: still refused
  const honestEd = ed25519Sign(hybridSignedBytes(msg, CTX), kp.ed25519.secretKey)
  t.absent(hybridVerify(pub, msg, Buffer.concat([honestEd, otherSig.subarray(64)]), CTX))
})

test('hybrid: fails for swapped halves, swapped keys, other key, message or context', (t) => {
  const swapped = Buffer.concat([sig.subarray(sig.length - 64), sig.subarray(0, sig.length - 64)])
  t.absent(hybridVerify(pub, msg, swapped, CTX), 'halves swapped')
  const mixedPub: HybridPublicKey = { ed25519: pub.ed25519, mldsa: other.mldsa.publicKey }
  t.absent(hybridVerify(mixedPub, msg, sig, CTX), 'foreign ML-DSA public key')
  const mixedPub2: HybridPublicKey = { ed25519: other.ed25519.publicKey, mldsa: pub.mldsa }
  t.absent(hybridVerify(mixedPub2, msg, sig, CTX), 'foreign ed25519 public key')
  t.absent(hybridVerify(hybridPublicKeyOf(other), msg, sig, CTX), 'other key pair')
  t.absent(hybridVerify(pub, Buffer.from('device certificate byteS'), sig, CTX), 'other message')
  t.absent(hybridVerify(pub, msg, sig, 'conclave/v1/other'), 'other context')
  t.absent(hybridVerify(pub, msg, sig, ''), 'empty context')
})

test('hybrid: context and message boundary cannot be shifted', (t) => {
  // ("ab", "c") and ("a", "bc") must not sign the same bytes
  t.unlike(hybridSignedBytes(Buffer.from('c'), 'ab'), hybridSignedBytes(Buffer.from('bc'), 'a'))
  const s = hybridSign(kp, Buffer.from('c'), 'ab')
  t.absent(hybridVerify(pub, Buffer.from('bc'), s, 'a'))
})

test('hybrid: malformed input is false, never a throw', (t) => {
  t.absent(hybridVerify(pub, msg, sig.subarray(0, sig.length - 1), CTX), 'short signature')
  t.absent(hybridVerify(pub, msg, Buffer.concat([sig, Buffer.alloc(1)]), CTX), 'long signature')
  t.absent(hybridVerify(pub, msg, Buffer.alloc(0), CTX), 'empty signature')
  t.absent(
    hybridVerify({ ed25519: pub.ed25519, mldsa: pub.mldsa.subarray(1) }, msg, sig, CTX),
    'short ML-DSA key'
  )
  t.absent(
    hybridVerify({ ed25519: pub.ed25519.subarray(1), mldsa: pub.mldsa }, msg, sig, CTX),
    'short ed25519 key'
  )
  t.absent(hybridVerify(null as unknown as HybridPublicKey, msg, sig, CTX), 'null key')
  t.absent(hybridVerify({} as HybridPublicKey, msg, sig, CTX), 'empty key object')
  t.absent(hybridVerify(pub, msg, 'sig' as unknown as Uint8Array, CTX), 'string signature')
  t.absent(hybridVerify(pub, msg, sig, 42 as unknown as string), 'non-string context')
  t.absent(hybridVerify(pub, msg, Buffer.alloc(HYBRID_SIGNATURE_BYTES, 0xff), CTX), 'all-ones signature')
})
