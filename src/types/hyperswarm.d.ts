declare module 'hyperswarm' {
  import { EventEmitter } from 'node:events'
  import type NoiseSecretStream from '@hyperswarm/secret-stream'
  import type HyperDHT from 'hyperdht'

  namespace Hyperswarm {
    /** Return true to REJECT the peer. Called before dialing (payload null) and on each incoming handshake. */
    type Firewall = (remotePublicKey: Buffer, payload: unknown) => boolean
    interface Options {
      keyPair?: HyperDHT.KeyPair
      seed?: Buffer
      dht?: HyperDHT
      bootstrap?: (HyperDHT.Node | string)[]
      firewall?: Firewall
      maxPeers?: number
      maxParallel?: number
    }
    interface JoinOptions {
      server?: boolean
      client?: boolean
      limit?: number
    }
    interface PeerDiscoverySession {
      readonly isClient: boolean
      readonly isServer: boolean
      /** Settles when the topic is announced (server) and looked up once (client). */
      flushed(): Promise<void>
      refresh(opts?: JoinOptions): Promise<void>
      destroy(): Promise<void>
    }
    interface PeerInfo {
      readonly publicKey: Buffer
      readonly topics: Buffer[]
      readonly prioritized: boolean
      readonly client: boolean
      readonly banned: boolean
      ban(banned?: boolean): void
    }
    type Connection = NoiseSecretStream
  }

  class Hyperswarm extends EventEmitter {
    constructor(opts?: Hyperswarm.Options)
    readonly keyPair: HyperDHT.KeyPair
    readonly dht: HyperDHT
    readonly destroyed: boolean
    readonly connections: Set<Hyperswarm.Connection>
    readonly peers: Map<string, Hyperswarm.PeerInfo>
    readonly connecting: number
    join(topic: Buffer, opts?: Hyperswarm.JoinOptions): Hyperswarm.PeerDiscoverySession
    leave(topic: Buffer): Promise<void>
    joinPeer(publicKey: Buffer): void
    leavePeer(publicKey: Buffer): void
    flush(): Promise<boolean>
    listen(): Promise<void>
    destroy(opts?: { force?: boolean }): Promise<void>

    on(event: 'connection', listener: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo) => void): this
    on(event: 'update', listener: () => void): this
    on(event: string, listener: (...args: unknown[]) => void): this
    off(event: 'connection', listener: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo) => void): this
    off(event: string, listener: (...args: unknown[]) => void): this
  }
  export = Hyperswarm
}
