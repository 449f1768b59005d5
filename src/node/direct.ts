import net from 'node:net'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import { SocksClient } from 'socks'
import { type ConclaveError, isConclaveError, KernelErrors } from '../kernel/errors.js'
import { Resource } from '../kernel/lifecycle.js'
import { type Logger, silentLogger } from '../kernel/log.js'
import { NodeErrors } from './errors.js'

/** A TCP endpoint. `host` is an IPv4 literal, an IPv6 literal (no brackets) or a DNS/.onion name. */
export interface HostPort {
  readonly host: string
  readonly port: number
}

/** Where a device was last seen, and the Noise key it must prove it holds there. */
export interface DirectPeerAddress extends HostPort {
  readonly publicKey: Buffer
}

/** The remote end of a direct connection as the socket (or, for dials, the caller) names it. */
export interface DirectConnectionInfo extends HostPort {
  readonly initiator: boolean
  readonly remotePublicKey: Buffer
}

export interface DirectTransportOptions {
  /** The device's Ed25519 Noise key pair, the same one its Hyperswarm uses. */
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  /** The firewall: must be synchronous and cheap; a throw counts as a refusal. Asked on both ends. */
  isAllowed: (remotePublicKey: Buffer) => boolean
  /** Gets every connection both ends accepted, ready for `store.replicate(stream)`. */
  onConnection: (stream: NoiseSecretStream, info: DirectConnectionInfo) => void
  /** Dials go through this SOCKS5 proxy (e.g. Tor); peer names are resolved by the proxy, never here. */
  socks5?: HostPort
  /** Whole-dial budget: TCP (or SOCKS) connect, Noise handshake and preamble. Also bounds an incoming handshake. */
  connectTimeoutMs?: number
  /** Empty keep-alive frame interval; both ends must use the same transport (it filters empty frames). */
  keepAliveMs?: number
  /** An accepted connection with no bytes from the peer for this long is dropped (peers send keep-alives). */
  idleTimeoutMs?: number
  log?: Logger
}

export const DIRECT_CONNECT_TIMEOUT_MS = 10_000
export const DIRECT_SOCKS_CONNECT_TIMEOUT_MS = 30_000
export const DIRECT_KEEP_ALIVE_MS = 5_000

/**
 * Sent by each end, as its first encrypted frame, once its own checks of the
 * remote key passed. Neither end hands the stream to `onConnection` before it
 * read the other's: a dialer whose key the listener refuses sees the close and
 * never replicates, and a listener never replicates with a dialer that found
 * the wrong key at the address. After it the stream carries replication only.
 */
const PREAMBLE = Buffer.from('conclave/direct/1')

/**
 * The direct transport: plain TCP (optionally through a SOCKS5 proxy) wrapped
 * in Noise XX by `@hyperswarm/secret-stream`, with the device key on both
 * sides, so the resulting stream replicates a corestore exactly as a
 * Hyperswarm connection does. It knows nothing about clusters: the caller says
 * which keys are allowed and where to dial.
 */
export class DirectTransport extends Resource {
  readonly #opts: DirectTransportOptions
  readonly #log: Logger
  readonly #connectTimeoutMs: number
  readonly #keepAliveMs: number
  readonly #idleTimeoutMs: number
  readonly #streams = new Set<NoiseSecretStream>()
  readonly #attempts = new Set<Attempt>()
  readonly #sockets = new Set<net.Socket>()
  #server: net.Server | null = null

  constructor(opts: DirectTransportOptions) {
    super()
    if (opts.socks5) validateHostPort(opts.socks5.host, opts.socks5.port)
    this.#opts = opts
    this.#log = opts.log ?? silentLogger
    this.#connectTimeoutMs =
      opts.connectTimeoutMs ?? (opts.socks5 ? DIRECT_SOCKS_CONNECT_TIMEOUT_MS : DIRECT_CONNECT_TIMEOUT_MS)
    this.#keepAliveMs = opts.keepAliveMs ?? DIRECT_KEEP_ALIVE_MS
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? this.#keepAliveMs * 4
  }

