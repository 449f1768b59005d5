declare module 'corestore' {
  import { EventEmitter } from 'node:events'
  import type { Encoding, EncodingName } from 'compact-encoding'
  import type Hypercore from 'hypercore'

  namespace Corestore {
    interface Options {
      /** 32 bytes. Corestore refuses a chosen primary key unless `unsafe: true`. */
      primaryKey?: Buffer
      unsafe?: boolean
      readOnly?: boolean
      writable?: boolean
      /** hypercore-storage refuses a copied store folder unless this is set. */
      allowBackup?: boolean
      manifestVersion?: number
    }
    interface GetOptions {
      name?: string
      key?: Buffer | string
      keyPair?: Hypercore.KeyPair
      manifest?: Hypercore.Manifest
      discoveryKey?: Buffer
      valueEncoding?: Encoding<unknown> | EncodingName
      encryption?: { key: Buffer; block?: boolean } | null
      encryptionKey?: Buffer | null
      exclusive?: boolean
      active?: boolean
      writable?: boolean
      wait?: boolean
      timeout?: number
      createIfMissing?: boolean
    }
    interface ReplicationStream extends EventEmitter {
      readonly noiseStream: {
        userData: unknown
        remotePublicKey: Buffer | null
      }
      destroy(err?: Error): void
      pipe<T>(dest: T): T
    }
  }

  class Corestore extends EventEmitter {
    constructor(storage: string, opts?: Corestore.Options)
    /** The namespace of this session (32 bytes); sessions of one root share storage. */
    readonly ns: Buffer
    /** The root store of a session or namespace; null on the root itself. */
    readonly root: Corestore | null
    readonly primaryKey: Buffer | null
    readonly manifestVersion: number
    readonly opened: boolean
    readonly closed: boolean
    readonly closing: Promise<void> | null

    ready(): Promise<void>
    close(): Promise<void>
    namespace(name: string | Buffer, opts?: Corestore.Options): Corestore
    session(opts?: Corestore.Options & { namespace?: Buffer }): Corestore
    get<T = Buffer>(opts: Corestore.GetOptions | Buffer | string): Hypercore<T>
    /** Accepts a Hyperswarm connection (a NoiseSecretStream) or a boolean initiator flag. */
    replicate(isInitiatorOrStream: boolean | unknown, opts?: unknown): Corestore.ReplicationStream
    createKeyPair(name: string, ns?: Buffer): Promise<Hypercore.KeyPair>
    /** Stream of discovery keys stored (optionally under one namespace). */
    list(namespace?: Buffer): AsyncIterable<Buffer>
  }

  export = Corestore
}
