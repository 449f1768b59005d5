declare module 'sodium-native' {
  namespace sodium {
    const crypto_generichash_BYTES: number
    const crypto_generichash_BYTES_MIN: number
    const crypto_generichash_BYTES_MAX: number
    const crypto_generichash_KEYBYTES: number
    const crypto_generichash_KEYBYTES_MIN: number
    const crypto_generichash_KEYBYTES_MAX: number
    function crypto_generichash(out: Buffer, input: Buffer, key?: Buffer): void
    function crypto_generichash_batch(out: Buffer, inputs: Buffer[], key?: Buffer): void

    const crypto_sign_PUBLICKEYBYTES: number
    const crypto_sign_SECRETKEYBYTES: number
    const crypto_sign_SEEDBYTES: number
    const crypto_sign_BYTES: number
    function crypto_sign_keypair(pk: Buffer, sk: Buffer): void
    function crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void
    function crypto_sign_detached(sig: Buffer, msg: Buffer, sk: Buffer): void
    function crypto_sign_verify_detached(sig: Buffer, msg: Buffer, pk: Buffer): boolean
    function crypto_sign_ed25519_pk_to_curve25519(out: Buffer, pk: Buffer): void
    function crypto_sign_ed25519_sk_to_curve25519(out: Buffer, sk: Buffer): void

    const crypto_aead_xchacha20poly1305_ietf_KEYBYTES: number
    const crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number
    const crypto_aead_xchacha20poly1305_ietf_ABYTES: number
    function crypto_aead_xchacha20poly1305_ietf_encrypt(
      c: Buffer,
      m: Buffer,
      ad: Buffer | null,
      nsec: null,
      npub: Buffer,
      k: Buffer
    ): number
    function crypto_aead_xchacha20poly1305_ietf_decrypt(
      m: Buffer,
      nsec: null,
      c: Buffer,
      ad: Buffer | null,
      npub: Buffer,
      k: Buffer
    ): number

    const crypto_secretstream_xchacha20poly1305_ABYTES: number
    const crypto_secretstream_xchacha20poly1305_HEADERBYTES: number
    const crypto_secretstream_xchacha20poly1305_KEYBYTES: number
    const crypto_secretstream_xchacha20poly1305_STATEBYTES: number
    // sodium-native 5 exposes the secretstream tags as plain numbers (0, 1, 2, 3), not Buffers
    const crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number
    const crypto_secretstream_xchacha20poly1305_TAG_PUSH: number
    const crypto_secretstream_xchacha20poly1305_TAG_REKEY: number
    const crypto_secretstream_xchacha20poly1305_TAG_FINAL: number
    function crypto_secretstream_xchacha20poly1305_keygen(k: Buffer): void
    function crypto_secretstream_xchacha20poly1305_init_push(state: Buffer, header: Buffer, k: Buffer): void
    function crypto_secretstream_xchacha20poly1305_push(
      state: Buffer,
      c: Buffer,
      m: Buffer,
      ad: Buffer | null,
      tag: number
    ): number
    function crypto_secretstream_xchacha20poly1305_init_pull(state: Buffer, header: Buffer, k: Buffer): void
    function crypto_secretstream_xchacha20poly1305_pull(
      state: Buffer,
      m: Buffer,
      tag: Buffer,
      c: Buffer,
      ad: Buffer | null
    ): number

    const crypto_kdf_KEYBYTES: number
    const crypto_kdf_CONTEXTBYTES: number
    function crypto_kdf_derive_from_key(out: Buffer, id: number, ctx: Buffer, key: Buffer): void

    const crypto_pwhash_SALTBYTES: number
    const crypto_pwhash_OPSLIMIT_INTERACTIVE: number
    const crypto_pwhash_MEMLIMIT_INTERACTIVE: number
    const crypto_pwhash_OPSLIMIT_MODERATE: number
    const crypto_pwhash_MEMLIMIT_MODERATE: number
    const crypto_pwhash_ALG_DEFAULT: number
    const crypto_pwhash_ALG_ARGON2ID13: number
    function crypto_pwhash(
      out: Buffer,
      passwd: Buffer,
      salt: Buffer,
      opslimit: number,
      memlimit: number,
      alg: number
    ): void

    const crypto_scalarmult_BYTES: number
    const crypto_scalarmult_SCALARBYTES: number
    function crypto_scalarmult_base(q: Buffer, n: Buffer): void
    function crypto_scalarmult(q: Buffer, n: Buffer, p: Buffer): void

    function crypto_auth(out: Buffer, input: Buffer, k: Buffer): void
    function randombytes_buf(buf: Buffer): void
    function randombytes_uniform(upper: number): number
    function sodium_memzero(buf: Buffer): void
    function sodium_memcmp(a: Buffer, b: Buffer): boolean
    function sodium_malloc(size: number): Buffer
  }
  export = sodium
}
