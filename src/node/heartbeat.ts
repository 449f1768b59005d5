import { isIPv4, isIPv6 } from 'node:net'
import { performance } from 'node:perf_hooks'
import c from 'compact-encoding'
import Protomux from 'protomux'
import { z } from 'zod'
import { isAddress, MAX_ADDRESS_CHARS } from '../kernel/address.js'
import { hex } from '../kernel/encoding.js'
import { KernelErrors } from '../kernel/errors.js'
import { Resource } from '../kernel/lifecycle.js'
import { type Logger, silentLogger } from '../kernel/log.js'

/** The protomux protocol name; one channel per connection (docs/heartbeat.md). */
export const HEARTBEAT_PROTOCOL = 'conclave/heartbeat/v1'
export { isAddress, MAX_ADDRESS_CHARS }

/** A message longer than this is dropped unread. */
export const MAX_MESSAGE_BYTES = 512
export const MAX_DEVICE_ID_CHARS = 128
/** Pings awaiting their pong; older ones are forgotten (their pong then counts as unsolicited). */
const MAX_PENDING = 16
/**
 * A sample whose wall-clock round trip differs from the monotonic one by more
 * than this saw the local clock step; its offset is not trusted.
 */
const CLOCK_STEP_MS = 1000

// --- wire messages -----------------------------------------------------------

export interface Ping {
  seq: number
  /** Sender's wall clock at send, integer ms since the Unix epoch. */
  t0: number
}

export interface Pong {
  seq: number
  /** `t0` of the ping, echoed. */
  t0: number
  /** Responder's wall clock when the ping arrived. */
  t1: number
  /** The pinger's address as the responder's socket sees it (`host:port`), or '' when unknown. */
  seen: string
}

export interface AddressAnnouncement {
  deviceId?: string
  /** `host:port` */
  address: string
  /** Sender's wall clock when its address changed, integer ms since the Unix epoch. */
  at: number
}

function safeUint(state: c.State): number {
  const n = c.uint.decode(state)
  if (!Number.isSafeInteger(n)) throw new RangeError('integer out of range')
  return n
}

function boundedString(state: c.State, max: number): string {
  const s = c.string.decode(state)
  if (s.length > max) throw new RangeError('string too long')
  return s
}

export const pingEncoding: c.Encoding<Ping> = {
  preencode(state, m) {
    c.uint.preencode(state, m.seq)
    c.uint.preencode(state, m.t0)
  },
  encode(state, m) {
    c.uint.encode(state, m.seq)
    c.uint.encode(state, m.t0)
  },
  decode(state) {
    return { seq: safeUint(state), t0: safeUint(state) }
  }
}

export const pongEncoding: c.Encoding<Pong> = {
  preencode(state, m) {
    c.uint.preencode(state, m.seq)
    c.uint.preencode(state, m.t0)
    c.uint.preencode(state, m.t1)
    c.string.preencode(state, m.seen)
  },
  encode(state, m) {
    c.uint.encode(state, m.seq)
    c.uint.encode(state, m.t0)
    c.uint.encode(state, m.t1)
    c.string.encode(state, m.seen)
  },
  decode(state) {
    const m = { seq: safeUint(state), t0: safeUint(state), t1: safeUint(state), seen: '' }
    m.seen = boundedString(state, MAX_ADDRESS_CHARS)
    if (m.seen !== '' && !isAddress(m.seen)) throw new RangeError('malformed address')
    return m
  }
}

const HAS_DEVICE_ID = 1

export const addressEncoding: c.Encoding<AddressAnnouncement> = {
  preencode(state, m) {
    c.uint.preencode(state, m.deviceId === undefined ? 0 : HAS_DEVICE_ID)
    if (m.deviceId !== undefined) c.string.preencode(state, m.deviceId)
    c.string.preencode(state, m.address)
    c.uint.preencode(state, m.at)
  },
  encode(state, m) {
    c.uint.encode(state, m.deviceId === undefined ? 0 : HAS_DEVICE_ID)
    if (m.deviceId !== undefined) c.string.encode(state, m.deviceId)
    c.string.encode(state, m.address)
    c.uint.encode(state, m.at)
  },
  decode(state) {
    const flags = safeUint(state)
    const deviceId = flags & HAS_DEVICE_ID ? boundedString(state, MAX_DEVICE_ID_CHARS) : undefined
    if (deviceId !== undefined && !isDeviceId(deviceId)) throw new RangeError('malformed device id')
    const address = boundedString(state, MAX_ADDRESS_CHARS)
    if (!isAddress(address)) throw new RangeError('malformed address')
    const at = safeUint(state)
    return deviceId === undefined ? { address, at } : { deviceId, address, at }
  }
}

