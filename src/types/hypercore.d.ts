declare module 'hypercore' {
  import { EventEmitter } from 'node:events'
  import type { Encoding, EncodingName } from 'compact-encoding'

  namespace Hypercore {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer
    }
    interface ManifestSigner {
      signature?: 'ed25519'
      namespace?: Buffer
      publicKey: Buffer
    }
    interface Manifest {
      version?: number
      hash?: 'blake2b'
      allowPatch?: boolean
      quorum?: number
      signers: ManifestSigner[]
      prologue?: { hash: Buffer; length: number } | null
      linked?: Buffer[] | null
      userData?: Buffer | null
    }
    interface GetOptions {
      wait?: boolean
      timeout?: number
      valueEncoding?: Encoding<unknown> | EncodingName
      decrypt?: boolean
    }
    interface Peer {
      remotePublicKey: Buffer
      remoteLength: number
      remoteContiguousLength: number
    }
    interface Info {
      key: Buffer
      discoveryKey: Buffer
      length: number
      contiguousLength: number
      byteLength: number
      fork: number
      padding: number
    }
    interface SessionOptions {
      name?: string
      writable?: boolean
      valueEncoding?: Encoding<unknown> | EncodingName
      snapshot?: boolean
      active?: boolean
      encryption?: unknown
    }
    /** A download request; `done()` settles when the range is local. */
    interface Download {
      done(): Promise<void>
      destroy(): void
    }
  }

  /**
   * Only the surface Conclave calls. Hypercores are always obtained from a
   * Corestore here (`store.get(...)`), never constructed directly.
   */
  class Hypercore<T = Buffer> extends EventEmitter {
    static key(
      manifest: Hypercore.Manifest,
      opts?: { compat?: boolean; version?: number; namespace?: Buffer }
    ): Buffer
    static discoveryKey(key: Buffer): Buffer

    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly id: string | null
    readonly manifest: Hypercore.Manifest | null
    readonly keyPair: Hypercore.KeyPair | null
    readonly writable: boolean
    readonly readable: boolean
    readonly opened: boolean
    readonly closed: boolean
    /** Blocks this session can see (for an autobase view: including the tentative tip). */
    readonly length: number
    /** Blocks covered by a signature (for an autobase view: the indexed, final part). */
    readonly signedLength: number
    readonly contiguousLength: number
    readonly byteLength: number
    readonly fork: number
    readonly peers: Hypercore.Peer[]

    ready(): Promise<void>
    close(): Promise<void>
    session(opts?: Hypercore.SessionOptions): Hypercore<T>
    snapshot(opts?: Hypercore.SessionOptions): Hypercore<T>
    append(block: T | T[]): Promise<{ length: number; byteLength: number }>
    get(index: number, opts?: Hypercore.GetOptions): Promise<T | null>
    has(start: number, end?: number): Promise<boolean>
    update(opts?: { wait?: boolean }): Promise<boolean>
    download(range?: {
      start?: number
      end?: number
      blocks?: number[]
      linear?: boolean
    }): Hypercore.Download
    info(opts?: { storage?: boolean }): Promise<Hypercore.Info>
    treeHash(length?: number): Promise<Buffer>
    truncate(newLength?: number): Promise<void>
    replicate(isInitiator: boolean | unknown, opts?: unknown): unknown
    setUserData(key: string, value: Buffer | string | null): Promise<void>
    getUserData(key: string): Promise<Buffer | null>
    findingPeers(): () => void

    on(
      event: 'append' | 'ready' | 'close' | 'peer-add' | 'peer-remove',
      listener: (...args: unknown[]) => void
    ): this
    on(event: 'truncate', listener: (ancestors: number, forkId: number) => void): this
    /** A block arrived from a peer: its index and size in bytes. */
    on(event: 'download', listener: (index: number, byteLength: number, from: unknown) => void): this
    on(event: string, listener: (...args: unknown[]) => void): this
  }
  export = Hypercore
}
