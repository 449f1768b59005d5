import { createHmac } from 'node:crypto'
import { ed25519KeyPairFromSeed } from '../crypto/ed25519.js'
import { KernelErrors } from '../errors.js'

/**
 * SLIP-0010 private derivation for ed25519 (hardened children only, which is
 * all ed25519 supports). Written out against node:crypto's HMAC-SHA512 rather
 * than pulled from a library: it is a dozen lines, and the official vectors
 * in test/fixtures pin it.
 */
export const SLIP10_ED25519_CURVE = 'ed25519 seed'
export const HARDENED_OFFSET = 0x80000000
export const SLIP10_MIN_SEED_BYTES = 16
export const SLIP10_MAX_SEED_BYTES = 64

export interface Slip10Node {
  /** The 32-byte private key, used as the Ed25519 seed. */
  key: Buffer
  chainCode: Buffer
}

export interface Slip10Leaf extends Slip10Node {
  /** The raw 32-byte Ed25519 public key (the spec prints it with a 0x00 prefix; we do not). */
  publicKey: Buffer
}

function hmacSha512(key: Uint8Array, data: Uint8Array): { left: Buffer; right: Buffer } {
  const i = createHmac('sha512', key).update(data).digest()
  return { left: i.subarray(0, 32), right: i.subarray(32, 64) }
}

export function slip10Master(seed: Uint8Array): Slip10Node {
  if (
    !(seed instanceof Uint8Array) ||
    seed.byteLength < SLIP10_MIN_SEED_BYTES ||
    seed.byteLength > SLIP10_MAX_SEED_BYTES
  ) {
    throw KernelErrors.CRYPTO_INVALID_KEY(
      `SLIP-0010 seed must be ${SLIP10_MIN_SEED_BYTES}..${SLIP10_MAX_SEED_BYTES} bytes`
    )
  }
  const { left, right } = hmacSha512(Buffer.from(SLIP10_ED25519_CURVE, 'utf8'), seed)
  return { key: left, chainCode: right }
}

/** Asserts a path index is an integer in 0..2^31-1 (before the hardened bit is added). */
export function assertIndex(index: number, what = 'index'): void {
  if (!Number.isInteger(index) || index < 0 || index >= HARDENED_OFFSET) {
    throw KernelErrors.CRYPTO_INVALID_INPUT(`${what} must be an integer in 0..${HARDENED_OFFSET - 1}`, {
      data: { [what]: index }
    })
  }
}

/** CKDpriv for ed25519: I = HMAC-SHA512(c_par, 0x00 ‖ k_par ‖ ser32(index + 2^31)). */
export function slip10Child(parent: Slip10Node, index: number): Slip10Node {
  assertIndex(index)
  const data = Buffer.alloc(1 + 32 + 4)
  parent.key.copy(data, 1)
  data.writeUInt32BE(index + HARDENED_OFFSET, 33)
  const { left, right } = hmacSha512(parent.chainCode, data)
  data.fill(0)
  return { key: left, chainCode: right }
}

/**
 * Derives m/path[0]'/path[1]'/… — every index is taken as hardened, so pass
 * indices WITHOUT the hardened bit (0..2^31-1).
 */
export function slip10Derive(seed: Uint8Array, path: readonly number[]): Slip10Leaf {
  for (const index of path) assertIndex(index)
  let node = slip10Master(seed)
  for (const index of path) {
    const next = slip10Child(node, index)
    node.key.fill(0)
    node = next
  }
  const { publicKey, secretKey } = ed25519KeyPairFromSeed(node.key)
  secretKey.fill(0)
  return { key: node.key, chainCode: node.chainCode, publicKey }
}
