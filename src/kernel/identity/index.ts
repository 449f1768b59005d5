export {
  accountIdFromPublic,
  type ClusterKeys,
  clusterPath,
  type DeviceKeys,
  deriveCluster,
  deriveDevice,
  deriveRoot,
  deriveWriter,
  deviceIdFromPublic,
  devicePath,
  formatPath,
  ID_BYTES,
  KEY_BRANCH,
  KEY_LABELS,
  KEY_TREE_PURPOSE,
  KEY_TREE_VERSION,
  type RootKeys,
  rootPath,
  writerPath
} from './keys.js'
export {
  BIP39_SEED_BYTES,
  bip39Seed,
  generateMnemonic,
  MNEMONIC_ENTROPY_BYTES,
  MNEMONIC_WORDS,
  mnemonicFromEntropy,
  mnemonicToSeed,
  normalizeMnemonic
} from './mnemonic.js'
export {
  HARDENED_OFFSET,
  SLIP10_ED25519_CURVE,
  type Slip10Leaf,
  type Slip10Node,
  slip10Child,
  slip10Derive,
  slip10Master
} from './slip10.js'
