import sodium from 'sodium-native'
import { KernelErrors } from '../errors.js'
import { asBuffer, isBytes } from './ed25519.js'
import { randomBytes } from './hash.js'

export const AEAD_KEY_BYTES = 32
export const AEAD_NONCE_BYTES = 24
export const AEAD_TAG_BYTES = 16

function checkKey(key: Uint8Array): Buffer {
  if (!isBytes(key) || key.byteLength !== AEAD_KEY_BYTES) {
    throw KernelErrors.CRYPTO_INVALID_KEY(`XChaCha20-Poly1305 key must be ${AEAD_KEY_BYTES} bytes`)
  }
  return asBuffer(key)
}

/**
 * XChaCha20-Poly1305 (IETF). Output: nonce (24) ‖ ciphertext ‖ tag (16).
 * The nonce is random unless given; 24 bytes make random nonces safe for any
 * number of messages under one key. Pass a nonce only for test vectors.
 */
export function aeadEncrypt(
  key32: Uint8Array,
  plaintext: Uint8Array,
  ad?: Uint8Array,
  nonce?: Uint8Array
): Buffer {
  const k = checkKey(key32)
  if (nonce !== undefined && (!isBytes(nonce) || nonce.byteLength !== AEAD_NONCE_BYTES)) {
    throw KernelErrors.CRYPTO_INVALID_INPUT(`XChaCha20-Poly1305 nonce must be ${AEAD_NONCE_BYTES} bytes`)
  }
  const out = Buffer.alloc(AEAD_NONCE_BYTES + plaintext.byteLength + AEAD_TAG_BYTES)
  const npub = out.subarray(0, AEAD_NONCE_BYTES)
  if (nonce) npub.set(nonce)
  else npub.set(randomBytes(AEAD_NONCE_BYTES))
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    out.subarray(AEAD_NONCE_BYTES),
    asBuffer(plaintext),
    ad ? asBuffer(ad) : null,
    null,
    npub,
    k
  )
  return out
}

/** Reverses aeadEncrypt; any failure (short input, wrong key or AD, tampering) is CRYPTO_DECRYPT_FAILED. */
export function aeadDecrypt(key32: Uint8Array, data: Uint8Array, ad?: Uint8Array): Buffer {
  const k = checkKey(key32)
  if (!isBytes(data) || data.byteLength < AEAD_NONCE_BYTES + AEAD_TAG_BYTES) {
    throw KernelErrors.CRYPTO_DECRYPT_FAILED('ciphertext too short')
  }
  const d = asBuffer(data)
  const out = Buffer.alloc(d.byteLength - AEAD_NONCE_BYTES - AEAD_TAG_BYTES)
  let n = -1
  try {
    n = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      out,
      null,
      d.subarray(AEAD_NONCE_BYTES),
      ad ? asBuffer(ad) : null,
      d.subarray(0, AEAD_NONCE_BYTES),
      k
    )
  } catch (err) {
    throw KernelErrors.CRYPTO_DECRYPT_FAILED('authenticated decryption failed', { cause: err })
  }
  // sodium-native throws on a bad tag today; the length check keeps that true if it ever returns instead
  if (n !== out.byteLength) throw KernelErrors.CRYPTO_DECRYPT_FAILED('authenticated decryption failed')
  return out
}
