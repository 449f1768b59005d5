import test from 'brittle'
import {
  applyMessage,
  type ConsensusConfig,
  createTally,
  serializeTally,
  type Tally,
  type TallyMessage,
  tallyHash
} from '../../consensus/index.js'
import {
  CHECKPOINT_EVERY,
  chainNext,
  chainStart,
  cloneTally,
  type InputSource,
  TallyCache
} from '../../conversations/tally-cache.js'
import { prng } from '../helpers/prng.js'

const OPTIONS = ['a', 'b', 'c', 'd']
const MEMBERS = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']
// ranked ballots and delegation: the pairwise matrix, weights and delegation maps all move
const CONFIG: ConsensusConfig = Object.freeze({
  conversationId: 'cnv_test',
  method: 'schulze',
  options: OPTIONS,
  members: MEMBERS,
  delegation: true
})
const DIGEST = '00'.repeat(32)

function randomMessage(r: () => number, t: number): TallyMessage {
  const account = MEMBERS[Math.floor(r() * MEMBERS.length)]!
  const roll = r()
  if (roll < 0.45) {
    const ranking = [...OPTIONS].sort(() => r() - 0.5).slice(0, 1 + Math.floor(r() * OPTIONS.length))
    return { type: 'ballot', account, t, ranking }
  }
  if (roll < 0.6)
    return { type: 'delegate', account, t, to: r() < 0.2 ? null : MEMBERS[Math.floor(r() * MEMBERS.length)]! }
  if (roll < 0.7) return { type: 'retract', account, t }
  if (roll < 0.8) return { type: 'objection', account, t, reason: 'no' }
  if (roll < 0.85) return { type: 'withdraw-objection', account, t }
  if (roll < 0.92) return { type: 'ack', account, t }
  // an unknown option: the tally rejects it, as apply would never feed it
  if (roll < 0.95) return { type: 'ballot', account, t, ranking: ['z'] }
  return { type: 'heartbeat', account, t }
}

/** The view's input log, as apply writes it: each accepted message with the chain after it. */
class Log implements InputSource {
  entries: Array<{ m: TallyMessage; c: string }> = []
  get head(): string {
    return this.entries.at(-1)?.c ?? chainStart(DIGEST)
  }
  async chainAt(n: number): Promise<string | null> {
    if (n === 0) return chainStart(DIGEST)
    return this.entries[n - 1]?.c ?? null
  }
  async *inputs(from: number, to: number): AsyncIterable<{ m: TallyMessage; c: string }> {
    for (let i = from; i < Math.min(to, this.entries.length); i++) yield this.entries[i]!
  }
}

function replay(entries: Array<{ m: TallyMessage }>): Tally {
  const t = createTally(CONFIG)
  for (const e of entries) applyMessage(t, e.m)
  return t
}

test('the cached tally equals a fresh replay through appends, rejections and reorders', async (t) => {
  const r = prng(7)
  const log = new Log()
  const cache = new TallyCache(CONFIG, DIGEST)
  let clock = 1
  let reorders = 0
  let compared = 0
  for (let step = 0; step < 6000; step++) {
    if (step > 0 && r() < 0.01) {
      // autobase truncates the unindexed tip and applies another order: some inputs go, others come
      // mostly a short tip; now and then a deep one (a long partition healing)
      const depth = Math.floor(r() * (r() < 0.1 ? 300 : 40))
      const keep = Math.max(0, log.entries.length - depth)
      log.entries.length = keep
      reorders++
    }
    const tally = await cache.take(log, log.entries.length, log.head)
    if (step % 197 === 0) {
      t.is(tallyHash(tally), tallyHash(replay(log.entries)), `step ${step}: same tally as a replay`)
      compared++
    }
    const m = randomMessage(r, clock++)
    if (applyMessage(tally, m) !== null) continue // not given back: the next take rebuilds
    const c = chainNext(log.head, m)
    log.entries.push({ m, c })
    cache.commit(tally, log.entries.length, c)
  }
  const last = await cache.take(log, log.entries.length, log.head)
  t.is(serializeTally(last), serializeTally(replay(log.entries)), 'the final tally equals a replay')
  t.comment(`${reorders} reorders, ${compared} comparisons, stats ${JSON.stringify(cache.stats)}`)
  t.ok(cache.stats.hits > 5000, 'most messages were answered from memory')
  t.ok(cache.stats.fromCheckpoint > 0, 'reorders started from checkpoints')
  // from the start, a rebuild would replay about half the final log on average here
  t.ok(
    cache.stats.replayed < 2 * CHECKPOINT_EVERY * cache.stats.rebuilds,
    `replays stayed near the tip (${(cache.stats.replayed / cache.stats.rebuilds).toFixed(1)} inputs per rebuild)`
  )
  t.ok(log.entries.length > 20 * CHECKPOINT_EVERY, `the log grew long (${log.entries.length} inputs)`)
})

test('a tally the cache was not given back is rebuilt, not reused', async (t) => {
  const log = new Log()
  const cache = new TallyCache(CONFIG, DIGEST)
  const first = await cache.take(log, 0, log.head)
  const m: TallyMessage = { type: 'ballot', account: 'm1', t: 1, ranking: ['a'] }
  applyMessage(first, m)
  // apply failed after feeding the tally: nothing is committed, nothing is appended
  const again = await cache.take(log, 0, log.head)
  t.not(again, first, 'a new tally')
  t.is(again.applied, 0, 'without the half-applied message')
  t.is(cache.stats.rebuilds, 2)
  await t.exception(
    () => cache.take(log, 1, 'ff'.repeat(32)),
    /chain/,
    'an input log that does not match the state is an error'
  )
})

test('cloneTally copies every figure, and the copy evolves like the original', (t) => {
  const r = prng(11)
  const a = createTally(CONFIG)
  for (let i = 1; i < 400; i++) applyMessage(a, randomMessage(r, i))
  const b = cloneTally(a)!
  t.ok(b, 'cloned')
  t.is(serializeTally(b), serializeTally(a), 'same serialization')
  for (let i = 400; i < 600; i++) {
    const m = randomMessage(r, i)
    if (JSON.stringify(applyMessage(b, m)) !== JSON.stringify(applyMessage(a, m))) t.fail(`diverged at ${i}`)
  }
  t.is(tallyHash(b), tallyHash(a), 'same hash after 200 more messages each')
  t.ok(a.direct > 0 && a.delegations.size > 0, 'the run had ballots and delegations')
})
