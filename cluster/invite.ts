import { ed25519KeyPairFromSeed, type Ed25519KeyPair } from '../src/kernel/crypto/ed25519.js'
import { labelledHash, randomBytes } from '../src/kernel/crypto/hash.js'
import { base32Decode, base32Encode } from '../src/kernel/ids.js'
import { ClusterErrors } from './errors.js'

/**
 * A one-time invite: `cinv1_` + base32(version ‖ secret(32) ‖ expires(u32 s) ‖ checksum(4)).
 * Everything else follows from the secret by labelled hashes: the key pair
 * the inviting node listens on (so only the holder of the invite can find
 * it), the token the joiner presents, and the key that seals the device
 * package. The invite names no account and no key of the cluster.
 */
export const INVITE_PREFIX = 'cinv1_'
const VERSION = 1
const SECRET_BYTES = 32

export interface Invite {
  secret: Buffer
  /** Unix time in seconds after which the invite is refused. */
  expires: number
}

export interface InviteKeys {
  /** The DHT key pair the inviting node listens on for this invite. */
  server: Ed25519KeyPair
  /** What the joiner presents to prove it holds the invite. */
  token: Buffer
  /** Seals the device package in transit (on top of the Noise channel). */
  packageKey: Buffer
}

export function createInvite(ttlMs: number, nowMs: number): Invite {
  return { secret: randomBytes(SECRET_BYTES), expires: Math.floor((nowMs + ttlMs) / 1000) }
}

function checksum(body: Buffer): Buffer {
  return labelledHash('conclave/v1/invite/checksum', [body]).subarray(0, 4)
}

export function encodeInvite(invite: Invite): string {
  const body = Buffer.alloc(1 + SECRET_BYTES + 4)
  body[0] = VERSION
  invite.secret.copy(body, 1)
  body.writeUInt32BE(invite.expires, 1 + SECRET_BYTES)
  return INVITE_PREFIX + base32Encode(Buffer.concat([body, checksum(body)]))
}

export function decodeInvite(text: string): Invite {
  const t = text.trim()
  if (!t.startsWith(INVITE_PREFIX))
    throw ClusterErrors.CLUSTER_INVITE_INVALID('not a Conclave invite (expected cinv1_…)')
  const raw = base32Decode(t.slice(INVITE_PREFIX.length))
  if (!raw || raw.length !== 1 + SECRET_BYTES + 4 + 4)
    throw ClusterErrors.CLUSTER_INVITE_INVALID('malformed invite')
  const body = raw.subarray(0, raw.length - 4)
  if (!checksum(body).equals(raw.subarray(raw.length - 4))) {
    throw ClusterErrors.CLUSTER_INVITE_INVALID('invite checksum mismatch (mistyped or cut off?)')
  }
  if (body[0] !== VERSION) throw ClusterErrors.CLUSTER_INVITE_INVALID(`unsupported invite version ${body[0]}`)
  return {
    secret: Buffer.from(body.subarray(1, 1 + SECRET_BYTES)),
    expires: body.readUInt32BE(1 + SECRET_BYTES)
  }
}

export function inviteKeys(invite: Invite): InviteKeys {
  return {
    server: ed25519KeyPairFromSeed(labelledHash('conclave/v1/invite/server', [invite.secret])),
    token: labelledHash('conclave/v1/invite/token', [invite.secret]),
    packageKey: labelledHash('conclave/v1/invite/package', [invite.secret])
  }
}

export function isExpired(invite: Invite, nowMs: number): boolean {
  return nowMs >= invite.expires * 1000
}