  /** The connections both ends accepted and that are still open. */
  get streams(): ReadonlySet<NoiseSecretStream> {
    return this.#streams
  }

  /** The bound address while listening, else null. */
  get address(): HostPort | null {
    const a = this.#server?.address()
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : null
  }

  /** Accepts direct connections on `host:port` (port 0 picks a free one); resolves the bound address. */
  async listen(port = 0, host = '127.0.0.1'): Promise<HostPort> {
    await this.ready()
    if (this.#server)
      throw NodeErrors.NODE_LISTEN_FAILED(`already listening on ${formatHostPort(this.address!)}`)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw NodeErrors.NODE_ADDRESS_INVALID(`listen port ${String(port)} is not an integer 0-65535`)
    }
    if (!net.isIP(host))
      throw NodeErrors.NODE_ADDRESS_INVALID(`listen host ${show(host)} is not an IP literal`)
    const server = net.createServer({ noDelay: true }, (socket) => this.#onSocket(socket))
    this.#server = server
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      this.#server = null
      throw NodeErrors.NODE_LISTEN_FAILED(
        `cannot listen on ${formatHostPort({ host, port })}: ${(err as Error).message}`,
        { cause: err, data: { host, port } }
      )
    }
    server.on('error', (err) => this.#log.warn('direct: server error', { err }))
    const bound = this.address!
    this.#log.debug('direct: listening', { ...bound })
    return bound
  }

  /**
   * Dials a peer and resolves its stream once both ends accepted (it was
   * already given to `onConnection`). A peer lying about an address can make
   * us dial the wrong place, never accept a key other than `publicKey`.
   */
  async dial(peer: DirectPeerAddress): Promise<NoiseSecretStream> {
    await this.ready()
    const { host, port } = validateHostPort(peer.host, peer.port)
    const where = formatHostPort({ host, port })
    const expected = peer.publicKey
    if (!Buffer.isBuffer(expected) || expected.length !== 32) {
      throw NodeErrors.NODE_ADDRESS_INVALID(`the key expected at ${where} is not 32 bytes`)
    }
    if (!allowed(this.#opts.isAllowed, expected)) {
      throw NodeErrors.NODE_PEER_NOT_ALLOWED(
        `the firewall does not admit ${hex(expected)}; not dialing ${where}`,
        {
          data: { host, port, publicKey: hex(expected) }
        }
      )
    }
    const data = { host, port, publicKey: hex(expected) }
    const attempt = this.#attempt(() =>
      NodeErrors.NODE_DIAL_FAILED(`dialing ${where} timed out after ${this.#connectTimeoutMs} ms`, { data })
    )
    let socket: net.Socket | null = null
    let stream: NoiseSecretStream | null = null
    try {
      socket = this.#opts.socks5
        ? await this.#connectSocks(this.#opts.socks5, host, port, attempt)
        : await this.#connectTcp(host, port, attempt)
      stream = this.#wrap(true, socket, expected)
      await this.#handshake(stream, attempt, `Noise handshake with ${where} failed`, data)
      const remote = stream.remotePublicKey!
      if (!remote.equals(expected)) {
        throw NodeErrors.NODE_PEER_KEY_MISMATCH(
          `the peer at ${where} is ${hex(remote)}, not the expected ${hex(expected)}`,
          { data: { ...data, remotePublicKey: hex(remote) } }
        )
      }
      if (!allowed(this.#opts.isAllowed, remote)) {
        throw NodeErrors.NODE_PEER_NOT_ALLOWED(`the firewall no longer admits ${hex(remote)}`, { data })
      }
      stream.write(PREAMBLE)
      const first = await attempt.race(readFrame(stream))
      if (first === null) {
        throw NodeErrors.NODE_PEER_REFUSED(
          `the peer at ${where} closed the connection: it does not admit us`,
          {
            data
          }
        )
      }
      if (!first.equals(PREAMBLE)) {
        throw NodeErrors.NODE_DIAL_FAILED(`the peer at ${where} does not speak the direct transport`, {
          data
        })
      }
      this.#adopt(stream, { initiator: true, host, port, remotePublicKey: remote })
      return stream
    } catch (err) {
      if (stream) stream.destroy()
      else socket?.destroy()
      if (isConclaveError(err)) throw err
      throw NodeErrors.NODE_DIAL_FAILED(`dialing ${where} failed: ${(err as Error).message}`, {
        cause: err,
        data
      })
    } finally {
      attempt.done()
    }
  }

  protected override async _close(): Promise<void> {
    const closed = KernelErrors.KERNEL_CLOSED('the direct transport is closed')
    for (const attempt of this.#attempts) attempt.abort(closed)
    const server = this.#server
    const stopped = server ? new Promise<void>((resolve) => server.close(() => resolve())) : null
    const gone: Promise<void>[] = []
    for (const stream of this.#streams) {
      if (!stream.destroyed) gone.push(new Promise<void>((resolve) => stream.once('close', () => resolve())))
      stream.destroy()
    }
    for (const socket of this.#sockets) socket.destroy()
    await Promise.all(gone)
    await stopped
    this.#server = null
  }

  #onSocket(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy()
      return
    }
    const host = socket.remoteAddress ?? ''
    const port = socket.remotePort ?? 0
    const stream = this.#wrap(false, socket, null)
    const attempt = this.#attempt(() =>
      NodeErrors.NODE_DIAL_FAILED(`incoming handshake from ${formatHostPort({ host, port })} timed out`)
    )
    this.#accept(stream, host, port, attempt)
      .catch((err: unknown) => {
        stream.destroy()
        this.#log.debug('direct: incoming connection dropped', { host, port, err })
      })
      .finally(() => attempt.done())
  }

  async #accept(stream: NoiseSecretStream, host: string, port: number, attempt: Attempt): Promise<void> {
    await this.#handshake(stream, attempt, 'incoming Noise handshake failed', { host, port })
    const remote = stream.remotePublicKey!
    if (!allowed(this.#opts.isAllowed, remote)) {
      this.#log.info('direct: refused a key the firewall does not admit', {
        host,
        port,
        publicKey: hex(remote)
      })
      stream.destroy()
      return
    }
    stream.write(PREAMBLE)
    const first = await attempt.race(readFrame(stream))
    if (first === null || !first.equals(PREAMBLE)) {
      this.#log.debug('direct: the dialer left before the preamble', { host, port, publicKey: hex(remote) })
      stream.destroy()
      return
    }
    this.#adopt(stream, { initiator: false, host, port, remotePublicKey: remote })
  }

  #wrap(initiator: boolean, socket: net.Socket, remotePublicKey: Buffer | null): NoiseSecretStream {
    socket.setNoDelay(true)
    const stream = new NoiseSecretStream(initiator, socket, {
      keyPair: this.#opts.keyPair,
      keepAlive: this.#keepAliveMs,
      ...(remotePublicKey ? { remotePublicKey } : {})
    })
    // an unhandled 'error' would crash the process; resets are normal on a network
    stream.on('error', (err: unknown) => this.#log.debug('direct: stream error', { err }))
    return stream
  }

  async #handshake(
    stream: NoiseSecretStream,
    attempt: Attempt,
    message: string,
    data: Record<string, unknown>
  ): Promise<void> {
    let cause: unknown
    const onError = (err: unknown): void => {
      cause = err
    }
    stream.on('error', onError)
    try {
      if (!(await attempt.race(stream.opened)) || !stream.remotePublicKey) {
        throw NodeErrors.NODE_DIAL_FAILED(cause instanceof Error ? `${message}: ${cause.message}` : message, {
          cause,
          data
        })
      }
    } finally {
      stream.off('error', onError)
    }
  }

  #adopt(stream: NoiseSecretStream, info: DirectConnectionInfo): void {
    if (this.closing || stream.destroyed) {
      stream.destroy()
      throw KernelErrors.KERNEL_CLOSED('the direct transport is closed')
    }
    this.#streams.add(stream)
    stream.once('close', () => this.#streams.delete(stream))
    stream.setTimeout(this.#idleTimeoutMs)
    this.#log.debug('direct: connected', {
      initiator: info.initiator,
      host: info.host,
      port: info.port,
      publicKey: hex(info.remotePublicKey)
    })
    try {
      this.#opts.onConnection(stream, info)
    } catch (err) {
      this.#log.error('direct: onConnection threw; connection dropped', { err })
      stream.destroy()
    }
  }

  #attempt(onTimeout: () => ConclaveError): Attempt {
    const attempt = new Attempt(this.#connectTimeoutMs, onTimeout, () => this.#attempts.delete(attempt))
    this.#attempts.add(attempt)
    return attempt
  }

  /** A TCP socket, tracked until it is wrapped so close() can abort a dial in flight. */
  #track(socket: net.Socket): net.Socket {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    return socket
  }

  async #connectTcp(host: string, port: number, attempt: Attempt): Promise<net.Socket> {
    const socket = this.#track(net.connect({ host, port }))
    try {
      await attempt.race(connected(socket))
    } catch (err) {
      socket.destroy()
      if (isConclaveError(err)) throw err
      throw NodeErrors.NODE_DIAL_FAILED(
        `cannot reach ${formatHostPort({ host, port })}: ${(err as Error).message}`,
        { cause: err, data: { host, port } }
      )
    }
    this.#sockets.delete(socket)
    return socket
  }

  async #connectSocks(proxy: HostPort, host: string, port: number, attempt: Attempt): Promise<net.Socket> {
    const where = formatHostPort({ host, port })
    const via = formatHostPort(proxy)
    const data = { host, port, proxy: via }
    // our own socket to the proxy, so that a timeout or close() can abort the negotiation
    const socket = this.#track(net.connect({ host: proxy.host, port: proxy.port }))
    try {
      try {
        await attempt.race(connected(socket))
      } catch (err) {
        if (isConclaveError(err)) throw err
        throw NodeErrors.NODE_SOCKS_FAILED(`SOCKS5 proxy ${via} unreachable: ${(err as Error).message}`, {
          cause: err,
          data
        })
      }
      try {
        // destination.host goes to the proxy as given: a name (or .onion) is resolved there, not here
        await attempt.race(
          SocksClient.createConnection({
            proxy: { host: proxy.host, port: proxy.port, type: 5 },
            command: 'connect',
            destination: { host, port },
            existing_socket: socket,
            timeout: this.#connectTimeoutMs
          })
        )
      } catch (err) {
        if (isConclaveError(err)) throw err
        const reason = (err as Error).message
        const reply = / - (\w+)$/.exec(reason)?.[1]
        const what = reply
          ? `could not reach ${where} (reply ${reply})`
          : /authentication/i.test(reason)
            ? 'accepts none of our authentication methods (we offer only "no authentication")'
            : `failed while opening a tunnel to ${where}`
        throw NodeErrors.NODE_SOCKS_FAILED(`SOCKS5 proxy ${via} ${what}: ${reason}`, {
          cause: err,
          data: reply ? { ...data, reply } : data
        })
      }
    } catch (err) {
      socket.destroy()
      throw err
    }
    this.#sockets.delete(socket)
    return socket
  }
}

