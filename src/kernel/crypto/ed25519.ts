import sodium from 'sodium-native'
import { KernelErrors } from '../errors.js'

export const ED25519_SEED_BYTES = 32
export const ED25519_PUBLIC_KEY_BYTES = 32
/** libsodium format: the 32-byte seed followed by the 32-byte public key. */
export const ED25519_SECRET_KEY_BYTES = 64
export const ED25519_SIGNATURE_BYTES = 64

export interface Ed25519KeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

/** @internal A Buffer view of any Uint8Array without copying (sodium-native wants Buffers). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

/** @internal */
export function isBytes(b: unknown): b is Uint8Array {
  return b instanceof Uint8Array
}

export function ed25519KeyPairFromSeed(seed32: Uint8Array): Ed25519KeyPair {
  if (!isBytes(seed32) || seed32.byteLength !== ED25519_SEED_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`ed25519 seed must be ${ED25519_SEED_BYTES} bytes`)
  }
  const publicKey = Buffer.alloc(ED25519_PUBLIC_KEY_BYTES)
  const secretKey = Buffer.alloc(ED25519_SECRET_KEY_BYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, asBuffer(seed32))
  return { publicKey, secretKey }
}

export function ed25519Sign(msg: Uint8Array, secretKey: Uint8Array): Buffer {
  if (!isBytes(secretKey) || secretKey.byteLength !== ED25519_SECRET_KEY_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`ed25519 secret key must be ${ED25519_SECRET_KEY_BYTES} bytes`)
  }
  const sig = Buffer.alloc(ED25519_SIGNATURE_BYTES)
  sodium.crypto_sign_detached(sig, asBuffer(msg), asBuffer(secretKey))
  return sig
}

/**
 * Verifies a detached signature. Input from peers reaches this function
 * unchecked, so every malformed argument is a plain `false`, never a throw.
 */
export function ed25519Verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  if (!isBytes(sig) || !isBytes(msg) || !isBytes(publicKey)) return false
  if (sig.byteLength !== ED25519_SIGNATURE_BYTES || publicKey.byteLength !== ED25519_PUBLIC_KEY_BYTES)
    return false
  try {
    return sodium.crypto_sign_verify_detached(asBuffer(sig), asBuffer(msg), asBuffer(publicKey))
  } catch {
    return false
  }
}
