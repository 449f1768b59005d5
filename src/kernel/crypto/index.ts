export { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, aeadDecrypt, aeadEncrypt } from './aead.js'
export {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  type Ed25519KeyPair,
  ed25519KeyPairFromSeed,
  ed25519Sign,
  ed25519Verify
} from './ed25519.js'
export { blake2b, equalBytes, labelledHash, randomBytes } from './hash.js'
export {
  HYBRID_SIGN_DOMAIN,
  HYBRID_SIGNATURE_BYTES,
  type HybridKeyPair,
  type HybridPublicKey,
  hybridKeyPairFromSeeds,
  hybridPublicKeyOf,
  hybridSign,
  hybridSignedBytes,
  hybridVerify,
  MLDSA65_PUBLIC_KEY_BYTES,
  MLDSA65_SECRET_KEY_BYTES,
  MLDSA65_SEED_BYTES,
  MLDSA65_SIGNATURE_BYTES
} from './hybrid-sign.js'
export {
  openStream,
  STREAM_ABYTES,
  STREAM_DEFAULT_CHUNK_BYTES,
  STREAM_FRAME_LENGTH_BYTES,
  STREAM_HEADER_BYTES,
  STREAM_KEY_BYTES,
  STREAM_MAX_CHUNK_BYTES,
  StreamDecryptor,
  StreamEncryptor,
  sealStream
} from './secretstream.js'
export {
  XWING_CIPHERTEXT_BYTES,
  XWING_ENCAPSULATION_RANDOM_BYTES,
  XWING_PUBLIC_KEY_BYTES,
  XWING_SEAL_LABEL,
  XWING_SEAL_OVERHEAD_BYTES,
  XWING_SEAL_VERSION,
  XWING_SECRET_KEY_BYTES,
  XWING_SEED_BYTES,
  XWING_SHARED_SECRET_BYTES,
  type XWingKeyPair,
  type XWingSealRandomness,
  xwingKeyPairFromSeed,
  xwingOpen,
  xwingPublicKeyFromSecret,
  xwingSeal
} from './xwing.js'
