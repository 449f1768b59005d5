declare module 'hyperbee' {
  import type { Encoding, EncodingName } from 'compact-encoding'
  import type Hypercore from 'hypercore'

  namespace Hyperbee {
    type Codec<T> = Encoding<T> | EncodingName
    interface Options<K, V> {
      keyEncoding?: Codec<K>
      valueEncoding?: Codec<V>
      /** Keep false: the extension lets peers ask us to prefetch blocks. */
      extension?: false
      readonly?: boolean
      metadata?: unknown
    }
    interface Entry<K, V> {
      seq: number
      key: K
      value: V
    }
    interface Range<K> {
      gt?: K
      gte?: K
      lt?: K
      lte?: K
      reverse?: boolean
      limit?: number
    }
    interface ReadOptions<K = unknown, V = unknown> {
      keyEncoding?: Codec<K>
      valueEncoding?: Codec<V>
      wait?: boolean
      update?: boolean
    }
    /** A write batch: puts and dels are buffered until `flush()`; `close()` drops them. */
    interface Batch<K, V> {
      readonly version: number
      get(key: K, opts?: ReadOptions): Promise<Entry<K, V> | null>
      put(
        key: K,
        value: V,
        opts?: {
          cas?: (prev: Entry<K, V> | null, next: Entry<K, V>) => boolean
          /** Per call: e.g. 'binary' to store bytes already encoded. */
          valueEncoding?: Codec<V>
        }
      ): Promise<void>
      del(key: K, opts?: { cas?: (prev: Entry<K, V>) => boolean }): Promise<void>
      createReadStream(range?: Range<K>, opts?: ReadOptions): AsyncIterable<Entry<K, V>>
      flush(): Promise<void>
      close(): Promise<void>
    }
  }

  class Hyperbee<K = Buffer, V = Buffer> {
    constructor(core: Hypercore<Buffer>, opts?: Hyperbee.Options<K, V>)
    readonly core: Hypercore<Buffer>
    readonly version: number
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly writable: boolean
    readonly opened: boolean
    readonly closed: boolean

    ready(): Promise<void>
    close(): Promise<void>
    update(opts?: { wait?: boolean }): Promise<boolean>
    get(key: K, opts?: Hyperbee.ReadOptions): Promise<Hyperbee.Entry<K, V> | null>
    put(
      key: K,
      value: V,
      opts?: {
        cas?: (prev: Hyperbee.Entry<K, V> | null, next: Hyperbee.Entry<K, V>) => boolean
      }
    ): Promise<void>
    del(key: K, opts?: { cas?: (prev: Hyperbee.Entry<K, V>) => boolean }): Promise<void>
    batch(opts?: Hyperbee.ReadOptions): Hyperbee.Batch<K, V>
    createReadStream(
      range?: Hyperbee.Range<K>,
      opts?: Hyperbee.ReadOptions
    ): AsyncIterable<Hyperbee.Entry<K, V>>
    createReadStream<K2, V2>(
      range: Hyperbee.Range<K> | undefined,
      opts: Hyperbee.ReadOptions<K2, V2> & {
        keyEncoding: Hyperbee.Codec<K2>
        valueEncoding: Hyperbee.Codec<V2>
      }
    ): AsyncIterable<Hyperbee.Entry<K2, V2>>
    peek(range?: Hyperbee.Range<K>, opts?: Hyperbee.ReadOptions): Promise<Hyperbee.Entry<K, V> | null>
    sub<K2 = K, V2 = V>(
      prefix: string | Buffer,
      opts?: Hyperbee.Options<K2, V2> & { sep?: Buffer }
    ): Hyperbee<K2, V2>
    /** A read-only view frozen at the current version (close it when done). */
    snapshot(): Hyperbee<K, V>
    checkout(version: number): Hyperbee<K, V>
    getHeader(opts?: Hyperbee.ReadOptions): Promise<unknown>
  }
  export = Hyperbee
}
