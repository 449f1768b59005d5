declare module 'protomux' {
  import type { Encoding } from 'compact-encoding'

  namespace Protomux {
    interface MessageOptions<T> {
      encoding?: Encoding<T>
      onmessage?: (message: T, channel: Channel) => void | Promise<void>
    }
    interface Message<T> {
      send(message: T): boolean
    }
    interface ChannelOptions<H = unknown> {
      protocol: string
      id?: Buffer | null
      unique?: boolean
      handshake?: Encoding<H> | null
      messages?: MessageOptions<never>[]
      onopen?: (handshake: H, channel: Channel) => void | Promise<void>
      onclose?: (isRemote: boolean, channel: Channel) => void | Promise<void>
      ondestroy?: (channel: Channel) => void | Promise<void>
    }
    interface Channel {
      readonly protocol: string
      readonly id: Buffer | null
      readonly opened: boolean
      readonly closed: boolean
      userData: unknown
      open(handshake?: unknown): void
      close(): void
      addMessage<T>(opts: MessageOptions<T>): Message<T>
      cork(): void
      uncork(): void
    }
  }

  class Protomux {
    constructor(stream: unknown, opts?: unknown)
    static from(stream: unknown, opts?: unknown): Protomux
    static isProtomux(value: unknown): value is Protomux
    readonly stream: unknown
    createChannel<H = unknown>(opts: Protomux.ChannelOptions<H>): Protomux.Channel | null
    opened(opts: { protocol: string; id?: Buffer | null }): boolean
    pair(opts: { protocol: string; id?: Buffer | null }, notify: (id: Buffer | null) => void): void
    unpair(opts: { protocol: string; id?: Buffer | null }): void
    cork(): void
    uncork(): void
    destroy(err?: Error): void
  }
  export = Protomux
}
