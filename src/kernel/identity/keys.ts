import { type Ed25519KeyPair, ed25519KeyPairFromSeed } from '../crypto/ed25519.js'
import { labelledHash } from '../crypto/hash.js'
import {
  type HybridKeyPair,
  type HybridPublicKey,
  hybridKeyPairFromSeeds,
  hybridPublicKeyOf,
  MLDSA65_PUBLIC_KEY_BYTES
} from '../crypto/hybrid-sign.js'
import { type XWingKeyPair, xwingKeyPairFromSeed } from '../crypto/xwing.js'
import { KernelErrors } from '../errors.js'
import { type AccountId, type DeviceId, encodeId } from '../ids.js'
import { assertIndex, slip10Derive } from './slip10.js'

/**
 * The Conclave key tree. Everything here is frozen by the vectors in
 * docs/keys.md and test/kernel/identity/keys-vectors.test.ts: a path or
 * label never changes without a KEY_TREE_VERSION bump, because a changed key
 * would silently turn an existing seed phrase into a different account.
 *
 *   m/P'/V'/0'               root leaf: Ed25519 root key; ML-DSA-65 seed = H('conclave/v1/root/mldsa65', leaf)
 *   m/P'/V'/1'/i'            device i leaf: Ed25519 signing key; X-Wing and corestore keys expanded from it
 *   m/P'/V'/2'/i'/e'         writer core key pair of device i at writer epoch e
 *   m/P'/V'/3'               cluster leaf: cluster encryption key expanded from it
 *
 * P = KEY_TREE_PURPOSE, V = KEY_TREE_VERSION; all indices hardened.
 */
export const KEY_TREE_VERSION = 1
/** ASCII "CNCL" (0x434e434c), below 2^31: far from every registered BIP43 purpose. */
export const KEY_TREE_PURPOSE = 0x434e434c

export const KEY_BRANCH = { root: 0, device: 1, writer: 2, cluster: 3 } as const

/** Labels of the labelled BLAKE2b expansions; each names one key. */
export const KEY_LABELS = {
  rootMldsa: 'conclave/v1/root/mldsa65',
  deviceXwing: 'conclave/v1/device/xwing',
  deviceCorestorePrimary: 'conclave/v1/device/corestore-primary',
  clusterEncryption: 'conclave/v1/cluster/encryption',
  accountId: 'conclave/v1/account-id',
  deviceId: 'conclave/v1/device-id',
  clusterTopic: 'conclave/v1/cluster-topic'
} as const

/** Bytes of key material behind an account or device id (before its checksum). */
export const ID_BYTES = 16

const BASE = [KEY_TREE_PURPOSE, KEY_TREE_VERSION] as const

export function rootPath(): number[] {
  return [...BASE, KEY_BRANCH.root]
}

export function devicePath(index: number): number[] {
  assertIndex(index, 'device')
  return [...BASE, KEY_BRANCH.device, index]
}

export function writerPath(index: number, epoch: number): number[] {
  assertIndex(index, 'device')
  assertIndex(epoch, 'epoch')
  return [...BASE, KEY_BRANCH.writer, index, epoch]
}

export function clusterPath(): number[] {
  return [...BASE, KEY_BRANCH.cluster]
}

/** Prints a path the way docs/keys.md does: m/1129202508'/1'/1'/0'. */
export function formatPath(path: readonly number[]): string {
  return ['m', ...path.map((i) => `${i}'`)].join('/')
}

/** The leaf's 32-byte private key; the chain code is not needed below a leaf. */
function leafKey(seed: Uint8Array, path: number[]): Buffer {
  const leaf = slip10Derive(seed, path)
  leaf.chainCode.fill(0)
  return leaf.key
}

export interface RootKeys {
  signing: HybridKeyPair
  publicKey: HybridPublicKey
  accountId: AccountId
}

export function deriveRoot(seed: Uint8Array): RootKeys {
  const leaf = leafKey(seed, rootPath())
  // The ML-DSA seed comes from the leaf (the Ed25519 seed), not from the
  // Ed25519 scalar: an attacker who recovers the scalar from the public key
  // (a quantum computer) still learns nothing about the ML-DSA half.
  const mldsaSeed = labelledHash(KEY_LABELS.rootMldsa, [leaf])
  const signing = hybridKeyPairFromSeeds(leaf, mldsaSeed)
  leaf.fill(0)
  mldsaSeed.fill(0)
  const publicKey = hybridPublicKeyOf(signing)
  return { signing, publicKey, accountId: accountIdFromPublic(publicKey) }
}

