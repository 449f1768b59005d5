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
      opts?: {
        keyPair?: { publicKey: Buffer; secretKey: Buffer }
        /** Initiator only. With the XX pattern it is not enforced: compare `remotePublicKey` once opened. */
        remotePublicKey?: Buffer
        /** Sends an empty frame every `keepAlive` ms and drops empty frames received; both ends must agree. */
        keepAlive?: number
      }
    )
    readonly isInitiator: boolean
    readonly publicKey: Buffer | null
    readonly remotePublicKey: Buffer | null
    readonly handshakeHash: Buffer | null
    readonly opened: Promise<boolean>
    readonly destroyed: boolean
    rawStream: unknown
    userData: unknown
    /** One decrypted frame from the read buffer, or null when none is buffered. */
    read(): Buffer | null
    write(data: Uint8Array): boolean
    end(data?: Uint8Array): void
    destroy(err?: Error): void
    pipe<T>(dest: T): T
    setKeepAlive(ms: number): void
    /** Destroys the stream when no raw data arrives for `ms` (0 turns it off). */
    setTimeout(ms: number): void
    static keyPair(seed?: Buffer): { publicKey: Buffer; secretKey: Buffer }
  }
  export = NoiseSecretStream
}
