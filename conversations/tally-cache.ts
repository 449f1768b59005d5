import {
  applyMessage,
  type ConsensusConfig,
  createTally,
  serializeTally,
  type Tally,
  type TallyMessage
} from '../consensus/index.js'
import { labelledHash } from '../src/kernel/crypto/hash.js'
import { canonicalBytes } from '../src/kernel/encoding.js'

/**
 * The consensus tally of a conversation, kept in memory between apply
 * calls, and rebuilt from the view whenever the view does not rest on it.
 *
 * Why not only in the view: a Tally is a live structure (maps, a heap for
 * log time) that consensus can build and update but not load from a saved
 * form; saving and reloading it per message would cost O(state) per
 * message. Why not only in memory: autobase truncates the view and re-runs
 * apply when it reorders unindexed entries, and a fast-forward or a restart
 * skips apply altogether, so memory may be ahead of, behind, or beside the
 * view.
 *
 * So the view keeps the tally's input log (`in/<n>`: each consensus
 * message with the hash chain after it) and the state record keeps the
 * chain head; the cache is keyed by (n, chain). On a match (the common
 * case) the next message costs O(that message). On a mismatch the cache
 * goes back to the newest checkpoint whose chain the view still holds (a
 * verified copy taken every CHECKPOINT_EVERY inputs) and replays the inputs
 * after it from the view; with no usable checkpoint it replays from the
 * start. Reorders touch only the unindexed tip, so they usually cost a
 * checkpoint copy plus fewer than CHECKPOINT_EVERY replayed inputs.
 */

const CHAIN_LABEL = 'conclave/conv/tally-chain/v1'
export const CHECKPOINT_EVERY = 64
export const CHECKPOINTS_KEPT = 8

/** The chain before any input: bound to the manifest. */
export function chainStart(manifestDigest: string): string {
  return labelledHash(CHAIN_LABEL, [Buffer.from(manifestDigest, 'hex')]).toString('hex')
}

/** The chain after feeding `msg`. */
export function chainNext(chain: string, msg: TallyMessage): string {
  return labelledHash(CHAIN_LABEL, [Buffer.from(chain, 'hex'), canonicalBytes(msg)]).toString('hex')
}

/** Where the cache reads the tally's inputs: the view, as apply sees it. */
export interface InputSource {
  /** The chain after input `n - 1` (the start chain for n = 0), or null if the view has no such input. */
  chainAt(n: number): Promise<string | null>
  /** Inputs from..to-1, in order. */
  inputs(from: number, to: number): AsyncIterable<{ m: TallyMessage; c: string }>
}

interface Point {
  readonly n: number
  readonly chain: string
  readonly tally: Tally
}

export interface TallyCacheStats {
  /** Calls answered from memory. */
  hits: number
  /** Calls that had to replay inputs from the view. */
  rebuilds: number
  /** Inputs replayed in all. */
  replayed: number
  /** Rebuilds that started from a checkpoint instead of the first input. */
  fromCheckpoint: number
}

/**
 * A copy of a tally, made through the public shape of `Tally` and checked:
 * the copy must serialize exactly like the original (serializeTally covers
 * every maintained figure), otherwise null and the caller replays instead.
 */
export function cloneTally(t: Tally): Tally | null {
  const c = createTally(t.config)
  for (const [k, v] of t.ballots) c.ballots.set(k, v)
  c.counts.splice(0, c.counts.length, ...t.counts)
  if (t.pairwise && c.pairwise) c.pairwise.splice(0, c.pairwise.length, ...t.pairwise)
  for (const [k, v] of t.weights) c.weights.set(k, v)
  for (const [k, v] of t.delegations) c.delegations.set(k, v)
  for (const [k, v] of t.incoming) c.incoming.set(k, v)
  for (const k of t.effective) c.effective.add(k)
  for (const [k, v] of t.objections) c.objections.set(k, v)
  for (const k of t.acks) c.acks.add(k)
  for (const [k, v] of t.publishes) c.publishes.set(k, v)
  for (const [k, v] of t.clock.heard()) c.clock.observe(k, v)
  c.digest.set(t.digest)
  c.voted = t.voted
  c.direct = t.direct
  c.answered = t.answered
  c.logNow = t.logNow
  c.applied = t.applied
  c.rejected = t.rejected
  c.closed = t.closed
  return serializeTally(c) === serializeTally(t) ? c : null
}

export class TallyCache {
  readonly #config: ConsensusConfig
  readonly #start: string
  #tip: Point | null = null
  #marks: Point[] = []
  readonly stats: TallyCacheStats = { hits: 0, rebuilds: 0, replayed: 0, fromCheckpoint: 0 }

  /** One cache per manifest: `config` is the manifest's frozen consensus configuration. */
  constructor(config: ConsensusConfig, manifestDigest: string) {
    this.#config = config
    this.#start = chainStart(manifestDigest)
  }

  get startChain(): string {
    return this.#start
  }

  /**
   * Takes the tally after `n` inputs whose chain is `chain`, out of the
   * cache: the caller feeds it and gives it back with `commit`. If the
   * caller fails in between, nothing is given back and the next call
   * rebuilds, so a half-applied message never survives.
   */
  async take(source: InputSource, n: number, chain: string): Promise<Tally> {
    const tip = this.#tip
    this.#tip = null
    if (tip && tip.n === n && tip.chain === chain) {
      this.stats.hits++
      return tip.tally
    }
    return this.#rebuild(source, n, chain)
  }

  /** Gives back the tally after `n` inputs with chain `chain`. */
  commit(tally: Tally, n: number, chain: string): void {
    this.#tip = { n, chain, tally }
    if (n > 0 && n % CHECKPOINT_EVERY === 0) this.#mark(n, chain, tally)
  }

  #mark(n: number, chain: string, tally: Tally): void {
    if (this.#marks.some((p) => p.n === n && p.chain === chain)) return
    const copy = cloneTally(tally)
    if (!copy) return
    this.#marks = this.#marks.filter((p) => p.n < n)
    this.#marks.push({ n, chain, tally: copy })
    if (this.#marks.length > CHECKPOINTS_KEPT) this.#marks.shift()
  }

  async #rebuild(source: InputSource, n: number, chain: string): Promise<Tally> {
    this.stats.rebuilds++
    // checkpoints beyond the target belong to an order the view no longer has
    this.#marks = this.#marks.filter((p) => p.n <= n)
    let from: Point | null = null
    for (let i = this.#marks.length - 1; i >= 0 && from === null; i--) {
      const mark = this.#marks[i]!
      if ((await source.chainAt(mark.n)) === mark.chain) from = mark
      else this.#marks.splice(i, 1)
    }
    let tally: Tally | null = from ? cloneTally(from.tally) : null
    let at = from?.n ?? 0
    let current = from?.chain ?? this.#start
    if (tally === null) {
      tally = createTally(this.#config)
      at = 0
      current = this.#start
    } else {
      this.stats.fromCheckpoint++
    }
    for await (const input of source.inputs(at, n)) {
      applyMessage(tally, input.m)
      current = input.c
      at++
      this.stats.replayed++
      if (at % CHECKPOINT_EVERY === 0 && at < n) this.#mark(at, current, tally)
    }
    if (at !== n || current !== chain) {
      throw new Error(`tally inputs in the view end at ${at} with another chain than the state record`)
    }
    return tally
  }
}