/** One dial or incoming handshake: a deadline, abortable by close(). */
class Attempt {
  readonly #timer: NodeJS.Timeout
  readonly #failed: Promise<never>
  readonly #onDone: () => void
  #reject: (err: unknown) => void = () => {}

  constructor(ms: number, onTimeout: () => ConclaveError, onDone: () => void) {
    this.#failed = new Promise<never>((_resolve, reject) => {
      this.#reject = reject
    })
    this.#failed.catch(() => {})
    this.#timer = setTimeout(() => this.#reject(onTimeout()), ms)
    this.#onDone = onDone
  }

  race<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#failed])
  }

  abort(err: unknown): void {
    this.#reject(err)
  }

  done(): void {
    clearTimeout(this.#timer)
    this.#onDone()
  }
}

function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      socket.off('error', onError)
      resolve()
    }
    const onError = (err: Error): void => {
      socket.off('connect', onConnect)
      reject(err)
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
  })
}

/** The next decrypted frame, leaving later ones buffered for the next reader; null if the stream ends first. */
function readFrame(stream: NoiseSecretStream): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const finish = (frame: Buffer | null): void => {
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.off('close', onEnd)
      resolve(frame)
    }
    const onReadable = (): void => {
      const frame = stream.read()
      if (frame !== null) finish(frame)
    }
    const onEnd = (): void => finish(null)
    stream.on('readable', onReadable)
    stream.on('end', onEnd)
    stream.on('close', onEnd)
    if (stream.destroyed) finish(null)
    else onReadable()
  })
}

