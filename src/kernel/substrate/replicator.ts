import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import { Resource } from '../lifecycle.js'

/** Decides whether a remote Noise public key may connect; must be synchronous and cheap. */
export type PeerFilter = (remotePublicKey: Buffer) => boolean

/**
 * Builds Hyperswarm's `firewall` option from an allow-list check. Hyperswarm
 * calls it before dialing (payload null) and on every incoming handshake, and
 * rejects when it returns TRUE — the inverse of `isAllowed`. A throwing check
 * rejects. The check runs at call time, so membership changes apply at once.
 */
export function swarmFirewall(isAllowed: PeerFilter): Hyperswarm.Firewall {
  return (remotePublicKey) => {
    try {
      return !isAllowed(remotePublicKey)
    } catch {
      return true
    }
  }
}

/** Something that wants every replication stream (e.g. a SubstrateBase's wakeup protocol). */
export interface StreamAttachable {
  attachStream(stream: unknown): void
}

export interface ReplicatorOptions {
  swarm: Hyperswarm
  store: Corestore
  /**
   * Re-checked on every connection, in addition to the swarm's firewall
   * (which only exists if the swarm was built with `swarmFirewall`).
   */
  isAllowed?: PeerFilter
  /**
   * Called once replication runs on a connection (e.g. to open protomux
   * channels): a swarm connection with its peer info, or a stream given to
   * `add()` with null.
   */
  onConnection?: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo | null) => void
  /** Connection errors (resets, timeouts) are normal in a swarm; they land here instead of crashing. */
  onError?: (err: unknown, conn: Hyperswarm.Connection) => void
}

/**
 * Replicates a corestore on every connection of a swarm. It does not own the
 * swarm or the store: closing it stops handling new connections and leaves
 * existing ones to the swarm's owner.
 */
export class Replicator extends Resource {
  readonly #opts: ReplicatorOptions
  readonly #attached = new Set<StreamAttachable>()
  readonly #conns = new Set<Hyperswarm.Connection>()
  readonly #onConnection = (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo): void => {
    this.#handle(conn, info)
  }

  constructor(opts: ReplicatorOptions) {
    super()
    this.#opts = opts
  }

  /** Remote public keys of the connections being replicated. */
  get peers(): Buffer[] {
    const out: Buffer[] = []
    for (const conn of this.#conns) if (conn.remotePublicKey) out.push(conn.remotePublicKey)
    return out
  }

  protected override async _open(): Promise<void> {
    this.#opts.swarm.on('connection', this.#onConnection)
    for (const conn of this.#opts.swarm.connections) this.#handle(conn, null)
  }

  protected override async _close(): Promise<void> {
    this.#opts.swarm.off('connection', this.#onConnection)
    this.#attached.clear()
    this.#conns.clear()
  }

  /** Also feeds every current and future replication stream to `target`. */
  attach(target: StreamAttachable): void {
    this.#attached.add(target)
    for (const conn of this.#conns) target.attachStream(conn)
  }

  /**
   * Replicates a stream that did not come from the swarm (a direct TCP
   * connection, say) exactly as a swarm connection: the same `isAllowed`
   * check (a refused stream is destroyed), the store, every attached target,
   * then `onConnection(stream, null)`. The stream is tracked until it closes;
   * its owner still closes it. Returns whether it was admitted.
   */
  add(stream: Hyperswarm.Connection): boolean {
    if (!this.#handle(stream, null)) return false
    this.#opts.onConnection?.(stream, null)
    return true
  }

  detach(target: StreamAttachable): void {
    this.#attached.delete(target)
  }

  /**
   * Lets the firewall judge `publicKey` again. Hyperswarm bans a key its
   * firewall rejected for the rest of the swarm's life, and from then on
   * refuses it without asking, so a key admitted later (a newly certified
   * device, a new friend) stays locked out until unbanned. Returns whether a
   * ban was lifted.
   */
  unban(publicKey: Buffer): boolean {
    const peer = this.#opts.swarm.peers.get(publicKey.toString('hex'))
    if (!peer || !peer.banned) return false
    peer.ban(false)
    return true
  }

  /**
   * Drops connections whose peer no longer passes `isAllowed` (after a
   * revocation, say); returns how many were dropped.
   */
  prune(): number {
    const { isAllowed } = this.#opts
    if (!isAllowed) return 0
    let dropped = 0
    for (const conn of this.#conns) {
      if (conn.remotePublicKey && allowed(isAllowed, conn.remotePublicKey)) continue
      conn.destroy()
      this.#conns.delete(conn)
      dropped++
    }
    return dropped
  }

  /** Whether `conn` now replicates (it was new and admitted). */
  #handle(conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo | null): boolean {
    if (this.#conns.has(conn) || this.closing || conn.destroyed) return false
    conn.on('error', (err: unknown) => this.#opts.onError?.(err, conn))
    const { isAllowed } = this.#opts
    if (isAllowed && (!conn.remotePublicKey || !allowed(isAllowed, conn.remotePublicKey))) {
      conn.destroy()
      return false
    }
    this.#conns.add(conn)
    conn.on('close', () => this.#conns.delete(conn))
    this.#opts.store.replicate(conn)
    for (const target of this.#attached) target.attachStream(conn)
    if (info) this.#opts.onConnection?.(conn, info)
    return true
  }
}

function allowed(isAllowed: PeerFilter, key: Buffer): boolean {
  try {
    return isAllowed(key)
  } catch {
    return false
  }
}