/** acc_… = encodeId('account', first 16 bytes of labelledHash('conclave/v1/account-id', [ed25519 ‖ mldsa])). */
export function accountIdFromPublic(pub: HybridPublicKey): AccountId {
  if (
    !(pub?.ed25519 instanceof Uint8Array) ||
    !(pub.mldsa instanceof Uint8Array) ||
    pub.ed25519.byteLength !== 32 ||
    pub.mldsa.byteLength !== MLDSA65_PUBLIC_KEY_BYTES
  ) {
    throw KernelErrors.CRYPTO_INVALID_KEY(
      'root public key must be Ed25519 (32 bytes) and ML-DSA-65 (1952 bytes)'
    )
  }
  return encodeId(
    'account',
    labelledHash(KEY_LABELS.accountId, [pub.ed25519, pub.mldsa]).subarray(0, ID_BYTES)
  )
}

export interface DeviceKeys {
  index: number
  signing: Ed25519KeyPair
  xwing: XWingKeyPair
  corestorePrimaryKey: Buffer
  deviceId: DeviceId
}

export function deriveDevice(seed: Uint8Array, index: number): DeviceKeys {
  const leaf = leafKey(seed, devicePath(index))
  const signing = ed25519KeyPairFromSeed(leaf)
  const xwingSeed = labelledHash(KEY_LABELS.deviceXwing, [leaf])
  const xwing = xwingKeyPairFromSeed(xwingSeed)
  xwingSeed.fill(0)
  const corestorePrimaryKey = labelledHash(KEY_LABELS.deviceCorestorePrimary, [leaf])
  leaf.fill(0)
  return { index, signing, xwing, corestorePrimaryKey, deviceId: deviceIdFromPublic(signing.publicKey) }
}

/** Only the signing key pair of device `index` (no X-Wing key): cheap enough to derive for many indices. */
export function deriveDeviceSigning(seed: Uint8Array, index: number): Ed25519KeyPair {
  const leaf = leafKey(seed, devicePath(index))
  const signing = ed25519KeyPairFromSeed(leaf)
  leaf.fill(0)
  return signing
}

/** dev_… = encodeId('device', first 16 bytes of labelledHash('conclave/v1/device-id', [signing public key])). */
export function deviceIdFromPublic(signingPublicKey: Uint8Array): DeviceId {
  if (!(signingPublicKey instanceof Uint8Array) || signingPublicKey.byteLength !== 32) {
    throw KernelErrors.CRYPTO_INVALID_KEY('device signing public key must be 32 bytes')
  }
  return encodeId('device', labelledHash(KEY_LABELS.deviceId, [signingPublicKey]).subarray(0, ID_BYTES))
}

/**
 * The autobase writer core key pair of device `index` at writer epoch
 * `epoch`. A recovered device moves to a new epoch instead of appending to
 * its old core (which would fork it); see DESIGN §3.
 */
export function deriveWriter(seed: Uint8Array, index: number, epoch: number): Ed25519KeyPair {
  const leaf = leafKey(seed, writerPath(index, epoch))
  const kp = ed25519KeyPairFromSeed(leaf)
  leaf.fill(0)
  return kp
}

export interface ClusterKeys {
  bootstrap: Ed25519KeyPair
  encryptionKey: Buffer
  topic: Buffer
}

/**
 * The cluster autobase's bootstrap core is device 0's first writer, so the
 * seed alone finds the cluster again; its swarm topic follows from the
 * bootstrap public key.
 */
export function deriveCluster(seed: Uint8Array): ClusterKeys {
  const bootstrap = deriveWriter(seed, 0, 0)
  const leaf = leafKey(seed, clusterPath())
  const encryptionKey = labelledHash(KEY_LABELS.clusterEncryption, [leaf])
  leaf.fill(0)
  const topic = labelledHash(KEY_LABELS.clusterTopic, [bootstrap.publicKey])
  return { bootstrap, encryptionKey, topic }
}
