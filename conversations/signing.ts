import { ed25519Sign, ed25519Verify } from '../src/kernel/crypto/ed25519.js'
import { canonicalBytes, hex, unhex } from '../src/kernel/encoding.js'
import type { KeyPair } from '../src/kernel/substrate/index.js'

/**
 * Device signatures of conversation entries: Ed25519 with the device's
 * certified signing key over
 *
 *   u16be(len C) ‖ C ‖ canonicalJson(value)        C = utf8(context)
 *
 * where `value` is the entry without its `sig` plus the conversation id, so a
 * signature made for one conversation, or for one kind of entry, cannot be
 * replayed as another.
 */
export const SIGN_CONTEXT = {
  manifest: 'conclave/conv/manifest/v1',
  message: 'conclave/conv/message/v1',
  writer: 'conclave/conv/writer/v1'
} as const

export function signedBytes(context: string, value: unknown): Buffer {
  const c = Buffer.from(context, 'utf8')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(c.length)
  return Buffer.concat([len, c, canonicalBytes(value)])
}

/** Hex Ed25519 signature of `value` under `context`. */
export function signValue(context: string, value: unknown, keyPair: KeyPair): string {
  return hex(ed25519Sign(signedBytes(context, value), keyPair.secretKey))
}

/** Never throws: a value canonical JSON cannot encode, or any malformed key or signature, is false. */
export function verifyValue(context: string, value: unknown, sig: string, signingKeyHex: string): boolean {
  let bytes: Buffer
  try {
    bytes = signedBytes(context, value)
  } catch {
    return false
  }
  return ed25519Verify(unhex(sig), bytes, unhex(signingKeyHex))
}