/**
 * Wraps an encoding for receiving: protomux destroys the whole connection
 * (replication included) when a decoder throws, so a malformed or oversized
 * message decodes to null instead and is counted by the handler. Trailing
 * bytes are ignored, so a later v1 may append fields.
 */
function lenient<T>(enc: c.Encoding<T>): c.Encoding<T | null> {
  return {
    preencode: (state, m) => enc.preencode(state, m as T),
    encode: (state, m) => enc.encode(state, m as T),
    decode(state) {
      const end = state.end
      try {
        if (end - state.start > MAX_MESSAGE_BYTES) return null
        return enc.decode(state)
      } catch {
        return null
      } finally {
        state.start = end
      }
    }
  }
}

function isDeviceId(s: string): boolean {
  return s.length >= 1 && /^[\x21-\x7e]+$/.test(s)
}

/** `host:port` from a socket's view of its remote end; IPv6 in brackets, IPv4-mapped IPv6 unwrapped. */
export function formatAddress(host: string, port: number): string {
  const h = host.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host
  return isIPv6(h) ? `[${h}]:${port}` : `${h}:${port}`
}

/**
 * The remote address of the transport under a connection: the UDX stream of
 * a Hyperswarm connection (`remoteHost`/`remotePort`), the TCP socket of a
 * direct one (`remoteAddress`/`remotePort`), or the stream itself when it is
 * a plain socket. A relayed connection reports the relay's address. Read at
 * every ping, since hyperdht may move a stream to another remote after a
 * holepunch.
 */
export function remoteAddressOf(stream: unknown): string | null {
  for (const s of [(stream as { rawStream?: unknown } | null)?.rawStream, stream]) {
    if (!s || typeof s !== 'object') continue
    const r = s as { remoteHost?: unknown; remoteAddress?: unknown; remotePort?: unknown }
    const host = typeof r.remoteHost === 'string' ? r.remoteHost : r.remoteAddress
    if (typeof host === 'string' && host !== '' && typeof r.remotePort === 'number' && r.remotePort > 0) {
      const a = formatAddress(host, r.remotePort)
      return isAddress(a) ? a : null
    }
  }
  return null
}

// --- the service ---------------------------------------------------------------

export const HeartbeatsOptionsSchema = z
  .object({
    /** Shortest gap between two pings to one peer. */
    minMs: z.number().int().positive().default(5000),
    /** Longest gap; each gap is uniform in [minMs, maxMs]. */
    maxMs: z.number().int().positive().default(15000),
    /** Samples kept per peer; the offset is that of the lowest-rtt one among them. */
    window: z.number().int().min(1).max(256).default(8),
    /** Sent with `announce()` so receivers can file the address under a device. */
    deviceId: z
      .string()
      .min(1)
      .max(MAX_DEVICE_ID_CHARS)
      .regex(/^[\x21-\x7e]+$/)
      .optional()
  })
  .strict()
  .refine((o) => o.minMs <= o.maxMs, { message: 'minMs must not exceed maxMs', path: ['minMs'] })
export type HeartbeatsOptions = z.input<typeof HeartbeatsOptionsSchema>

export interface HeartbeatsComponents {
  /** Wall clock in ms since the Unix epoch (default `Date.now`); tests skew it. */
  now?: () => number
  /** Uniform in [0, 1) (default `Math.random`); picks the ping gaps. */
  random?: () => number
  log?: Logger
}

/** What a heartbeat channel needs of a connection: a Noise stream (Hyperswarm's or a direct one). */
export interface HeartbeatStream {
  readonly remotePublicKey: Buffer | null
  once(event: 'close', listener: () => void): unknown
  off(event: 'close', listener: () => void): unknown
}

export interface ObservedEvent {
  /** Our address as `by` sees it. */
  address: string
  /** The remote Noise public key of the peer that reported it. */
  by: Buffer
}

export interface AddressEvent {
  from: Buffer
  deviceId?: string
  address: string
  /** The sender's wall clock (correct with that peer's `offsetMs` to compare with ours). */
  at: number
}

