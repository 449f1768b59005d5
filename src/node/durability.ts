import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { hex } from '../kernel/encoding.js'
import { KernelErrors } from '../kernel/errors.js'
import { Resource } from '../kernel/lifecycle.js'
import {
  type CopiesResult,
  CopiesTracker,
  type CopyPeer,
  type KnownHolder,
  waitForCopies
} from '../kernel/substrate/index.js'

/** How often the node reads every open core's peers, so it remembers what a node held when it left. */
export const COPIES_SAMPLE_MS = 2000
/** Status flags anything held by fewer nodes than this, whatever the acknowledgement target (DESIGN §4). */
export const MIN_STATUS_COPIES = 2

export interface DurabilityComponents {
  store: Corestore
  now?: () => number
}

export interface DurabilityOptions {
  /** Nodes (this one included) that must hold an append before it is acknowledged. */
  copies: number
  /** How long an acknowledgement waits for them (ms). */
  timeoutMs: number
}

/** A caller's choice for one append; unset fields take the node's configuration. */
export interface AckOptions {
  copies?: number
  timeoutMs?: number
}

export type Ack = CopiesResult

/** One open core of the store and who holds all of it. */
export interface CoreCopies {
  key: string
  length: number
  /** Whether this node holds all `length` blocks. */
  local: boolean
  /** Other nodes holding all of it: connected now, or last seen (this run) holding it. */
  holders: KnownHolder[]
  /** Nodes holding all of it: this one (if `local`) plus `holders`. */
  copies: number
}

/**
 * The node's durability service (docs/durability.md): acknowledges an
 * append once enough nodes hold it, and tells status how many nodes hold
 * each open core. It owns no core; closing it gives up pending waits (they
 * resolve as not durable).
 */
export class Durability extends Resource {
  readonly copies: number
  readonly timeoutMs: number
  /** What status flags against: the acknowledgement target, and never less than two. */
  readonly statusTarget: number
  readonly #store: Corestore
  readonly #tracker: CopiesTracker
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | null = null

  constructor(components: DurabilityComponents, opts: DurabilityOptions) {
    super()
    this.#store = components.store
    this.#tracker = new CopiesTracker(components.now ? { now: components.now } : {})
    this.copies = opts.copies
    this.timeoutMs = opts.timeoutMs
    this.statusTarget = Math.max(MIN_STATUS_COPIES, opts.copies)
  }

  protected override async _open(): Promise<void> {
    this.#timer = setInterval(() => this.#observe(), COPIES_SAMPLE_MS)
    this.#timer.unref()
  }

  protected override async _close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#abort.abort()
  }

  /**
   * Waits until `copies` nodes hold the first `length` blocks of `core` (the
   * core an append went to, and its length after it), at most `timeoutMs`.
   * Resolves with `durable: false` when the time is up; the caller decides
   * what that means for its user.
   */
  async acknowledge(core: Hypercore<unknown>, length: number, opts: AckOptions = {}): Promise<Ack> {
    this.assertOpen()
    const copies = opts.copies ?? this.copies
    if (!Number.isInteger(copies) || copies < 1)
      throw KernelErrors.CONFIG_INVALID(`copies must be a whole number of at least 1, not ${copies}`)
    const ack = await waitForCopies(core, length, {
      copies,
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      signal: this.#abort.signal
    })
    const key = hex(core.key)
    for (const holder of ack.holders) this.#tracker.note(key, holder, length)
    return ack
  }

  /** The store's open cores (none once it closes). */
  *#openCores(): Iterable<StoredCore & { key: Buffer; state: { length: number } }> {
    if (this.#store.closing) return
    for (const core of (this.#store as unknown as { cores: Iterable<StoredCore> }).cores) {
      if (core.key && core.state) yield core as StoredCore & { key: Buffer; state: { length: number } }
    }
  }

  /** Remembers which peers hold what, so a node that leaves still counts for what it held. */
  #observe(): void {
    for (const core of this.#openCores()) this.#tracker.observe(hex(core.key), core.replicator?.peers ?? [])
  }

  /** Every open core of the store with the nodes holding all of it (and remembers what it saw). */
  cores(): CoreCopies[] {
    const out: CoreCopies[] = []
    for (const core of this.#openCores()) {
      const key = hex(core.key)
      const length = core.state.length
      this.#tracker.observe(key, core.replicator?.peers ?? [])
      const local = Math.min(length, core.header?.hints?.contiguousLength ?? 0) >= length
      const holders = length === 0 ? [] : this.#tracker.holders(key, length)
      out.push({ key, length, local, holders, copies: (local ? 1 : 0) + holders.length })
    }
    out.sort((a, b) => a.key.localeCompare(b.key))
    return out
  }
}

/** What `cores()` reads of corestore's internal core objects (corestore 7, hypercore 11). */
interface StoredCore {
  key: Buffer | null
  state: { length: number } | null
  header?: { hints?: { contiguousLength?: number } }
  replicator?: { peers: CopyPeer[] }
}
