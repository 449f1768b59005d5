declare module 'compact-encoding' {
  namespace c {
    interface State {
      start: number
      end: number
      buffer: Buffer | null
    }
    interface Encoding<T> {
      preencode(state: State, value: T): void
      encode(state: State, value: T): void
      decode(state: State): T
    }
    type EncodingName = 'binary' | 'utf-8' | 'utf8' | 'json' | 'ndjson' | 'ascii' | 'hex' | 'base64'

    function state(start?: number, end?: number, buffer?: Buffer | null): State
    function encode<T>(enc: Encoding<T>, value: T): Buffer
    function decode<T>(enc: Encoding<T>, buffer: Uint8Array): T
    function from<T = unknown>(enc: Encoding<T> | EncodingName): Encoding<T>
    function array<T>(enc: Encoding<T>): Encoding<T[]>
    function frame<T>(enc: Encoding<T>): Encoding<T>

    const uint: Encoding<number>
    const uint8: Encoding<number>
    const uint16: Encoding<number>
    const uint32: Encoding<number>
    const uint64: Encoding<number>
    const int: Encoding<number>
    const bool: Encoding<boolean>
    const buffer: Encoding<Buffer | null>
    const binary: Encoding<Buffer | string>
    const raw: Encoding<Buffer>
    const string: Encoding<string>
    const utf8: Encoding<string>
    const json: Encoding<unknown>
    const fixed32: Encoding<Buffer>
    const fixed64: Encoding<Buffer>
    const none: Encoding<null>
  }
  export = c
}
