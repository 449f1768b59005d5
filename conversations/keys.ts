import { randomBytes } from '../src/kernel/crypto/hash.js'
import { xwingOpen, xwingSeal } from '../src/kernel/crypto/xwing.js'
import { canonicalBytes, hex, unhex } from '../src/kernel/encoding.js'
import { KernelErrors } from '../src/kernel/errors.js'

/**
 * The conversation key: 32 random bytes, the block-encryption key of every
 * core of the conversation's autobase. It reaches a member device sealed to
 * that device's X-Wing key, bound (as associated data) to the conversation
 * and the device, so a seal cannot be moved to another conversation or
 * presented as another device's.
 */

export const CONVERSATION_KEY_BYTES = 32
const SEAL_CONTEXT = 'conclave/conv/key-seal/v1'

export function newConversationKey(): Buffer {
  return randomBytes(CONVERSATION_KEY_BYTES)
}

function ad(conversationId: string, deviceId: string): Buffer {
  return canonicalBytes({ context: SEAL_CONTEXT, conversationId, deviceId })
}

/** Hex of the key sealed to one device (what a `conv/device` entry carries). */
export function sealConversationKey(
  key: Uint8Array,
  to: { conversationId: string; deviceId: string; xwingKey: Uint8Array | string }
): string {
  if (key.byteLength !== CONVERSATION_KEY_BYTES)
    throw KernelErrors.CRYPTO_INVALID_KEY('a conversation key has 32 bytes')
  const pub = typeof to.xwingKey === 'string' ? unhex(to.xwingKey) : to.xwingKey
  return hex(xwingSeal(pub, key, ad(to.conversationId, to.deviceId)))
}

/** Opens a sealed conversation key with the device's X-Wing secret; throws CRYPTO_DECRYPT_FAILED. */
export function openConversationKey(
  sealed: string,
  xwingSecretKey: Uint8Array,
  to: { conversationId: string; deviceId: string }
): Buffer {
  const key = xwingOpen(xwingSecretKey, unhex(sealed), ad(to.conversationId, to.deviceId))
  if (key.byteLength !== CONVERSATION_KEY_BYTES)
    throw KernelErrors.CRYPTO_DECRYPT_FAILED('not a conversation key')
  return key
}