export interface SampleEvent {
  publicKey: Buffer
  rttMs: number
  offsetMs: number | null
}

/**
 * Events of Heartbeats: 'observed' (a peer reports a new address for us),
 * 'address' (a peer announced its own address), 'sample' (a pong was
 * measured). A throwing listener is logged; it never reaches the mux.
 */
export interface HeartbeatsEvents {
  observed: [ObservedEvent]
  address: [AddressEvent]
  sample: [SampleEvent]
}

export interface PeerHeartbeatStats {
  publicKey: string
  /** Round trip of the last pong (monotonic clock), or null before the first. */
  rttMs: number | null
  /** How far the peer's wall clock is ahead of ours, from the lowest-rtt recent sample. */
  offsetMs: number | null
  /** Pongs measured since the channel opened. */
  samples: number
  /** Our wall clock when the peer last sent anything valid, or null. */
  lastSeen: number | null
  /** The address the peer reports for us. */
  observedAddress: string | null
  /** The peer's address as our socket sees it. */
  remoteAddress: string | null
  /** Messages from this peer that were dropped as malformed or unsolicited. */
  malformed: number
}

interface Sample {
  rttMs: number
  offsetMs: number | null
}

interface Peer {
  readonly stream: HeartbeatStream
  readonly publicKey: Buffer
  readonly channel: Protomux.Channel
  readonly ping: Protomux.Message<Ping | null>
  readonly pong: Protomux.Message<Pong | null>
  readonly address: Protomux.Message<AddressAnnouncement | null>
  open: boolean
  timer: NodeJS.Timeout | null
  seq: number
  pending: Map<number, { t0: number; sentAt: number }>
  samples: Sample[]
  count: number
  lastRtt: number | null
  lastSeen: number | null
  reported: string | null
  reportedAt: number
  malformed: number
}

/** An attached stream, and the channel on it while there is one. */
interface Attachment {
  readonly stream: HeartbeatStream
  readonly publicKey: Buffer
  readonly mux: Protomux
  readonly onClose: () => void
  peer: Peer | null
}

/**
 * Heartbeats on every connection it is given: pings at random intervals
 * measure the round trip and the clock offset (NTP style) and learn the
 * address each peer sees for us; `announce()` pushes our own address to all
 * peers at once. Holds no cluster logic: who may connect, and what to do with
 * addresses and offsets, is the caller's. The channel shares the connection's
 * Protomux with replication. Nothing to open: `attach()` works at once;
 * `close()` stops every timer and closes every channel.
 */
export class Heartbeats extends Resource {
  readonly #opts: z.output<typeof HeartbeatsOptionsSchema>
  readonly #now: () => number
  readonly #random: () => number
  readonly #log: Logger
  readonly #attached = new Map<HeartbeatStream, Attachment>()
  #announced: AddressAnnouncement | null = null
  #lastObserved: string | null = null
  #malformed = 0

  constructor(opts: HeartbeatsOptions = {}, components: HeartbeatsComponents = {}) {
    super()
    const r = HeartbeatsOptionsSchema.safeParse(opts)
    if (!r.success) {
      const issue = r.error.issues[0]
      throw KernelErrors.CONFIG_INVALID(
        `heartbeats.${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`,
        { data: { issues: r.error.issues } }
      )
    }
    this.#opts = r.data
    this.#now = components.now ?? Date.now
    this.#random = components.random ?? Math.random
    this.#log = components.log ?? silentLogger
  }

  /** Messages dropped as malformed or unsolicited, over all peers. */
  get malformed(): number {
    return this.#malformed
  }

