import type Hypercore from 'hypercore'

/**
 * Copies of a core: how many nodes hold its first `length` blocks.
 *
 * A node holds a prefix of a core when it has every block of it on disk.
 * For this node that is the core's contiguous length; for a peer it is what
 * the peer's replication channel reports (`remoteContiguousLength`: the
 * contiguous ranges it announced, plus its announced bitfield). A peer
 * announces a block only after writing it to its storage, so a report is a
 * fact about that peer's disk, not about a transfer in flight. A node
 * connected over two streams (swarm and direct transport) is one node:
 * peers are counted by their remote public key.
 */

/** What a copy count reads of a replication peer (hypercore's replicator Peer). */
export interface CopyPeer {
  readonly remotePublicKey: Uint8Array | null
  readonly remoteContiguousLength: number
}

/** The longest prefix each connected node reports for a core, by remote public key (hex). */
export function peerLengths(peers: Iterable<CopyPeer>): Map<string, number> {
  const out = new Map<string, number>()
  for (const peer of peers) {
    if (!peer.remotePublicKey) continue
    const key = Buffer.from(peer.remotePublicKey).toString('hex')
    const length = peer.remoteContiguousLength
    if (length > (out.get(key) ?? -1)) out.set(key, length)
  }
  return out
}

/** Remote public keys (hex) of the connected nodes holding the first `length` blocks. */
export function holdersOf(peers: Iterable<CopyPeer>, length: number): string[] {
  const out: string[] = []
  for (const [key, held] of peerLengths(peers)) if (held >= length) out.push(key)
  return out.sort()
}

export interface CopiesOptions {
  /** Nodes that must hold the prefix, this one included (1 = only here). */
  copies: number
  /** How long to wait before giving up (ms); 0 checks once. */
  timeoutMs: number
  /** Aborting gives up at once (with what was reached so far). */
  signal?: AbortSignal
}

export interface CopiesResult {
  /** Nodes seen holding the prefix during the wait: this one (if it does) plus `holders`. */
  copies: number
  /** The `copies` asked for. */
  target: number
  /** Whether `copies >= target`. */
  durable: boolean
  /** Remote public keys (hex) of the other nodes seen holding it, sorted. */
  holders: string[]
  /** How long the wait took (ms). */
  waitedMs: number
}

/** How often a wait re-counts besides the core's events (which miss some changes, see `waitForCopies`). */
export const COPIES_POLL_MS = 100

/**
 * Waits until `copies` nodes (this one included) hold the first `length`
 * blocks of `core`, or the time is up; never rejects. A peer seen holding the
 * prefix stays counted for the rest of the wait, even if it disconnects: it
 * had the blocks on disk when it said so.
 *
 * It re-counts on the core's 'remote-contiguous-length' event (the longest
 * prefix any peer reports grew: enough for the usual target of two), on
 * 'peer-add' and 'peer-remove' (a leaving peer is read one last time), and
 * every COPIES_POLL_MS: a second peer reaching a prefix another already has
 * raises no event, so a target of three or more relies on the poll.
 */
export function waitForCopies(
  core: Hypercore<unknown>,
  length: number,
  opts: CopiesOptions
): Promise<CopiesResult> {
  const started = Date.now()
  const target = Math.max(1, Math.floor(opts.copies))
  const holders = new Set<string>()
  const selfHolds = (): number => (core.contiguousLength >= length ? 1 : 0)
  const result = (): CopiesResult => {
    const copies = selfHolds() + holders.size
    return {
      copies,
      target,
      durable: copies >= target,
      holders: [...holders].sort(),
      waitedMs: Date.now() - started
    }
  }
  const count = (): boolean => {
    if (!core.closed) for (const key of holdersOf(core.peers, length)) holders.add(key)
    return selfHolds() + holders.size >= target
  }
  if (count() || opts.timeoutMs <= 0 || opts.signal?.aborted || core.closed) return Promise.resolve(result())

  return new Promise<CopiesResult>((resolve) => {
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearInterval(poll)
      clearTimeout(timer)
      core.off('remote-contiguous-length', check)
      core.off('peer-add', check)
      core.off('peer-remove', onRemove)
      core.off('close', finish)
      opts.signal?.removeEventListener('abort', finish)
      resolve(result())
    }
    const check = (): void => {
      if (!done && count()) finish()
    }
    const onRemove = (peer: unknown): void => {
      for (const key of holdersOf([peer as CopyPeer], length)) holders.add(key)
      check()
    }
    const poll = setInterval(check, COPIES_POLL_MS)
    const timer = setTimeout(finish, opts.timeoutMs)
    core.on('remote-contiguous-length', check)
    core.on('peer-add', check)
    core.on('peer-remove', onRemove)
    core.on('close', finish)
    opts.signal?.addEventListener('abort', finish, { once: true })
  })
}

/** A node known to hold a prefix of a core. */
export interface KnownHolder {
  /** Remote public key (hex). */
  publicKey: string
  /** The longest prefix it reported. */
  length: number
  /** Whether it is connected for this core now (else `length` is its last report). */
  online: boolean
  /** When it last reported (ms). */
  seenAt: number
}

/**
 * Remembers, per core, the last prefix each node reported, so that a node
 * that went offline still counts for what it held when it left. Fed by
 * `observe` (the connected peers of a core, read now) and `note` (a holder a
 * wait saw). In memory only: after a restart a node is counted again once
 * it reconnects. A report while connected replaces the previous one, so a
 * node that lost data (a wiped device) is not counted for what it used to hold.
 */
export class CopiesTracker {
  readonly #cores = new Map<string, Map<string, KnownHolder>>()
  readonly #now: () => number

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now
  }

  /** Records what the connected peers of the core (key hex) report now; others are marked offline. */
  observe(coreKey: string, peers: Iterable<CopyPeer>): void {
    const lengths = peerLengths(peers)
    let known = this.#cores.get(coreKey)
    if (!known) {
      if (lengths.size === 0) return
      known = new Map()
      this.#cores.set(coreKey, known)
    }
    const now = this.#now()
    for (const [publicKey, length] of lengths)
      known.set(publicKey, { publicKey, length, online: true, seenAt: now })
    for (const h of known.values()) if (!lengths.has(h.publicKey)) h.online = false
  }

  /** Records that `publicKey` held the first `length` blocks of the core (seen by a wait). */
  note(coreKey: string, publicKey: string, length: number): void {
    let known = this.#cores.get(coreKey)
    if (!known) {
      known = new Map()
      this.#cores.set(coreKey, known)
    }
    const prev = known.get(publicKey)
    if (prev && prev.length >= length) return
    known.set(publicKey, { publicKey, length, online: prev?.online ?? false, seenAt: this.#now() })
  }

  /** The nodes known to hold the first `length` blocks of the core, sorted by key. */
  holders(coreKey: string, length: number): KnownHolder[] {
    const known = this.#cores.get(coreKey)
    if (!known) return []
    return [...known.values()]
      .filter((h) => h.length >= length)
      .sort((a, b) => a.publicKey.localeCompare(b.publicKey))
      .map((h) => ({ ...h }))
  }
}
