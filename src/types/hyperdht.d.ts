declare module 'hyperdht' {
  import { EventEmitter } from 'node:events'
  import type NoiseSecretStream from '@hyperswarm/secret-stream'

  namespace HyperDHT {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer
    }
    interface Node {
      host: string
      port: number
    }
    interface Options {
      /** `[{ host, port }]` or `'host:port'` strings; empty array for an isolated node. */
      bootstrap?: (Node | string)[]
      /** Address to bind; tests must use 127.0.0.1 (a 0.0.0.0 node never completes the server side here). */
      host?: string
      port?: number
      keyPair?: KeyPair
      ephemeral?: boolean
      firewalled?: boolean
    }
    interface ServerOptions {
      /** Return true to REJECT the connecting key (like Hyperswarm's firewall). */
      firewall?: (remotePublicKey: Buffer, remoteHandshakePayload: unknown) => boolean
      holepunch?: boolean
      shareLocalAddress?: boolean
    }
    interface ConnectOptions {
      /** The client's Noise key pair; defaults to the node's `defaultKeyPair`. */
      keyPair?: KeyPair
    }
    /** A Noise server reachable by its public key through the DHT. */
    interface Server extends EventEmitter {
      readonly closed: boolean
      readonly listening: boolean
      readonly publicKey: Buffer | null
      listen(keyPair?: KeyPair): Promise<Server>
      /** Stops announcing and unlistens; idempotent. */
      close(): Promise<void>
      address(): { publicKey: Buffer; host: string; port: number } | null
      on(event: 'connection', listener: (socket: NoiseSecretStream) => void): this
      on(event: 'listening' | 'close', listener: () => void): this
      on(event: string, listener: (...args: unknown[]) => void): this
    }
  }

  class HyperDHT extends EventEmitter {
    constructor(opts?: HyperDHT.Options)
    static keyPair(seed?: Buffer): HyperDHT.KeyPair
    readonly defaultKeyPair: HyperDHT.KeyPair
    readonly destroyed: boolean
    readonly bootstrapNodes: HyperDHT.Node[]
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    /** Bound address; valid after ready(). */
    address(): { host: string; port: number; family?: number }
    destroy(opts?: { force?: boolean }): Promise<void>
    createServer(
      opts?: HyperDHT.ServerOptions | ((socket: NoiseSecretStream) => void),
      onconnection?: (socket: NoiseSecretStream) => void
    ): HyperDHT.Server
    /** Dials the server listening on `remotePublicKey`; errors (e.g. PEER_NOT_FOUND) arrive as 'error'. */
    connect(remotePublicKey: Buffer, opts?: HyperDHT.ConnectOptions): NoiseSecretStream
  }
  export = HyperDHT
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'

  namespace createTestnet {
    interface Testnet {
      readonly nodes: HyperDHT[]
      readonly bootstrap: { host: string; port: number }[]
      /** An ephemeral DHT node on 127.0.0.1 using this testnet's bootstrap. */
      createNode(opts?: HyperDHT.Options): HyperDHT
      destroy(): Promise<void>
      [Symbol.iterator](): Iterator<HyperDHT>
    }
    interface Options {
      host?: string
      port?: number
      bootstrap?: { host: string; port: number }[]
      teardown?: (fn: () => unknown, opts?: { order?: number }) => void
    }
  }
  function createTestnet(
    size?: number,
    opts?: createTestnet.Options | createTestnet.Options['teardown']
  ): Promise<createTestnet.Testnet>
  export = createTestnet
}
