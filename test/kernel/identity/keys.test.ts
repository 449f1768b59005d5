import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js'
import test from 'brittle'
import { ed25519KeyPairFromSeed, ed25519Sign, ed25519Verify } from '../../../src/kernel/crypto/ed25519.js'
import { labelledHash } from '../../../src/kernel/crypto/hash.js'
import { hybridSign, hybridVerify } from '../../../src/kernel/crypto/hybrid-sign.js'
import { xwingOpen, xwingPublicKeyFromSecret, xwingSeal } from '../../../src/kernel/crypto/xwing.js'
import { isConclaveError } from '../../../src/kernel/errors.js'
import {
  accountIdFromPublic,
  deriveCluster,
  deriveDevice,
  deriveRoot,
  deriveWriter,
  deviceIdFromPublic,
  devicePath,
  formatPath,
  KEY_LABELS,
  KEY_TREE_PURPOSE,
  KEY_TREE_VERSION,
  rootPath,
  writerPath
} from '../../../src/kernel/identity/keys.js'
import { mnemonicToSeed } from '../../../src/kernel/identity/mnemonic.js'
import { slip10Derive } from '../../../src/kernel/identity/slip10.js'
import { decodeId } from '../../../src/kernel/ids.js'

const MNEMONIC = `${'abandon '.repeat(23)}art`
const seed = mnemonicToSeed(MNEMONIC)
const seedTrezor = mnemonicToSeed(MNEMONIC, 'TREZOR')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function throwsCode(
  t: { ok(v: unknown, m?: string): void; fail(m?: string): void },
  fn: () => unknown,
  code: string,
  m = code
) {
  try {
    fn()
    t.fail(`${m}: did not throw`)
  } catch (err) {
    t.ok(isConclaveError(err, code), `${m} (${(err as { code?: string }).code})`)
  }
}

test('keys: paths are as documented', (t) => {
  t.is(KEY_TREE_VERSION, 1)
  t.is(KEY_TREE_PURPOSE, 1129202508)
  t.is(Buffer.from([0x43, 0x4e, 0x43, 0x4c]).toString('ascii'), 'CNCL')
  t.is(formatPath(rootPath()), "m/1129202508'/1'/0'")
  t.is(formatPath(devicePath(5)), "m/1129202508'/1'/1'/5'")
  t.is(formatPath(writerPath(5, 7)), "m/1129202508'/1'/2'/5'/7'")
})

test('keys: leaves are the SLIP-0010 keys at the documented paths, expansions use the documented labels', (t) => {
  const rootLeaf = slip10Derive(seed, [KEY_TREE_PURPOSE, 1, 0])
  const root = deriveRoot(seed)
  t.alike(root.signing.ed25519.publicKey, rootLeaf.publicKey, 'root ed25519 = leaf')
  const mldsaSeed = labelledHash('conclave/v1/root/mldsa65', [rootLeaf.key])
  t.is(KEY_LABELS.rootMldsa, 'conclave/v1/root/mldsa65')
  t.alike(
    Buffer.from(ml_dsa65.keygen(mldsaSeed).publicKey),
    root.publicKey.mldsa,
    'root ML-DSA from labelled leaf'
  )

  const devLeaf = slip10Derive(seed, [KEY_TREE_PURPOSE, 1, 1, 3])
  const dev = deriveDevice(seed, 3)
  t.alike(dev.signing.publicKey, devLeaf.publicKey, 'device signing = leaf')
  t.alike(dev.xwing.secretKey, labelledHash('conclave/v1/device/xwing', [devLeaf.key]), 'X-Wing seed')
  t.alike(
    dev.corestorePrimaryKey,
    labelledHash('conclave/v1/device/corestore-primary', [devLeaf.key]),
    'corestore key'
  )

  t.alike(
    deriveWriter(seed, 3, 9).publicKey,
    slip10Derive(seed, [KEY_TREE_PURPOSE, 1, 2, 3, 9]).publicKey,
    'writer = leaf'
  )
  const clusterLeaf = slip10Derive(seed, [KEY_TREE_PURPOSE, 1, 3])
  t.alike(
    deriveCluster(seed).encryptionKey,
    labelledHash('conclave/v1/cluster/encryption', [clusterLeaf.key]),
    'cluster key'
  )
})

test('keys: determinism — the same seed twice gives the same keys', (t) => {
  const a = deriveRoot(seed)
  const b = deriveRoot(Buffer.from(seed))
  t.alike(a.signing.ed25519.secretKey, b.signing.ed25519.secretKey)
  t.alike(a.signing.mldsa.secretKey, b.signing.mldsa.secretKey)
  t.is(a.accountId, b.accountId)
  const d1 = deriveDevice(seed, 2)
  const d2 = deriveDevice(seed, 2)
  t.alike(d1.signing.secretKey, d2.signing.secretKey)
  t.alike(d1.xwing.secretKey, d2.xwing.secretKey)
  t.alike(d1.corestorePrimaryKey, d2.corestorePrimaryKey)
  t.alike(deriveWriter(seed, 2, 4), deriveWriter(seed, 2, 4))
  t.alike(deriveCluster(seed), deriveCluster(seed))
})

