declare module 'hypercore-crypto' {
  namespace crypto {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer
    }
    function keyPair(seed?: Buffer): KeyPair
    function discoveryKey(key: Buffer): Buffer
    function randomBytes(n: number): Buffer
    function hash(data: Buffer | Buffer[], out?: Buffer): Buffer
    function sign(message: Buffer, secretKey: Buffer): Buffer
    function verify(message: Buffer, signature: Buffer, publicKey: Buffer): boolean
  }
  export = crypto
}
