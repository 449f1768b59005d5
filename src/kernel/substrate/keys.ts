import Hypercore from 'hypercore'
import { KernelErrors } from '../errors.js'

export interface KeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

/**
 * The hypercore key of a single-signer core (manifest version 1, as corestore
 * 7 creates them) whose signer is this Ed25519 public key. Hypercore 11 keys
 * are manifest hashes, so this is NOT the public key itself; it is a pure
 * function of it. A writer core created from a key pair has this key, and a
 * base bootstrapped by that writer has it as its base key — which is how a
 * seed alone finds its cluster again.
 */
export function coreKeyFor(publicKey: Uint8Array): Buffer {
  if (publicKey.byteLength !== 32) throw KernelErrors.CRYPTO_INVALID_KEY('an Ed25519 public key has 32 bytes')
  return Hypercore.key({
    version: 1,
    signers: [{ publicKey: toBuffer(publicKey) }]
  })
}

/** The discovery key (swarm topic) of a core or base key. */
export function discoveryKeyFor(key: Uint8Array): Buffer {
  return Hypercore.discoveryKey(toBuffer(key))
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function toHypercoreKeyPair(kp: KeyPair): {
  publicKey: Buffer
  secretKey: Buffer
} {
  if (kp.publicKey.byteLength !== 32 || kp.secretKey.byteLength !== 64) {
    throw KernelErrors.CRYPTO_INVALID_KEY(
      'a writer key pair is an Ed25519 pair (32-byte public, 64-byte secret key)'
    )
  }
  return {
    publicKey: toBuffer(kp.publicKey),
    secretKey: toBuffer(kp.secretKey)
  }
}
