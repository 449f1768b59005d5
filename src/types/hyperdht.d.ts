declare module 'hyperdht' {
  import { EventEmitter } from 'node:events'

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
