import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js'
import { KernelErrors } from '../errors.js'
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  type Ed25519KeyPair,
  ed25519KeyPairFromSeed,
  ed25519Sign,
  ed25519Verify,
  isBytes
} from './ed25519.js'

export const MLDSA65_SEED_BYTES = 32
export const MLDSA65_PUBLIC_KEY_BYTES = 1952
export const MLDSA65_SECRET_KEY_BYTES = 4032
export const MLDSA65_SIGNATURE_BYTES = 3309
/** ed25519 signature (64) ‖ ML-DSA-65 signature (3309). */
export const HYBRID_SIGNATURE_BYTES = ED25519_SIGNATURE_BYTES + MLDSA65_SIGNATURE_BYTES

/** Versioned domain of every hybrid signature; see docs/keys.md. */
export const HYBRID_SIGN_DOMAIN = 'conclave/hybrid-sign/v1'

export interface HybridKeyPair {
  ed25519: Ed25519KeyPair
  mldsa: { publicKey: Buffer; secretKey: Buffer }
}

export interface HybridPublicKey {
  ed25519: Buffer
  mldsa: Buffer
}

export function hybridKeyPairFromSeeds(edSeed32: Uint8Array, mldsaSeed32: Uint8Array): HybridKeyPair {
  if (!isBytes(mldsaSeed32) || mldsaSeed32.byteLength !== MLDSA65_SEED_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`ML-DSA-65 seed must be ${MLDSA65_SEED_BYTES} bytes`)
  }
  const ed25519 = ed25519KeyPairFromSeed(edSeed32)
  const kp = ml_dsa65.keygen(mldsaSeed32)
  return { ed25519, mldsa: { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) } }
}

export function hybridPublicKeyOf(kp: HybridKeyPair): HybridPublicKey {
  return { ed25519: kp.ed25519.publicKey, mldsa: kp.mldsa.publicKey }
}

/**
 * The bytes both halves sign:
 *   u16be(len D) ‖ D ‖ u32be(len C) ‖ C ‖ msg     (D = HYBRID_SIGN_DOMAIN, C = utf8(context))
 * The domain keeps a half from being replayed as a plain Ed25519 or ML-DSA
 * signature elsewhere; the length-prefixed context keeps a signature over one
 * kind of object (a device certificate) from being read as another (a card).
 */
export function hybridSignedBytes(msg: Uint8Array, context: string): Buffer {
  const d = Buffer.from(HYBRID_SIGN_DOMAIN, 'utf8')
  const c = Buffer.from(context, 'utf8')
  const head = Buffer.alloc(2 + d.length + 4 + c.length)
  head.writeUInt16BE(d.length, 0)
  d.copy(head, 2)
  head.writeUInt32BE(c.length, 2 + d.length)
  c.copy(head, 2 + d.length + 4)
  return Buffer.concat([head, msg])
}

/** Signs with both halves; the encoding is ed25519 sig (64) ‖ ML-DSA-65 sig (3309). */
export function hybridSign(kp: HybridKeyPair, msg: Uint8Array, context: string): Buffer {
  if (!isBytes(kp.mldsa.secretKey) || kp.mldsa.secretKey.byteLength !== MLDSA65_SECRET_KEY_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`ML-DSA-65 secret key must be ${MLDSA65_SECRET_KEY_BYTES} bytes`)
  }
  const m = hybridSignedBytes(msg, context)
  const ed = ed25519Sign(m, kp.ed25519.secretKey)
  // noble hedges ML-DSA signing with fresh randomness by default (FIPS 204's recommended mode)
  const pq = ml_dsa65.sign(m, kp.mldsa.secretKey)
  return Buffer.concat([ed, pq])
}

/**
 * True only if BOTH halves verify over the same domain-separated bytes. Any
 * malformed input (wrong lengths, wrong types) is `false`, never a throw: this
 * runs inside `apply` on entries from peers.
 */
export function hybridVerify(
  pub: HybridPublicKey,
  msg: Uint8Array,
  sig: Uint8Array,
  context: string
): boolean {
  if (pub === null || typeof pub !== 'object' || typeof context !== 'string') return false
  if (!isBytes(pub.ed25519) || !isBytes(pub.mldsa) || !isBytes(msg) || !isBytes(sig)) return false
  if (
    pub.ed25519.byteLength !== ED25519_PUBLIC_KEY_BYTES ||
    pub.mldsa.byteLength !== MLDSA65_PUBLIC_KEY_BYTES
  )
    return false
  if (sig.byteLength !== HYBRID_SIGNATURE_BYTES) return false
  const m = hybridSignedBytes(msg, context)
  // the cheap classical half first: a forgery attempt rarely gets past it
  if (!ed25519Verify(sig.subarray(0, ED25519_SIGNATURE_BYTES), m, pub.ed25519)) return false
  try {
    return ml_dsa65.verify(sig.subarray(ED25519_SIGNATURE_BYTES), m, pub.mldsa) === true
  } catch {
    return false
  }
}