test('keys: distinct paths, indices and epochs give distinct keys', (t) => {
  const pubs = new Map<string, string>()
  const add = (name: string, key: Uint8Array) => {
    const h = hex(key)
    t.absent(pubs.has(h), `${name} is unique${pubs.has(h) ? ` (same as ${pubs.get(h)})` : ''}`)
    pubs.set(h, name)
  }
  const root = deriveRoot(seed)
  add('root ed25519', root.publicKey.ed25519)
  for (const i of [0, 1, 2, 2 ** 31 - 1]) {
    const d = deriveDevice(seed, i)
    add(`device ${i} signing`, d.signing.publicKey)
    add(`device ${i} xwing seed`, d.xwing.secretKey)
    add(`device ${i} corestore`, d.corestorePrimaryKey)
    for (const e of [0, 1, 2]) add(`writer ${i}/${e}`, deriveWriter(seed, i, e).publicKey)
  }
  const c = deriveCluster(seed)
  add('cluster encryption', c.encryptionKey)
  add('cluster topic', c.topic)
  t.not(deriveDevice(seed, 0).deviceId, deriveDevice(seed, 1).deviceId)
})

test('keys: the passphrase changes the account', (t) => {
  const a = deriveRoot(seed)
  const b = deriveRoot(seedTrezor)
  t.not(a.accountId, b.accountId)
  t.unlike(a.publicKey.ed25519, b.publicKey.ed25519)
  t.unlike(a.publicKey.mldsa, b.publicKey.mldsa)
  t.unlike(deriveCluster(seed).topic, deriveCluster(seedTrezor).topic)
})

test('keys: cluster bootstrap is writer (0, 0) and the topic follows from it', (t) => {
  const c = deriveCluster(seed)
  t.alike(c.bootstrap, deriveWriter(seed, 0, 0))
  t.alike(c.topic, labelledHash('conclave/v1/cluster-topic', [c.bootstrap.publicKey]))
  t.is(c.encryptionKey.length, 32)
})

test('keys: ids are well-formed, checksummed, and follow from public keys', (t) => {
  const root = deriveRoot(seed)
  const { bytes } = decodeId('account', root.accountId)
  t.is(bytes.length, 16)
  t.alike(
    bytes,
    labelledHash('conclave/v1/account-id', [root.publicKey.ed25519, root.publicKey.mldsa]).subarray(0, 16)
  )
  t.is(accountIdFromPublic(root.publicKey), root.accountId)
  const d = deriveDevice(seed, 0)
  t.is(decodeId('device', d.deviceId).bytes.length, 16)
  t.is(deviceIdFromPublic(d.signing.publicKey), d.deviceId)
  t.alike(
    decodeId('device', d.deviceId).bytes,
    labelledHash('conclave/v1/device-id', [d.signing.publicKey]).subarray(0, 16)
  )
  throwsCode(
    t,
    () => accountIdFromPublic({ ed25519: root.publicKey.ed25519, mldsa: Buffer.alloc(10) }),
    'CRYPTO_INVALID_KEY'
  )
  throwsCode(t, () => deviceIdFromPublic(Buffer.alloc(31)), 'CRYPTO_INVALID_KEY')
})

test('keys: derived keys work — root signs, device seals, writer signs', (t) => {
  const root = deriveRoot(seed)
  const s = hybridSign(root.signing, Buffer.from('cert'), 'conclave/v1/test')
  t.ok(hybridVerify(root.publicKey, Buffer.from('cert'), s, 'conclave/v1/test'))
  const d = deriveDevice(seed, 1)
  t.alike(xwingPublicKeyFromSecret(d.xwing.secretKey), d.xwing.publicKey)
  t.alike(
    xwingOpen(
      d.xwing.secretKey,
      xwingSeal(d.xwing.publicKey, Buffer.from('k'), Buffer.alloc(0)),
      Buffer.alloc(0)
    ),
    Buffer.from('k')
  )
  const w = deriveWriter(seed, 1, 0)
  t.ok(ed25519Verify(ed25519Sign(Buffer.from('block'), w.secretKey), Buffer.from('block'), w.publicKey))
  t.alike(ed25519KeyPairFromSeed(w.secretKey.subarray(0, 32)), w, 'libsodium secret key = seed ‖ public key')
})

test('keys: device index and writer epoch are validated', (t) => {
  for (const bad of [-1, 2 ** 31, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsCode(t, () => deriveDevice(seed, bad), 'CRYPTO_INVALID_INPUT', `device ${bad}`)
    throwsCode(t, () => deriveWriter(seed, bad, 0), 'CRYPTO_INVALID_INPUT', `writer device ${bad}`)
    throwsCode(t, () => deriveWriter(seed, 0, bad), 'CRYPTO_INVALID_INPUT', `writer epoch ${bad}`)
  }
  throwsCode(t, () => deriveRoot(Buffer.alloc(8)), 'CRYPTO_INVALID_KEY', 'short seed')
})
