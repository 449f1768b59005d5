declare module 'autobase' {
  import { EventEmitter } from 'node:events'
  import type { Encoding, EncodingName } from 'compact-encoding'
  import type Corestore from 'corestore'
  import type Hypercore from 'hypercore'

  namespace Autobase {
    /** One linearized node as handed to `apply`. Ack nodes (value null) never reach apply. */
    interface ApplyNode<T = Buffer> {
      value: T
      /** The writer's local core; `from.key` is the author. */
      from: Hypercore<unknown>
      /** Writer length including this node (its index is `length - 1`). */
      length: number
      /** Whether the node was already indexed when applied. Not deterministic across peers: never store it in the view. */
      indexed: boolean
      optimistic: boolean
      heads: { key: Buffer; length: number }[]
    }

    /** The `host` argument of apply: the only legal way to change membership. */
    interface ApplyHost {
      readonly key: Buffer
      readonly discoveryKey: Buffer
      addWriter(key: Buffer, opts?: { indexer?: boolean }): Promise<void>
      /** Throws when `key` is the last indexer. */
      removeWriter(key: Buffer): Promise<void>
      removeable(key: Buffer): boolean
      ackWriter(key: Buffer): Promise<void>
      interrupt(reason?: unknown): never
    }

    /** The store passed to `open`: views are named cores owned by the base. */
    interface ViewStore {
      get(
        name: string | { name: string; valueEncoding?: Encoding<unknown> | EncodingName }
      ): Hypercore<Buffer>
    }

    /**
     * Wraps the block-encryption key before autobase stores it in its local
     * core (user data `autobase/blind-encryption`); without it the key is
     * stored in plain text (`autobase/encryption`).
     */
    interface BlindEncryption {
      encrypt(value: Buffer): Promise<{ type: number; value: Buffer }>
      decrypt(data: { type: number; value: Buffer }): Promise<{ value: Buffer; rotated: boolean }>
    }

    interface Handlers<V, T = Buffer> {
      open?: (store: ViewStore, host: ApplyHost) => V
      apply?: (nodes: ApplyNode<T>[], view: V, host: ApplyHost) => Promise<void>
      close?: (view: V) => Promise<void> | void
      valueEncoding?: Encoding<T> | EncodingName
      /** Milliseconds between background acks; default 10 000. */
      ackInterval?: number
      ackThreshold?: number
      /** 32 bytes; hypercore block encryption for the local writer, system and views. */
      encryptionKey?: Buffer | Promise<Buffer> | null
      encrypt?: boolean
      encrypted?: boolean
      blindEncryption?: BlindEncryption | null
      /** Key pair of the local writer core (and, with no bootstrap key, of the base). */
      keyPair?: Hypercore.KeyPair | Promise<Hypercore.KeyPair> | null
      optimistic?: boolean
      fastForward?: boolean | { key: Buffer }
      bigBatches?: boolean
    }
  }

  class Autobase<V = unknown, T = Buffer> extends EventEmitter {
    constructor(store: Corestore, bootstrap: Buffer | string | null, handlers: Autobase.Handlers<V, T>)

    static getLocalCore(
      store: Corestore,
      handlers?: unknown,
      encryptionKey?: Buffer | null
    ): Hypercore<Buffer>
    static isAutobase(core: Hypercore<unknown>, opts?: unknown): Promise<boolean>

    /** Key of the bootstrap core; equals the creator's local writer key. */
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly id: string
    readonly view: V
    /** The local writer core. */
    readonly local: Hypercore<unknown>
    /** The writers autobase has open (the local one included, writer or not). */
    readonly activeWriters: Iterable<{ core: Hypercore<unknown> }>
    /**
     * Internal: a session of a writer core (the local one included) with
     * autobase's writer encryption, blocks decoded as oplog messages whose
     * `node.value` is the appended value (null for an ack). Close it.
     */
    _makeWriterCore(key: Buffer): Hypercore<{ node: { value: Buffer | null } }>
    /** The system core (session over its tentative batch). */
    readonly core: Hypercore<unknown>
    readonly store: Corestore
    readonly encryptionKey: Buffer | null
    /** Also briefly true while the local writer's indexer add is still pending. */
    readonly isIndexer: boolean
    /** The local writer is an active indexer (may ack). */
    readonly ackable: boolean
    readonly writable: boolean
    readonly opened: boolean
    readonly closed: boolean
    readonly closing: Promise<void> | null
    readonly interrupted: unknown
    readonly paused: boolean
    /** Length of the system core. */
    readonly length: number
    /** System core length signed by a quorum of indexers: the order up to here never changes. */
    readonly signedLength: number
    readonly indexedLength: number
    /** The system view (writer set); null before open. Used read-only. */
    readonly system: {
      /** The indexer set of the tentative system view: writer core keys and their acked lengths. */
      readonly indexers: ReadonlyArray<{ key: Buffer; length: number }>
      /** Every writer ever added (removed ones too). Not during apply. */
      list(): AsyncIterable<{
        key: Buffer
        value: { isIndexer: boolean; isRemoved: boolean; length: number }
      }>
      get(key: Buffer): Promise<{
        isIndexer: boolean
        isRemoved: boolean
        length: number
      } | null>
    } | null

    ready(): Promise<void>
    close(): Promise<void>
    append(value: T | T[] | null, opts?: { optimistic?: boolean }): Promise<number>
    update(): Promise<void>
    ack(bg?: boolean): Promise<void>
    hash(): Promise<Buffer>
    heads(): unknown[]
    waitForWritable(): Promise<boolean>
    replicate(isInitiatorOrStream: boolean | unknown, opts?: unknown): Corestore.ReplicationStream
    /** Rotate the local writer to another core (e.g. a new writer epoch). */
    setLocal(key: Buffer | null, opts?: { keyPair?: Hypercore.KeyPair }): Promise<void>
    getLastError(): unknown
    readonly wakeupProtocol: { addStream(stream: unknown): void }

    on(
      event: 'update' | 'writable' | 'unwritable' | 'is-indexer' | 'is-non-indexer',
      listener: () => void
    ): this
    on(event: 'error' | 'warning', listener: (err: Error) => void): this
    on(event: 'interrupt', listener: (reason: unknown) => void): this
    on(event: string, listener: (...args: unknown[]) => void): this
    off(event: string, listener: (...args: unknown[]) => void): this
  }
  export = Autobase
}