function allowed(isAllowed: (key: Buffer) => boolean, key: Buffer): boolean {
  try {
    return isAllowed(key) === true
  } catch {
    return false
  }
}

function hex(key: Buffer): string {
  return key.toString('hex')
}

function show(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text)
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s)
}

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

/**
 * Whether `host` is an IPv4 literal, an IPv6 literal (no brackets) or a DNS
 * name (RFC 1123 labels; `.onion` names are DNS-shaped). A name whose last
 * label is all digits is refused: resolvers read `1.2.3` as an IPv4 address.
 */
export function isValidHost(host: string): boolean {
  if (typeof host !== 'string' || host.length === 0) return false
  if (net.isIP(host)) return true
  const name = host.endsWith('.') ? host.slice(0, -1) : host
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  if (!labels.every((l) => LABEL_RE.test(l))) return false
  return !/^\d+$/.test(labels[labels.length - 1]!)
}

/** Checks a host and port for dialing; throws NODE_ADDRESS_INVALID. */
export function validateHostPort(host: string, port: number): HostPort {
  if (!isValidHost(host)) {
    throw NodeErrors.NODE_ADDRESS_INVALID(
      `host ${show(host)} is not an IPv4 or IPv6 literal (without brackets) nor a DNS or .onion name`
    )
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw NodeErrors.NODE_ADDRESS_INVALID(`port ${show(port)} is not an integer 1-65535`)
  }
  return { host, port }
}

