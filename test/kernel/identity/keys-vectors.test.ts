import test from 'brittle'
import { blake2b } from '../../../src/kernel/crypto/hash.js'
import { deriveCluster, deriveDevice, deriveRoot, deriveWriter } from '../../../src/kernel/identity/keys.js'
import { mnemonicToSeed } from '../../../src/kernel/identity/mnemonic.js'

/**
 * Frozen key-tree vectors: the same values are printed in docs/keys.md. If
 * this test fails, a change altered which keys a seed phrase produces —
 * existing accounts would silently become different accounts. Do not update
 * these values; bump KEY_TREE_VERSION and add new vectors instead.
 */
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ' +
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art'

const VECTORS = [
  {
    passphrase: '',
    seed: '408b285c123836004f4b8842c89324c1f01382450c0d439af345ba7fc49acf705489c6fc77dbd4e3dc1dd8cc6bc9f043db8ada1e243c4a0eafb290d399480840',
    rootEd25519: '515a1921edaa516461244bda3bb883cfab8411e6bb1924c6011e9cf03eb6f9ee',
    rootMldsaBlake2b256: '4c39d9277f246cace00c582ebc32005f6849919cb0be73022ccdcc886f4125d5',
    accountId: 'acc_56u7sds3zvad4po3i3s7hfsdc7aasbrz',
    device0Signing: '111c943a7de542c68bb43a64ab0a0b87905ce16200fa2ffce21e6b474442818e',
    device0Id: 'dev_ceyi7lhwprpx4kdpzjhfoc4j7w6mij2z',
    device1Signing: 'a08aafadab2c52a1da73200a683fbe6a7ae1f1a950067ef60163bb9c746eebc5',
    device1Id: 'dev_ffaqumpavkfqacrsjwwevvsxnvneapjj',
    device0XwingBlake2b256: '63d08bccf8009152335e11d45457bb5d6c3bac17903c11fb7c4ae3357383e76f',
    device0CorestorePrimaryBlake2b256: '61694bb401e0548d7aa13dfe37174604e374fb42f6a52f22c9f6caf98c560d2e',
    writer00: '2ece50d1e5b17332ee306e12a6c2295910933ed1fad55d31f27f176ae3b8a15a',
    writer01: '82d866edb975fa47d547fa871d597059b7e8b5a990bd600c7290487d50a40c46',
    writer10: '8341593aad88a18922a55f60027e13b01fc0665011c6dc7d35b5b8f5b6f3b0af',
    clusterTopic: 'ad8e84f2ce17596768a54f3115d9f43c265cfec14927e290043a63926d65d7fa',
    clusterEncryptionBlake2b256: '11ca152430f3cc51bfe0a9e30088588cee8d478785f1e79e064662fc7e9ce332'
  },
  {
    passphrase: 'TREZOR',
    seed: 'bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8',
    rootEd25519: '284c3f9df608a40db86c9c3d97ecba3cde28ed8c7abb9c0d9a74a1003385df61',
    rootMldsaBlake2b256: '27cbca80c2e8db2b67d8811b078e57d98616679234a3262273bca91edb5be085',
    accountId: 'acc_uvzw3aisggfeyddsvurytua3527dh4qf',
    device0Signing: '1029a9d6ef4215d8fb2a300a0b88d8d10a015d0ea4a995792c732766f23e63cd',
    device0Id: 'dev_tt2m6zwinvjejpfc5jamvy4tlwazrok4',
    device1Signing: 'bb22ed76dc9c096bd1637e33254e2b61a060f894ca1882c9910e5ad5b721231c',
    device1Id: 'dev_oj3ydrkquv7xbbp3gdkteve4pplclok4',
    device0XwingBlake2b256: '6ee549c979049e5732c8a6acfa4ccb0ab6bfe49e932a66c27f619939f352bd55',
    device0CorestorePrimaryBlake2b256: '72c4b74f82be9ade35397e2c5682ac8c58bfa4e209f33c331324a7b516b13098',
    writer00: '61d04cc1637908291983a56857235b31db321ad0f11722dcda71d9e44e63fc4e',
    writer01: 'ba8d921efafd9eb1cfefaba37b4ece5615b8d25a2e8e9a9fa0d2abbe6ff42f50',
    writer10: '1bacccbc5e82de7ff7b671db4cda3332c9566ea3fc5662617e3ca996ba6e39a1',
    clusterTopic: '3fd498839c2794e014a3a0fd52495e2e71e34197671b3963e92e31a62be87933',
    clusterEncryptionBlake2b256: 'ab2ed84bd22d93d7c4440c0062b8b3b5d6d1f15814c3ac775214382ba23a666d'
  }
]

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

for (const v of VECTORS) {
  test(`key tree v1 vectors: all-abandon-art, passphrase ${JSON.stringify(v.passphrase)}`, (t) => {
    const seed = mnemonicToSeed(MNEMONIC, v.passphrase)
    t.is(hex(seed), v.seed, 'BIP39 seed')
    const root = deriveRoot(seed)
    t.is(hex(root.publicKey.ed25519), v.rootEd25519, 'root Ed25519 public key')
    t.is(
      hex(blake2b(root.publicKey.mldsa)),
      v.rootMldsaBlake2b256,
      'BLAKE2b-256 of the root ML-DSA-65 public key'
    )
    t.is(root.accountId, v.accountId, 'account id')
    const d0 = deriveDevice(seed, 0)
    const d1 = deriveDevice(seed, 1)
    t.is(hex(d0.signing.publicKey), v.device0Signing, 'device 0 signing key')
    t.is(d0.deviceId, v.device0Id, 'device 0 id')
    t.is(hex(d1.signing.publicKey), v.device1Signing, 'device 1 signing key')
    t.is(d1.deviceId, v.device1Id, 'device 1 id')
    t.is(
      hex(blake2b(d0.xwing.publicKey)),
      v.device0XwingBlake2b256,
      'BLAKE2b-256 of device 0 X-Wing public key'
    )
    t.is(
      hex(blake2b(d0.corestorePrimaryKey)),
      v.device0CorestorePrimaryBlake2b256,
      'BLAKE2b-256 of device 0 corestore primary key'
    )
    t.is(hex(deriveWriter(seed, 0, 0).publicKey), v.writer00, 'writer (0, 0)')
    t.is(hex(deriveWriter(seed, 0, 1).publicKey), v.writer01, 'writer (0, 1)')
    t.is(hex(deriveWriter(seed, 1, 0).publicKey), v.writer10, 'writer (1, 0)')
    const cluster = deriveCluster(seed)
    t.is(hex(cluster.bootstrap.publicKey), v.writer00, 'cluster bootstrap = writer (0, 0)')
    t.is(hex(cluster.topic), v.clusterTopic, 'cluster topic')
    t.is(
      hex(blake2b(cluster.encryptionKey)),
      v.clusterEncryptionBlake2b256,
      'BLAKE2b-256 of the cluster encryption key'
    )
  })
}
