declare module '@hyperswarm/secret-stream' {
  import { EventEmitter } from 'node:events'

  /**
   * A Noise-encrypted duplex (streamx). Only what Conclave touches; `userData`
   * holds the Protomux instance once hypercore or protomux attached one.
   */
  class NoiseSecretStream extends EventEmitter {
    constructor(
      isInitiator: boolean,
      rawStream?: unknown,
      opts?: { keyPair?: { publicKey: Buffer; secretKey: Buffer } }
    )
    readonly isInitiator: boolean
    readonly publicKey: Buffer | null
    readonly remotePublicKey: Buffer | null
    readonly handshakeHash: Buffer | null
    readonly opened: Promise<boolean>
    readonly destroyed: boolean
    rawStream: unknown
    userData: unknown
    write(data: Uint8Array): boolean
    end(data?: Uint8Array): void
    destroy(err?: Error): void
    pipe<T>(dest: T): T
    setKeepAlive(ms: number): void
    static keyPair(seed?: Buffer): { publicKey: Buffer; secretKey: Buffer }
  }
  export = NoiseSecretStream
}