/** Parses `host:port`, `[ipv6]:port`, `name:port` or `xyz.onion:port`; throws NODE_ADDRESS_INVALID. */
export function parseHostPort(text: string): HostPort {
  if (typeof text !== 'string') throw NodeErrors.NODE_ADDRESS_INVALID('an address must be a string host:port')
  let host: string
  let portText: string
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end < 0 || text[end + 1] !== ':') {
      throw NodeErrors.NODE_ADDRESS_INVALID(`address ${show(text)} is not [ipv6]:port`)
    }
    host = text.slice(1, end)
    portText = text.slice(end + 2)
    if (!net.isIPv6(host))
      throw NodeErrors.NODE_ADDRESS_INVALID(`${show(host)} in brackets is not an IPv6 address`)
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) throw NodeErrors.NODE_ADDRESS_INVALID(`address ${show(text)} has no :port`)
    host = text.slice(0, colon)
    portText = text.slice(colon + 1)
    if (host.includes(':')) {
      throw NodeErrors.NODE_ADDRESS_INVALID(`address ${show(text)}: write an IPv6 address as [addr]:port`)
    }
  }
  if (!/^\d{1,5}$/.test(portText)) {
    throw NodeErrors.NODE_ADDRESS_INVALID(`address ${show(text)}: the port is not a number 1-65535`)
  }
  return validateHostPort(host, Number(portText))
}

/** The inverse of parseHostPort: IPv6 literals get brackets. */
export function formatHostPort(addr: HostPort): string {
  return net.isIPv6(addr.host) ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`
}
