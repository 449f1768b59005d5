import type { ResolvedConfig } from './config.js'
import { ballotHash, compareStrings } from './digest.js'
import type { BallotKind, BallotMessage, Rejection } from './messages.js'
import type { BallotView } from './method.js'

/** A validated ballot in the tally's form, with its canonical text and its hash for the ballot digest. */
export interface StoredBallot extends BallotView {
  readonly canon: string
  readonly hash: Uint8Array
}

export function isRejection(x: StoredBallot | Rejection): x is Rejection {
  return 'reason' in x
}

function formOf(msg: BallotMessage): BallotKind | null {
  let kind: BallotKind | null = null
  let n = 0
  if (msg.choice !== undefined) {
    kind = 'choice'
    n++
  }
  if (msg.choices !== undefined) {
    kind = 'choices'
    n++
  }
  if (msg.ranking !== undefined) {
    kind = 'ranking'
    n++
  }
  if (msg.scores !== undefined) {
    kind = 'scores'
    n++
  }
  return n === 1 ? kind : null
}

function indexList(names: readonly string[], optionIndex: ReadonlyMap<string, number>): number[] | Rejection {
  const idx: number[] = []
  for (const name of names) {
    const i = optionIndex.get(name)
    if (i === undefined) return { reason: 'unknown-option', detail: name }
    // At most MAX_OPTIONS entries: a linear scan allocates nothing, unlike a Set per ballot.
    if (idx.indexOf(i) >= 0) return { reason: 'duplicate-option', detail: name }
    idx.push(i)
  }
  return idx
}

const q = (s: string): string => JSON.stringify(s)

const quotedCache = new WeakMap<ResolvedConfig, readonly string[]>()

/** Each option as a JSON string, computed once per configuration. */
function quoted(config: ResolvedConfig): readonly string[] {
  let out = quotedCache.get(config)
  if (!out) {
    out = config.options.map(q)
    quotedCache.set(config, out)
  }
  return out
}

/**
 * Validates a ballot against the configuration and puts it in canonical
 * form: approval sets and score keys sorted by code units, rankings kept in
 * order. Never throws; a bad ballot comes back as a Rejection.
 */
export function normalizeBallot(
  config: ResolvedConfig,
  optionIndex: ReadonlyMap<string, number>,
  account: string,
  msg: BallotMessage
): StoredBallot | Rejection {
  const kind = formOf(msg)
  if (kind === null) {
    return { reason: 'malformed', detail: 'a ballot has exactly one of choice, choices, ranking, scores' }
  }
  if (config.ballotKind !== 'any' && kind !== config.ballotKind) {
    return {
      reason: 'wrong-ballot-kind',
      detail: `${config.method} counts ${config.ballotKind} ballots, got ${kind}`
    }
  }
  let view: BallotView
  let canon: string
  switch (kind) {
    case 'choice': {
      const i = optionIndex.get(msg.choice!)
      if (i === undefined) return { reason: 'unknown-option', detail: msg.choice! }
      view = { kind, options: [i], values: null }
      canon = `{"choice":${quoted(config)[i]}}`
      break
    }
    case 'choices': {
      const names = [...msg.choices!].sort(compareStrings)
      const r = indexList(names, optionIndex)
      if (!Array.isArray(r)) return r
      view = { kind, options: r, values: null }
      canon = `{"choices":[${names.map(q).join(',')}]}`
      break
    }
    case 'ranking': {
      const r = indexList(msg.ranking!, optionIndex)
      if (!Array.isArray(r)) return r
      view = { kind, options: r, values: null }
      const names = quoted(config)
      let list = ''
      for (let j = 0; j < r.length; j++) list += (j ? ',' : '') + names[r[j]!]
      canon = `{"ranking":[${list}]}`
      break
    }
    case 'scores': {
      const entries = Object.entries(msg.scores!).sort((a, b) => compareStrings(a[0], b[0]))
      const idx: number[] = []
      const values: number[] = []
      for (const [name, v] of entries) {
        const i = optionIndex.get(name)
        if (i === undefined) return { reason: 'unknown-option', detail: name }
        idx.push(i)
        values.push(v)
      }
      view = { kind, options: idx, values }
      canon = `{"scores":{${entries.map(([k, v]) => `${q(k)}:${v}`).join(',')}}}`
      break
    }
  }
  const extra = config.impl?.checkBallot?.(view, config.params) ?? null
  if (extra) return extra
  return {
    kind: view.kind,
    options: view.options,
    values: view.values,
    canon,
    hash: ballotHash(account, canon)
  }
}

/**
 * Adds (w > 0) or removes (w < 0) a ballot of weight |w| to the maintained
 * figures: O(ballot) for counts, O(options²) for the pairwise matrix.
 */
export function addBallot(
  counts: number[],
  pairwise: number[] | null,
  b: BallotView,
  w: number,
  scratch: Int32Array
): void {
  const idx = b.options
  switch (b.kind) {
    case 'choice':
    case 'choices':
      for (const i of idx) counts[i]! += w
      return
    case 'scores':
      for (let j = 0; j < idx.length; j++) counts[idx[j]!]! += w * b.values![j]!
      return
    case 'ranking': {
      if (idx.length > 0) counts[idx[0]!]! += w
      if (pairwise) addRanking(pairwise, counts.length, idx, w, scratch)
      return
    }
  }
}

/**
 * d[x][y] += w for every x the ballot prefers to y: ranked options in
 * order, and every ranked option above every unranked one (unranked options
 * are tied at the bottom).
 */
export function addRanking(
  d: number[],
  k: number,
  ranking: readonly number[],
  w: number,
  pos: Int32Array
): void {
  pos.fill(-1)
  for (let p = 0; p < ranking.length; p++) pos[ranking[p]!] = p
  for (let x = 0; x < k; x++) {
    const px = pos[x]!
    if (px < 0) continue
    const row = x * k
    for (let y = 0; y < k; y++) {
      if (y === x) continue
      const py = pos[y]!
      if (py < 0 || px < py) d[row + y]! += w
    }
  }
}
