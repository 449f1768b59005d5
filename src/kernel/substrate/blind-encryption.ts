import sodium from 'sodium-native'
import type Autobase from 'autobase'
import { KernelErrors } from '../errors.js'
import { labelledHash, randomBytes } from '../crypto/hash.js'

const TYPE_XCHACHA_V1 = 1
const AD = Buffer.from('conclave/substrate/blind-encryption/v1')
const NONCE_BYTES = 24
const TAG_BYTES = 16

/**
 * Autobase stores its block-encryption key in the local core's user data, in
 * plain text unless a `blindEncryption` wraps it. This wraps it with
 * XChaCha20-Poly1305 under `wrapKey` (nonce ‖ ciphertext); a wrong wrap key
 * fails authentication instead of yielding a wrong key.
 */
export type BlindEncryption = Autobase.BlindEncryption

export function blindEncryption(wrapKey: Uint8Array): Autobase.BlindEncryption {
  if (wrapKey.byteLength !== 32) throw KernelErrors.CRYPTO_INVALID_KEY('a wrap key has 32 bytes')
  const key = Buffer.from(wrapKey)
  return {
    async encrypt(value) {
      const nonce = randomBytes(NONCE_BYTES)
      const out = Buffer.alloc(NONCE_BYTES + value.byteLength + TAG_BYTES)
      nonce.copy(out)
      sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out.subarray(NONCE_BYTES),
        value,
        AD,
        null,
        nonce,
        key
      )
      return { type: TYPE_XCHACHA_V1, value: out }
    },
    async decrypt({ type, value }) {
      if (type !== TYPE_XCHACHA_V1 || value.byteLength < NONCE_BYTES + TAG_BYTES) {
        throw KernelErrors.CRYPTO_DECRYPT_FAILED(`unknown wrapped-key format ${type}`)
      }
      const out = Buffer.alloc(value.byteLength - NONCE_BYTES - TAG_BYTES)
      try {
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
          out,
          null,
          value.subarray(NONCE_BYTES),
          AD,
          value.subarray(0, NONCE_BYTES),
          key
        )
      } catch (cause) {
        throw KernelErrors.CRYPTO_DECRYPT_FAILED(
          'the wrapped base encryption key does not open with this wrap key',
          {
            cause
          }
        )
      }
      return { value: out, rotated: false }
    }
  }
}

/**
 * Default wrap key when the caller has no device secret to spare: a labelled
 * hash of the encryption key. The stored blob then reveals nothing without
 * the key, which the caller supplies on every open anyway.
 */
export function defaultWrapKey(encryptionKey: Uint8Array): Buffer {
  return labelledHash('conclave/substrate/wrap-key/v1', [encryptionKey])
}
