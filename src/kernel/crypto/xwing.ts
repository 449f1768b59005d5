import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js'
import { KernelErrors } from '../errors.js'
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, aeadDecrypt, aeadEncrypt } from './aead.js'
import { isBytes } from './ed25519.js'
import { labelledHash } from './hash.js'

/**
 * X-Wing (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem) as implemented
 * by noble's `ml_kem768_x25519`. Its secret key IS the 32-byte seed (the
 * component keys are expanded from it with SHAKE256 on every use), so a seed
 * from our key tree is used as is: no extra expansion is needed.
 */
export const XWING_SEED_BYTES = 32
export const XWING_SECRET_KEY_BYTES = 32
export const XWING_PUBLIC_KEY_BYTES = 1216
export const XWING_CIPHERTEXT_BYTES = 1120
export const XWING_SHARED_SECRET_BYTES = 32
/** Encapsulation randomness: ML-KEM-768 message (32) ‖ X25519 ephemeral secret (32). */
export const XWING_ENCAPSULATION_RANDOM_BYTES = 64

export const XWING_SEAL_VERSION = 1
export const XWING_SEAL_LABEL = 'conclave/xwing-seal/v1'
/** version (1) ‖ KEM ciphertext (1120) ‖ nonce (24) ‖ AEAD tag (16): the size of a sealed empty plaintext. */
export const XWING_SEAL_OVERHEAD_BYTES = 1 + XWING_CIPHERTEXT_BYTES + AEAD_NONCE_BYTES + AEAD_TAG_BYTES

/**
 * Fixed values for the two random inputs of a seal. For test vectors only: a
 * seal made twice with the same values to the same key reuses the KEM secret.
 */
export interface XWingSealRandomness {
  /** XWING_ENCAPSULATION_RANDOM_BYTES */
  encapsulation: Uint8Array
  /** AEAD_NONCE_BYTES */
  nonce: Uint8Array
}

export interface XWingKeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

export function xwingKeyPairFromSeed(seed32: Uint8Array): XWingKeyPair {
  if (!isBytes(seed32) || seed32.byteLength !== XWING_SEED_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`X-Wing seed must be ${XWING_SEED_BYTES} bytes`)
  }
  const kp = ml_kem768_x25519.keygen(seed32)
  return { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) }
}

export function xwingPublicKeyFromSecret(secretKey: Uint8Array): Buffer {
  if (!isBytes(secretKey) || secretKey.byteLength !== XWING_SECRET_KEY_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`X-Wing secret key must be ${XWING_SECRET_KEY_BYTES} bytes`)
  }
  return Buffer.from(ml_kem768_x25519.getPublicKey(secretKey))
}

function sealKey(
  sharedSecret: Uint8Array,
  kemCiphertext: Uint8Array,
  recipientPublicKey: Uint8Array
): Buffer {
  return labelledHash(XWING_SEAL_LABEL, [sharedSecret, kemCiphertext, recipientPublicKey])
}

/**
 * Seals `plaintext` to one X-Wing public key, binding `ad`.
 * Layout: 0x01 ‖ KEM ciphertext (1120) ‖ nonce (24) ‖ XChaCha20-Poly1305 ciphertext ‖ tag (16).
 * The AEAD key is labelledHash(XWING_SEAL_LABEL, [ss, kemCiphertext, recipientPublicKey]),
 * so a KEM ciphertext cannot be lifted onto another recipient's seal.
 * `fixed` replaces the randomness, for test vectors only.
 */
export function xwingSeal(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  fixed?: XWingSealRandomness
): Buffer {
  if (!isBytes(recipientPublicKey) || recipientPublicKey.byteLength !== XWING_PUBLIC_KEY_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`X-Wing public key must be ${XWING_PUBLIC_KEY_BYTES} bytes`)
  }
  if (
    fixed !== undefined &&
    (!isBytes(fixed.encapsulation) || fixed.encapsulation.byteLength !== XWING_ENCAPSULATION_RANDOM_BYTES)
  ) {
    throw KernelErrors.CRYPTO_INVALID_INPUT(
      `X-Wing encapsulation randomness must be ${XWING_ENCAPSULATION_RANDOM_BYTES} bytes`
    )
  }
  let enc: { cipherText: Uint8Array; sharedSecret: Uint8Array }
  try {
    enc = fixed
      ? ml_kem768_x25519.encapsulate(recipientPublicKey, fixed.encapsulation)
      : ml_kem768_x25519.encapsulate(recipientPublicKey)
  } catch (err) {
    // noble refuses public keys that fail the ML-KEM modulus check or carry a low-order X25519 point
    throw KernelErrors.CRYPTO_INVALID_KEY('X-Wing public key is malformed', { cause: err })
  }
  const key = sealKey(enc.sharedSecret, enc.cipherText, recipientPublicKey)
  const body = aeadEncrypt(key, plaintext, ad, fixed?.nonce)
  key.fill(0)
  enc.sharedSecret.fill(0)
  return Buffer.concat([Buffer.from([XWING_SEAL_VERSION]), enc.cipherText, body])
}

/**
 * Opens a seal made by xwingSeal. Every failure — unknown version, truncated
 * input, wrong key, wrong AD, any flipped bit — is CRYPTO_DECRYPT_FAILED; it
 * never returns unauthenticated bytes. (ML-KEM decapsulation with the wrong
 * key does not fail by itself, it yields an unrelated secret; the AEAD tag is
 * what catches it.)
 */
export function xwingOpen(recipientSecretKey: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Buffer {
  const recipientPublicKey = xwingPublicKeyFromSecret(recipientSecretKey)
  if (!isBytes(sealed) || sealed.byteLength < XWING_SEAL_OVERHEAD_BYTES) {
    throw KernelErrors.CRYPTO_DECRYPT_FAILED('sealed data too short')
  }
  if (sealed[0] !== XWING_SEAL_VERSION) {
    throw KernelErrors.CRYPTO_DECRYPT_FAILED(`unknown seal version ${sealed[0]}`)
  }
  const kemCiphertext = sealed.subarray(1, 1 + XWING_CIPHERTEXT_BYTES)
  let ss: Uint8Array
  try {
    ss = ml_kem768_x25519.decapsulate(kemCiphertext, recipientSecretKey)
  } catch (err) {
    throw KernelErrors.CRYPTO_DECRYPT_FAILED('X-Wing decapsulation failed', { cause: err })
  }
  const key = sealKey(ss, kemCiphertext, recipientPublicKey)
  ss.fill(0)
  try {
    return aeadDecrypt(key, sealed.subarray(1 + XWING_CIPHERTEXT_BYTES), ad)
  } finally {
    key.fill(0)
  }
}
