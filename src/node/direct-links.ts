import type NoiseSecretStream from '@hyperswarm/secret-stream'
import { isConclaveError } from '../kernel/errors.js'
import { Resource } from '../kernel/lifecycle.js'
import { type Logger, silentLogger } from '../kernel/log.js'
import {
  type DirectConnectionInfo,
  DirectTransport,
  type DirectTransportOptions,
  formatHostPort,
  type HostPort,
  parseHostPort
} from './direct.js'

/** The first redial of an address that failed waits this long; each further failure doubles it. */
export const DIRECT_RETRY_MS = 5_000
/** The longest wait between two dials of an address that keeps failing. */
export const DIRECT_RETRY_MAX_MS = 60_000

export interface DirectLinksOptions {
  keyPair: DirectTransportOptions['keyPair']
  isAllowed: DirectTransportOptions['isAllowed']
  /** Every connection both ends accepted, incoming or dialled (e.g. `replicator.add`). */
  onStream: (stream: NoiseSecretStream, info: DirectConnectionInfo) => void
  socks5?: HostPort | null
  log?: Logger
  /** Monotonic enough for backoff; injectable for tests. */
  now?: () => number
}

/** What the node knows of its direct link to one peer. */
export interface DirectPeerState {
  /** Open direct streams to it, either direction. */
  connections: number
  /** Whether a dial to it is in flight. */
  dialling: boolean
  /** The address of the last dial, and when it started. */
  lastDial: { address: string; at: number } | null
  /** `CODE: message` of the last failed dial, cleared by a connection. */
  lastError: string | null
}

interface PeerLink {
  streams: Set<NoiseSecretStream>
  dialling: boolean
  lastAddress: string | null
  lastAt: number
  failures: number
  lastError: string | null
}

/**
 * The node's side of the direct transport: listens, and keeps at most one
 * dial in flight per peer key, with a backoff per address (a new address is
 * dialled at once). Which peers to dial and where is the caller's: it calls
 * `dial(key, address)` for every peer it wants and has an address for, as
 * often as it likes.
 */
export class DirectLinks extends Resource {
  readonly transport: DirectTransport
  readonly #opts: DirectLinksOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #peers = new Map<string, PeerLink>()

  constructor(opts: DirectLinksOptions) {
    super()
    this.#opts = opts
    this.#log = opts.log ?? silentLogger
    this.#now = opts.now ?? Date.now
    this.transport = new DirectTransport({
      keyPair: opts.keyPair,
      isAllowed: opts.isAllowed,
      ...(opts.socks5 ? { socks5: opts.socks5 } : {}),
      log: this.#log,
      onConnection: (stream, info) => this.#onStream(stream, info)
    })
  }

  /** Where the transport listens (`host:port`), or null. */
  get listenAddress(): string | null {
    const a = this.transport.address
    return a ? formatHostPort(a) : null
  }

  get socks5(): string | null {
    return this.#opts.socks5 ? formatHostPort(this.#opts.socks5) : null
  }

  protected override async _open(): Promise<void> {
    await this.transport.ready()
  }

  protected override async _close(): Promise<void> {
    await this.transport.close()
    this.#peers.clear()
  }

  /**
   * Listens on `host:port`; with `preferred` set (and `port` 0) tries that
   * port first and falls back to any free one if it is taken.
   */
  async listen(port: number, host: string, preferred: number | null = null): Promise<HostPort> {
    if (port === 0 && preferred !== null && preferred > 0) {
      try {
        return await this.transport.listen(preferred, host)
      } catch (err) {
        if (!isConclaveError(err, 'NODE_LISTEN_FAILED')) throw err
        this.#log.info('direct: the port of the last run is taken; listening on another', {
          port: preferred
        })
      }
    }
    return this.transport.listen(port, host)
  }

  /** Whether a direct stream to `key` (hex) is open. */
  connected(key: string): boolean {
    return (this.#peers.get(key)?.streams.size ?? 0) > 0
  }

  /** The open direct streams, with their remote key (hex). */
  streams(): Array<{ key: string; stream: NoiseSecretStream }> {
    const out: Array<{ key: string; stream: NoiseSecretStream }> = []
    for (const [key, p] of this.#peers) for (const stream of p.streams) out.push({ key, stream })
    return out
  }

  state(key: string): DirectPeerState {
    const p = this.#peers.get(key)
    if (!p) return { connections: 0, dialling: false, lastDial: null, lastError: null }
    return {
      connections: p.streams.size,
      dialling: p.dialling,
      lastDial: p.lastAddress === null ? null : { address: p.lastAddress, at: p.lastAt },
      lastError: p.lastError
    }
  }

  /**
   * Dials `key` at `address` unless a direct stream to it is open, a dial to
   * it is in flight, or this address failed lately (backoff, unless `force`). Returns
   * whether a dial started. Never throws: failures are logged and kept in
   * `state(key).lastError`.
   */
  dial(key: string, address: string, force = false): boolean {
    if (this.closing || !this.opened) return false
    const p = this.#peer(key)
    if (p.streams.size > 0 || p.dialling) return false
    const now = this.#now()
    // `force` (inside a port window) skips the backoff: the peer's port is open now
    if (!force && p.lastAddress === address && p.failures > 0) {
      const wait = Math.min(DIRECT_RETRY_MS * 2 ** (p.failures - 1), DIRECT_RETRY_MAX_MS)
      if (now - p.lastAt < wait) return false
    }
    if (p.lastAddress !== address) p.failures = 0
    let target: HostPort
    try {
      target = parseHostPort(address)
    } catch (err) {
      this.#failed(p, address, now, err)
      return false
    }
    p.dialling = true
    p.lastAddress = address
    p.lastAt = now
    this.transport
      .dial({ ...target, publicKey: Buffer.from(key, 'hex') })
      .then(
        () => {
          p.failures = 0
          p.lastError = null
        },
        (err: unknown) => this.#failed(p, address, now, err)
      )
      .finally(() => {
        p.dialling = false
      })
    return true
  }

  /** Drops the link state of keys no longer wanted (their streams are the caller's to judge). */
  forget(keep: Set<string>): void {
    for (const [key, p] of this.#peers) if (!keep.has(key) && p.streams.size === 0) this.#peers.delete(key)
  }

  #failed(p: PeerLink, address: string, at: number, err: unknown): void {
    p.lastAddress = address
    p.lastAt = at
    p.failures++
    const code = (err as { code?: unknown }).code
    const text = `${typeof code === 'string' ? code : 'NODE_DIAL_FAILED'}: ${(err as Error).message}`
    // say it once per distinct cause, not at every retry
    if (text !== p.lastError) {
      const level = code === 'NODE_SOCKS_FAILED' || code === 'NODE_PEER_KEY_MISMATCH' ? 'warn' : 'debug'
      this.#log[level]('direct: dial failed', { address, err: err as Error })
    }
    p.lastError = text
  }

  #peer(key: string): PeerLink {
    let p = this.#peers.get(key)
    if (!p) {
      p = { streams: new Set(), dialling: false, lastAddress: null, lastAt: 0, failures: 0, lastError: null }
      this.#peers.set(key, p)
    }
    return p
  }

  #onStream(stream: NoiseSecretStream, info: DirectConnectionInfo): void {
    const key = info.remotePublicKey.toString('hex')
    const p = this.#peer(key)
    p.streams.add(stream)
    p.lastError = null
    stream.once('close', () => p.streams.delete(stream))
    this.#opts.onStream(stream, info)
  }
}
