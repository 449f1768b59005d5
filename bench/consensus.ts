// Consensus cost benchmark (not a test): prints one JSON object.
//   node dist/bench/consensus.js [--quick]
// P3: per-message cost of applyMessage + evaluate when the log already holds
// 100k messages, against the same cost at 1k (goal: ratio ≤ 1.2) — the tally
// must not get slower as the log grows. Also: Schulze over 100k ranked
// ballots with 5 options (goal ≤ 1 s) and one CEL predicate evaluation
// (goal ≤ 20 µs), each against a plain built-in as baseline.
import { pathToFileURL } from 'node:url'
import { applyMessage, type ConsensusConfig, createTally, evaluate, type Tally } from '../consensus/index.js'
import type { BenchFigure } from './common.js'

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same log. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const OPTIONS = ['yes', 'no', 'later']
/**
 * Members of the P3 conversation. Fixed, so that the state (one ballot per
 * member) is the same size at 1k and at 100k messages: what is left to
 * differ is the length of the log, which must not matter.
 */
const MEMBERS = 1_000

function memberIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `acct-${i.toString(36).padStart(4, '0')}`)
}

/** A conversation-like stream: mostly ballots (and changed votes), some acks, objections, heartbeats. */
function* stream(members: readonly string[], seed: number): Generator<object> {
  const rnd = prng(seed)
  let t = 1_700_000_000_000
  for (;;) {
    t += 1 + Math.floor(rnd() * 50)
    const account = members[Math.floor(rnd() * members.length)]!
    const r = rnd()
    if (r < 0.7) yield { type: 'ballot', account, t, choice: OPTIONS[Math.floor(rnd() * OPTIONS.length)]! }
    else if (r < 0.8) yield { type: 'heartbeat', account, t }
    else if (r < 0.88) yield { type: 'ack', account, t }
    else if (r < 0.94) yield { type: 'objection', account, t, reason: 'not yet' }
    else if (r < 0.97) yield { type: 'withdraw-objection', account, t }
    else yield { type: 'retract', account, t }
  }
}

function take(gen: Generator<object>, n: number): object[] {
  const out: object[] = []
  for (let i = 0; i < n; i++) out.push(gen.next().value as object)
  return out
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits))

/** Feeds `window` more messages with an evaluation after each; returns µs per message. */
function timeWindow(config: ConsensusConfig, tally: Tally, msgs: readonly object[]): number {
  const start = performance.now()
  for (const m of msgs) {
    applyMessage(tally, m)
    evaluate(config, tally)
  }
  return ((performance.now() - start) * 1000) / msgs.length
}

function consensusCost(quick: boolean): BenchFigure {
  const config: ConsensusConfig = {
    conversationId: 'bench-p3',
    method: 'majority',
    options: OPTIONS,
    members: memberIds(MEMBERS),
    // Far in the future, so the vote stays open and every message is evaluated.
    deadline: 9_000_000_000_000
  }
  const window = quick ? 3_000 : 5_000
  const rounds = quick ? 10 : 25
  // One long log (100k messages in before measuring) and, each round, a fresh
  // 1k-message log. Each round times a window on both, in alternating order,
  // and the ratio is the median of the per-round ratios, so that drift and
  // noise on a shared machine hit both sides alike.
  const longGen = stream(config.members, 1)
  const long = createTally(config)
  for (const m of take(longGen, 100_000)) applyMessage(long, m)
  const small: number[] = []
  const large: number[] = []
  const ratios: number[] = []
  for (let r = 0; r < rounds; r++) {
    const shortGen = stream(config.members, 1000 + r)
    const short = createTally(config)
    for (const m of take(shortGen, 1_000)) applyMessage(short, m)
    const a = take(shortGen, window)
    const b = take(longGen, window)
    let s: number
    let l: number
    if (r % 2 === 0) {
      s = timeWindow(config, short, a)
      l = timeWindow(config, long, b)
    } else {
      l = timeWindow(config, long, b)
      s = timeWindow(config, short, a)
    }
    if (r < 2) continue // warm-up rounds: JIT both paths, keep no figures
    small.push(s)
    large.push(l)
    ratios.push(l / s)
  }
  const at1k = median(small)
  const at100k = median(large)
  const ratio = median(ratios)
  return {
    value: round(at100k),
    unit: 'µs/message (applyMessage + evaluate) with 100k messages in the log',
    goal: 1.2,
    goalOn: 'ratio',
    baseline: round(at1k),
    baselineIs: 'µs/message with 1k messages in the log (same method, members and message mix)',
    ratio: round(ratio),
    met: ratio <= 1.2,
    method: 'majority',
    members: MEMBERS,
    window,
    rounds: rounds - 2,
    logAtEnd: long.applied + long.rejected
  }
}