  /**
   * Opens the heartbeat channel on `stream`. Returns false when closing, when
   * the stream has no remote key yet, or when it is already attached.
   * Pinging starts once the remote side opens the channel too, whichever
   * side attaches first: a remote that rejected our open (it had not
   * attached yet) is answered when it opens the channel later, and so is one
   * that detached and attached again. The stream stays attached until
   * `detach()`, its close, or `close()`.
   */
  attach(stream: HeartbeatStream): boolean {
    if (this.closing || this.#attached.has(stream) || !stream.remotePublicKey) return false
    const a: Attachment = {
      stream,
      publicKey: stream.remotePublicKey,
      mux: Protomux.from(stream),
      onClose: () => this.detach(stream),
      peer: null
    }
    this.#attached.set(stream, a)
    stream.once('close', a.onClose)
    a.mux.pair({ protocol: HEARTBEAT_PROTOCOL }, () => this.#guard(() => this.#openChannel(a)))
    this.#openChannel(a)
    return true
  }

  /** Stops heartbeats on `stream` and closes its channel; the connection itself stays. */
  detach(stream: HeartbeatStream): void {
    const a = this.#attached.get(stream)
    if (!a) return
    this.#attached.delete(stream)
    stream.off('close', a.onClose)
    a.mux.unpair({ protocol: HEARTBEAT_PROTOCOL })
    const peer = a.peer
    if (peer) {
      this.#stop(a, peer)
      if (!peer.channel.closed) peer.channel.close()
    }
  }

  /**
   * Tells every connected peer our new address at once (and every peer that
   * connects later, on open). Returns how many peers it was sent to.
   * Throws CONFIG_INVALID when `address` is not a well-formed `host:port`.
   */
  announce(address: string): number {
    this.assertOpen()
    if (!isAddress(address)) throw KernelErrors.CONFIG_INVALID(`not a host:port address: ${address}`)
    const m: AddressAnnouncement = { address, at: this.#wallClock() }
    if (this.#opts.deviceId !== undefined) m.deviceId = this.#opts.deviceId
    this.#announced = m
    let sent = 0
    for (const peer of this.#openPeers()) if (peer.address.send(m)) sent++
    return sent
  }

  /**
   * Our address as peers see it: the one most connected peers report (ties go
   * to the most recent report), else the last one known.
   */
  observedAddress(): string | null {
    const votes = new Map<string, { n: number; at: number }>()
    for (const p of this.#openPeers()) {
      if (p.reported === null) continue
      const v = votes.get(p.reported) ?? { n: 0, at: 0 }
      v.n++
      v.at = Math.max(v.at, p.reportedAt)
      votes.set(p.reported, v)
    }
    let best: string | null = null
    let top = { n: 0, at: 0 }
    for (const [a, v] of votes) {
      if (v.n > top.n || (v.n === top.n && v.at > top.at)) {
        best = a
        top = v
      }
    }
    if (best !== null) this.#lastObserved = best
    return this.#lastObserved
  }

  /** One entry per connection whose channel is open (both sides attached). */
  stats(): PeerHeartbeatStats[] {
    return this.#openPeers().map((p) => ({
      publicKey: hex(p.publicKey),
      rttMs: p.lastRtt,
      offsetMs: robustOffset(p.samples),
      samples: p.count,
      lastSeen: p.lastSeen,
      observedAddress: p.reported,
      remoteAddress: remoteAddressOf(p.stream),
      malformed: p.malformed
    }))
  }

  protected override async _close(): Promise<void> {
    for (const stream of [...this.#attached.keys()]) this.detach(stream)
  }

  #openPeers(): Peer[] {
    const out: Peer[] = []
    for (const a of this.#attached.values()) if (a.peer?.open) out.push(a.peer)
    return out
  }

  #openChannel(a: Attachment): void {
    if (a.peer || this.closing || this.#attached.get(a.stream) !== a) return
    const channel = a.mux.createChannel({
      protocol: HEARTBEAT_PROTOCOL,
      onopen: () => this.#guard(() => this.#onOpen(peer)),
      onclose: () => this.#stop(a, peer)
    })
    if (!channel) return // another Heartbeats holds this protocol on the connection
    const peer: Peer = {
      stream: a.stream,
      publicKey: a.publicKey,
      channel,
      ping: channel.addMessage({
        encoding: lenient(pingEncoding),
        onmessage: (m) => this.#guard(() => this.#onPing(peer, m))
      }),
      pong: channel.addMessage({
        encoding: lenient(pongEncoding),
        onmessage: (m) => this.#guard(() => this.#onPong(peer, m))
      }),
      address: channel.addMessage({
        encoding: lenient(addressEncoding),
        onmessage: (m) => this.#guard(() => this.#onAddress(peer, m))
      }),
      open: false,
      timer: null,
      seq: 0,
      pending: new Map(),
      samples: [],
      count: 0,
      lastRtt: null,
      lastSeen: null,
      reported: null,
      reportedAt: 0,
      malformed: 0
    }
    a.peer = peer
    channel.open()
  }

  /** The channel closed (either side) or the stream went: stop its timer; stay paired for a reopen. */
  #stop(a: Attachment, peer: Peer): void {
    peer.open = false
    if (peer.timer) clearTimeout(peer.timer)
    peer.timer = null
    peer.pending.clear()
    if (a.peer === peer) a.peer = null
  }

  #onOpen(peer: Peer): void {
    if (this.closing || this.#attached.get(peer.stream)?.peer !== peer) return
    peer.open = true
    if (this.#announced) peer.address.send(this.#announced)
    this.#sendPing(peer)
  }

  #schedule(peer: Peer): void {
    const { minMs, maxMs } = this.#opts
    const delay = minMs + Math.floor(this.#random() * (maxMs - minMs + 1))
    peer.timer = setTimeout(() => this.#guard(() => this.#sendPing(peer)), delay)
    peer.timer.unref()
  }

  #sendPing(peer: Peer): void {
    peer.timer = null
    if (!peer.open || this.closing) return
    const seq = peer.seq
    peer.seq = (peer.seq + 1) % 0x100000000
    const t0 = this.#wallClock()
    peer.pending.set(seq, { t0, sentAt: performance.now() })
    if (peer.pending.size > MAX_PENDING) peer.pending.delete(peer.pending.keys().next().value!)
    peer.ping.send({ seq, t0 })
    this.#schedule(peer)
  }

  #onPing(peer: Peer, m: Ping | null): void {
    if (!this.#accept(peer, m, 'ping')) return
    const seen = remoteAddressOf(peer.stream) ?? ''
    peer.pong.send({ seq: m.seq, t0: m.t0, t1: this.#wallClock(), seen })
  }

  #onPong(peer: Peer, m: Pong | null): void {
    if (m) {
      const sent = peer.pending.get(m.seq)
      if (!sent || sent.t0 !== m.t0) m = null // unsolicited, or not the ping we sent
    }
    if (!this.#accept(peer, m, 'pong')) return
    const t2 = this.#wallClock()
    const sent = peer.pending.get(m.seq)!
    peer.pending.delete(m.seq)
    const rttMs = Math.max(performance.now() - sent.sentAt, 0)
    // NTP: the peer read t1 half a round trip after t0, by our clock
    const offsetMs = Math.abs(t2 - m.t0 - rttMs) > CLOCK_STEP_MS ? null : m.t1 - (m.t0 + t2) / 2
    peer.lastRtt = rttMs
    peer.count++
    peer.samples.push({ rttMs, offsetMs })
    if (peer.samples.length > this.#opts.window) peer.samples.shift()
    this.#emit('sample', { publicKey: peer.publicKey, rttMs, offsetMs: robustOffset(peer.samples) })
    if (m.seen !== '' && m.seen !== peer.reported) {
      peer.reported = m.seen
      peer.reportedAt = t2
      this.#emit('observed', { address: m.seen, by: peer.publicKey })
    } else if (m.seen !== '') peer.reportedAt = t2
  }

  #onAddress(peer: Peer, m: AddressAnnouncement | null): void {
    if (!this.#accept(peer, m, 'address')) return
    const e: AddressEvent = { from: peer.publicKey, address: m.address, at: m.at }
    if (m.deviceId !== undefined) e.deviceId = m.deviceId
    this.#emit('address', e)
  }

  /** Counts a dropped message, or marks the peer seen; true when `m` is to be handled. */
  #accept<T>(peer: Peer, m: T | null, type: string): m is T {
    if (!peer.open) return false
    if (m === null) {
      peer.malformed++
      this.#malformed++
      this.#log.debug('heartbeat message dropped', { type, peer: hex(peer.publicKey) })
      return false
    }
    peer.lastSeen = this.#wallClock()
    return true
  }

  #wallClock(): number {
    const t = Math.round(this.#now())
    return Number.isSafeInteger(t) && t > 0 ? t : 0
  }

  #emit<K extends keyof HeartbeatsEvents>(event: K, ...args: HeartbeatsEvents[K]): void {
    try {
      this.emit(event, ...args)
    } catch (err) {
      this.#log.warn('heartbeat listener threw', { event, err: err as Error })
    }
  }

  /** Protomux destroys the connection when a handler throws; nothing here may. */
  #guard(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.#log.warn('heartbeat handler failed', { err: err as Error })
    }
  }
}

function robustOffset(samples: Sample[]): number | null {
  let best: Sample | null = null
  for (const s of samples) if (s.offsetMs !== null && (!best || s.rttMs < best.rttMs)) best = s
  return best ? best.offsetMs : null
}
