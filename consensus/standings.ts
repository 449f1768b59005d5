import type { ResolvedConfig } from './config.js'
import { tieBreakKey } from './digest.js'
import type { Tally } from './tally.js'

/** Where the conversation stands in time and turnout. */
export interface Phase {
  readonly members: number
  readonly now: number
  /** 0 when there is no deadline. */
  readonly deadline: number
  readonly deadlinePassed: boolean
  /** Members who have not voted (directly or through delegation). */
  readonly remaining: number
  /** The deadline passed or every member voted: nothing more is expected. */
  readonly final: boolean
}

export function phase(config: ResolvedConfig, tally: Tally): Phase {
  const members = config.members.length
  const deadlinePassed = config.deadline > 0 && tally.logNow >= config.deadline
  const remaining = members - tally.voted
  return {
    members,
    now: tally.logNow,
    deadline: config.deadline,
    deadlinePassed,
    remaining,
    final: deadlinePassed || remaining <= 0
  }
}

/** The leaders by one figure per option. */
export interface Standing {
  /** Index of the leading option after tie-breaking; -1 without options or before the first ballot. */
  readonly leader: number
  /** Options sharing the top value, in tie-break order (just [leader] when there is no tie). */
  readonly tied: readonly number[]
  readonly top: number
  /** The best value among options other than the leader (equals top when tied). */
  readonly second: number
}

/**
 * Orders options by a hash of the conversation id, the ballot digest and
 * the option: deterministic on every node, unpredictable before the ballots
 * are in, and independent of the order options or ballots arrived in.
 */
interface KeyCache {
  readonly digest: Uint8Array
  conversationId: string
  readonly keys: Map<string, string>
}

/** Tie keys change only when a ballot does; evaluations after acks or heartbeats reuse them. */
const keyCaches = new WeakMap<Tally, KeyCache>()

function keyOf(config: ResolvedConfig, tally: Tally, option: string): string {
  let cache = keyCaches.get(tally)
  if (!cache) {
    cache = {
      digest: new Uint8Array(tally.digest.length),
      conversationId: config.conversationId,
      keys: new Map()
    }
    cache.digest.set(tally.digest)
    keyCaches.set(tally, cache)
  } else if (cache.conversationId !== config.conversationId || !equal(cache.digest, tally.digest)) {
    cache.digest.set(tally.digest)
    cache.conversationId = config.conversationId
    cache.keys.clear()
  }
  let key = cache.keys.get(option)
  if (key === undefined) {
    key = tieBreakKey(config.conversationId, tally.digest, option)
    cache.keys.set(option, key)
  }
  return key
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function tieBreakOrder(config: ResolvedConfig, tally: Tally, idx: readonly number[]): number[] {
  if (idx.length < 2) return [...idx]
  const keyed = idx.map((i) => ({ i, key: keyOf(config, tally, config.options[i]!) }))
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return keyed.map((x) => x.i)
}

export function standing(config: ResolvedConfig, tally: Tally, values: readonly number[]): Standing {
  const k = config.options.length
  if (k === 0) return { leader: -1, tied: [], top: 0, second: 0 }
  let top = Number.NEGATIVE_INFINITY
  for (let i = 0; i < k; i++) if (values[i]! > top) top = values[i]!
  const atTop: number[] = []
  let second = Number.NEGATIVE_INFINITY
  for (let i = 0; i < k; i++) {
    if (values[i] === top) atTop.push(i)
    else if (values[i]! > second) second = values[i]!
  }
  if (atTop.length > 1) second = top
  else if (k === 1) second = 0
  // Before the first ballot every option ties at zero: there is no leader to pick.
  if (tally.direct === 0) return { leader: -1, tied: [], top, second }
  const tied = tieBreakOrder(config, tally, atTop)
  return { leader: tied[0]!, tied, top, second }
}

/** Options sorted by value (highest first), equal values in tie-break order. */
export function orderByValue(
  config: ResolvedConfig,
  tally: Tally,
  idx: readonly number[],
  values: readonly number[]
): number[] {
  const sorted = [...idx].sort((a, b) => values[b]! - values[a]!)
  const out: number[] = []
  for (let i = 0; i < sorted.length;) {
    let j = i
    while (j < sorted.length && values[sorted[j]!] === values[sorted[i]!]) j++
    out.push(...tieBreakOrder(config, tally, sorted.slice(i, j)))
    i = j
  }
  return out
}

export function names(config: ResolvedConfig, idx: readonly number[]): string[] {
  return idx.map((i) => config.options[i]!)
}

/** `{ option: value }` for an outcome; fromEntries so that no option name can touch a prototype. */
export function perOption(config: ResolvedConfig, values: readonly number[]): Record<string, number> {
  return Object.fromEntries(config.options.map((o, i) => [o, values[i]!]))
}

/** The figures every outcome carries. */
export function common(
  config: ResolvedConfig,
  tally: Tally,
  p: Phase
): {
  method: string
  members: number
  voted: number
  direct: number
  now: number
  deadline: number
  deadlinePassed: boolean
} {
  return {
    method: config.method,
    members: p.members,
    voted: tally.voted,
    direct: tally.direct,
    now: p.now,
    deadline: p.deadline,
    deadlinePassed: p.deadlinePassed
  }
}