function ballots(kind: 'ranking' | 'choice', n: number, members: readonly string[]): object[] {
  const rnd = prng(7)
  const options = ['A', 'B', 'C', 'D', 'E']
  const out: object[] = []
  for (let i = 0; i < n; i++) {
    const ranking = [...options]
    for (let j = ranking.length - 1; j > 0; j--) {
      const k = Math.floor(rnd() * (j + 1))
      ;[ranking[j], ranking[k]] = [ranking[k]!, ranking[j]!]
    }
    const len = 2 + Math.floor(rnd() * 4)
    const base = { type: 'ballot', account: members[i]!, t: i + 1 }
    out.push(
      kind === 'ranking' ? { ...base, ranking: ranking.slice(0, len) } : { ...base, choice: ranking[0]! }
    )
  }
  return out
}

/** Validating a 100k-member configuration is not counting; it is timed apart. */
function timeTally(
  config: ConsensusConfig,
  msgs: readonly object[]
): { ms: number; createMs: number; tally: Tally } {
  const created = performance.now()
  const tally = createTally(config)
  const start = performance.now()
  for (const m of msgs) applyMessage(tally, m)
  evaluate(config, tally)
  return { ms: performance.now() - start, createMs: start - created, tally }
}

function schulze100k(quick: boolean): BenchFigure {
  const n = 100_000
  const members = memberIds(n)
  const base = { conversationId: 'bench-schulze', options: ['A', 'B', 'C', 'D', 'E'], members }
  const ranked = ballots('ranking', n, members)
  const firsts = ballots('choice', n, members)
  const schulzeConfig: ConsensusConfig = { ...base, method: 'schulze' }
  const pluralityConfig: ConsensusConfig = { ...base, method: 'plurality' }
  const reps = quick ? 3 : 5
  timeTally(schulzeConfig, ranked.slice(0, 5_000))
  const s: number[] = []
  const p: number[] = []
  const c: number[] = []
  let tally: Tally | null = null
  for (let r = 0; r < reps; r++) {
    const run = timeTally({ ...schulzeConfig }, ranked)
    s.push(run.ms)
    c.push(run.createMs)
    tally = run.tally
    p.push(timeTally({ ...pluralityConfig }, firsts).ms)
  }
  const evalStart = performance.now()
  const result = evaluate(schulzeConfig, tally!)
  const evalMs = performance.now() - evalStart
  const value = median(s)
  const baseline = median(p)
  return {
    value: round(value, 1),
    unit: 'ms to apply 100k ranked ballots (5 options) and evaluate Schulze',
    goal: 1000,
    goalOn: 'value',
    baseline: round(baseline, 1),
    baselineIs: 'ms to apply the same 100k ballots as plurality (first choices) and evaluate',
    ratio: round(value / baseline),
    met: value <= 1000,
    minMs: round(Math.min(...s), 1),
    evaluateMs: round(evalMs),
    createMs: round(median(c), 1),
    winner: result.outcome?.winners[0] ?? null,
    options: 5,
    ballots: n,
    reps
  }
}

function celEval(quick: boolean): BenchFigure {
  const members = memberIds(1_000)
  const base = { conversationId: 'bench-cel', options: OPTIONS, members }
  const cel: ConsensusConfig = {
    ...base,
    expr: 'voted * 2 > members && options.exists(o, counts[o] * 3 >= voted * 2) && objections == 0 && !expired'
  }
  const builtin: ConsensusConfig = { ...base, method: 'majority' }
  const msgs = take(stream(members, 5), 5_000)
  const celTally = createTally(cel)
  const builtinTally = createTally(builtin)
  for (const m of msgs) {
    applyMessage(celTally, m)
    applyMessage(builtinTally, m)
  }
  const n = quick ? 20_000 : 100_000
  const time = (config: ConsensusConfig): number => {
    const tally = config === cel ? celTally : builtinTally
    for (let i = 0; i < 2_000; i++) evaluate(config, tally)
    const start = performance.now()
    for (let i = 0; i < n; i++) evaluate(config, tally)
    return ((performance.now() - start) * 1000) / n
  }
  const value = median([time(cel), time(cel), time(cel)])
  const baseline = median([time(builtin), time(builtin), time(builtin)])
  return {
    value: round(value),
    unit: 'µs per predicate evaluation (variables built from the tally + CEL)',
    goal: 20,
    goalOn: 'value',
    baseline: round(baseline),
    baselineIs: 'µs per built-in majority evaluation of the same tally',
    ratio: round(value / baseline),
    met: value <= 20,
    expr: cel.expr,
    evaluations: n
  }
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, BenchFigure>> {
  return {
    P3: consensusCost(quick),
    consensus_schulze_100k: schulze100k(quick),
    consensus_cel_eval: celEval(quick)
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await run({ quick: process.argv.includes('--quick') })
  console.log(JSON.stringify(out, null, 2))
}
