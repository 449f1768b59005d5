import test from 'brittle'
import fc from 'fast-check'
import {
  applyMessage,
  type ConsensusConfig,
  closeTally,
  createTally,
  evaluate,
  recountTally,
  serializeTally,
  type TallyMessage,
  tallyHash
} from '../../consensus/index.js'
import {
  BALLOT_LABEL,
  ballotHash,
  digestAdd,
  digestSub,
  TIE_BREAK_LABEL,
  tieBreakKey
} from '../../consensus/digest.js'
import { labelledHash } from '../../src/kernel/crypto/hash.js'
import { members, msg, run } from './helpers.js'

const MEMBERS = members(5)
const OPTIONS = ['x', 'y', 'z']

test('rejections carry a reason and never throw', (t) => {
  const c: ConsensusConfig = { conversationId: 'c', method: 'majority', options: OPTIONS, members: MEMBERS }
  const r = run(c, [
    { type: 'ballot', account: 'm1', t: 1, choice: 'nope' },
    { type: 'ballot', account: 'm1', t: 1, choice: 7 },
    { type: 'ballot', account: 'm1', t: 1 },
    { type: 'ballot', account: 'm1', t: 1, choice: 'x', choices: ['x'] },
    { type: 'ballot', account: 'm1', t: 1, choices: ['x'] },
    { type: 'ballot', account: 'stranger', t: 1, choice: 'x' },
    { type: 'ballot', account: 'm1', t: -1, choice: 'x' },
    { type: 'vote', account: 'm1', t: 1 },
    { type: 'delegate', account: 'm1', t: 1, to: 'm2' },
    null,
    'ballot',
    { type: 'ballot', account: 'm1', t: 1, choice: 'x' }
  ])
  t.alike(
    r.rejections.map((x) => x?.reason ?? null),
    [
      'unknown-option',
      'malformed',
      'malformed',
      'malformed',
      'wrong-ballot-kind',
      'not-member',
      'malformed',
      'malformed',
      'delegation-disabled',
      'malformed',
      'malformed',
      null
    ]
  )
  t.is(r.tally.rejected, 11)
  t.is(r.tally.applied, 1)
  t.alike(r.result.outcome?.counts, { x: 1, y: 0, z: 0 })
})

test('scores keep every key: "__proto__" is an unknown option, not a prototype', (t) => {
  const c: ConsensusConfig = { conversationId: 'c', method: 'score', options: ['a'], members: MEMBERS }
  const tally = createTally(c)
  const hostile = JSON.parse('{"type":"ballot","account":"m1","t":1,"scores":{"__proto__":{"x":1}}}')
  t.is(applyMessage(tally, hostile)?.reason, 'malformed')
  const proto = JSON.parse('{"type":"ballot","account":"m1","t":1,"scores":{"__proto__":3}}')
  t.is(applyMessage(tally, proto)?.reason, 'unknown-option')
  const named: ConsensusConfig = { ...c, options: ['__proto__', 'constructor'] }
  const t2 = createTally(named)
  t.is(applyMessage(t2, proto), null, 'an option may be called __proto__')
  t.alike(evaluate(named, t2).outcome?.totals, JSON.parse('{"__proto__":3,"constructor":0}'))
  t.is(Object.getPrototypeOf(evaluate(named, t2).outcome?.totals), Object.prototype)
})

test('delegation: chains, direct ballots override, cycles cast nothing', (t) => {
  const c: ConsensusConfig = {
    conversationId: 'c',
    method: 'plurality',
    options: OPTIONS,
    members: MEMBERS,
    delegation: true
  }
  const tally = createTally(c)
  const apply = (m: object) => t.is(applyMessage(tally, m), null)
  apply(msg.delegate('m1', 'm2'))
  apply(msg.delegate('m2', 'm3'))
  apply(msg.choice('m3', 'x'))
  t.alike(tally.counts, [3, 0, 0], 'm1 → m2 → m3 all cast m3’s ballot')
  t.is(tally.voted, 3)
  apply(msg.choice('m2', 'y'))
  t.alike(tally.counts, [1, 2, 0], 'm2 votes directly and takes m1 along')
  apply(msg.choice('m3', 'z'))
  t.alike(tally.counts, [0, 2, 1], 'm3 changes its vote: only its own weight moves')
  apply(msg.retract('m2'))
  t.alike(tally.counts, [0, 0, 3], 'm2 withdraws: its delegation applies again')
  apply(msg.delegate('m3', 'm1'))
  t.alike(tally.counts, [0, 0, 3], 'm3 votes directly, so its own delegation is ignored')
  apply(msg.retract('m3'))
  t.alike(tally.counts, [0, 0, 0], 'm1 → m2 → m3 → m1 is a cycle: nobody votes')
  t.is(tally.voted, 0)
  apply(msg.delegate('m4', 'm1'))
  apply(msg.choice('m5', 'x'))
  t.alike(tally.counts, [1, 0, 0], 'm4 feeds into the cycle and casts nothing either')
  apply(msg.delegate('m3', null))
  t.alike(tally.counts, [1, 0, 0], 'breaking the cycle leaves nobody with a ballot on it')
  apply(msg.choice('m3', 'y'))
  t.alike(tally.counts, [1, 4, 0], 'm1, m2, m4 resolve to m3 again')
  t.is(applyMessage(tally, msg.delegate('m1', 'm1'))?.reason, 'self-delegation')
  t.is(applyMessage(tally, msg.delegate('m1', 'outsider'))?.reason, 'delegate-not-member')
  t.is(serializeTally(recountTally(c, [])), serializeTally(createTally(c)))
})

test('close: later ballots are rejected as closed; acks and heartbeats still apply', (t) => {
  const c: ConsensusConfig = { conversationId: 'c', method: 'majority', options: OPTIONS, members: MEMBERS }
  const tally = createTally(c)
  for (const m of ['m1', 'm2', 'm3']) applyMessage(tally, msg.choice(m, 'x'))
  t.is(evaluate(c, tally).reached, true)
  closeTally(tally)
  t.is(applyMessage(tally, msg.choice('m4', 'y'))?.reason, 'closed')
  t.is(applyMessage(tally, msg.object('m4'))?.reason, 'closed')
  t.is(applyMessage(tally, msg.ack('m4')), null)
  t.is(applyMessage(tally, msg.heartbeat('m4', 99)), null)
  t.is(tally.acks.size, 1)
  t.alike(evaluate(c, tally).outcome?.winners, ['x'])
})

test('logNow: the lower median of members’ latest clocks', (t) => {
  const c: ConsensusConfig = { conversationId: 'c', method: 'majority', options: OPTIONS, members: MEMBERS }
  const tally = createTally(c)
  applyMessage(tally, msg.heartbeat('m1', 1_000_000))
  applyMessage(tally, msg.heartbeat('m2', 2_000_000))
  t.is(tally.logNow, 0, 'two of five members cannot move time')
  applyMessage(tally, msg.heartbeat('m3', 10))
  t.is(tally.logNow, 10)
  applyMessage(tally, msg.heartbeat('m4', 50))
  t.is(tally.logNow, 50)
  applyMessage(tally, msg.heartbeat('m4', 5))
  t.is(tally.logNow, 50, 'a clock going back changes nothing')
  applyMessage(tally, msg.heartbeat('stranger', 10_000_000))
  t.is(tally.logNow, 50, 'non-members do not count')
  applyMessage(tally, msg.choice('m5', 'nope', 3_000_000))
  t.is(tally.logNow, 1_000_000, 'a rejected ballot still carries its author’s clock')
})

// ---- property-based -------------------------------------------------------

const account = fc.constantFrom(...MEMBERS, ...MEMBERS, 'stranger')
const option = fc.constantFrom(...OPTIONS, ...OPTIONS, 'bogus')
const time = fc.integer({ min: 0, max: 200 })

function ballotBody(kind: string): fc.Arbitrary<Record<string, unknown>> {
  switch (kind) {
    case 'choice':
      return fc.oneof(
        option.map((choice) => ({ choice })),
        fc.constant({ choice: 3 })
      )
    case 'choices':
      return fc.array(option, { maxLength: 4 }).map((choices) => ({ choices }))
    case 'ranking':
      return fc.array(option, { maxLength: 4 }).map((ranking) => ({ ranking }))
    default:
      return fc
        .array(fc.tuple(option, fc.integer({ min: -12, max: 12 })), { maxLength: 4 })
        .map((e) => ({ scores: Object.fromEntries(e) }))
  }
}

function messageArb(kind: string, withPublish: boolean): fc.Arbitrary<Record<string, unknown>> {
  const base = fc.record({ account, t: time })
  const arbs: Array<fc.Arbitrary<Record<string, unknown>>> = [
    fc.tuple(base, ballotBody(kind)).map(([b, body]) => ({ type: 'ballot', ...b, ...body })),
    fc.tuple(base, ballotBody(kind)).map(([b, body]) => ({ type: 'ballot', ...b, ...body })),
    base.map((b) => ({ type: 'retract', ...b })),
    base.map((b) => ({ type: 'objection', ...b, reason: 'r' })),
    base.map((b) => ({ type: 'withdraw-objection', ...b })),
    base.map((b) => ({ type: 'ack', ...b })),
    fc
      .tuple(base, fc.constantFrom(...MEMBERS, null, 'stranger'))
      .map(([b, to]) => ({ type: 'delegate', ...b, to })),
    fc.tuple(base, fc.constantFrom(...MEMBERS, null)).map(([b, to]) => ({ type: 'delegate', ...b, to })),
    base.map((b) => ({ type: 'heartbeat', ...b })),
    fc.constant({ type: 'ballot', account: 'm1' })
  ]
  if (withPublish) arbs.push(base.map((b) => ({ type: 'publish', ...b })))
  return fc.oneof(...arbs)
}

const CONFIGS: Array<[string, ConsensusConfig]> = [
  ['choice', { conversationId: 'p', method: 'majority', options: OPTIONS, members: MEMBERS, deadline: 150 }],
  ['choices', { conversationId: 'p', method: 'approval', options: OPTIONS, members: MEMBERS }],
  ['ranking', { conversationId: 'p', method: 'schulze', options: OPTIONS, members: MEMBERS }],
  [
    'scores',
    { conversationId: 'p', method: 'quadratic', options: OPTIONS, members: MEMBERS, params: { credits: 50 } }
  ],
  [
    'choice',
    { conversationId: 'p', expr: 'voted * 2 > members && top > second', options: OPTIONS, members: MEMBERS }
  ]
]

test('incremental tally equals a from-scratch recount (property)', (t) => {
  for (const [kind, base] of CONFIGS) {
    for (const delegation of [false, true]) {
      const config = { ...base, delegation }
      fc.assert(
        fc.property(fc.array(messageArb(kind, true), { maxLength: 60, size: 'max' }), (messages) => {
          const tally = createTally(config)
          for (const m of messages) applyMessage(tally, m)
          const again = recountTally(config, messages)
          if (serializeTally(tally) !== serializeTally(again)) return false
          return JSON.stringify(evaluate(config, tally)) === JSON.stringify(evaluate(config, again))
        }),
        { numRuns: 150 }
      )
      t.pass(`${config.method ?? 'cel'} (${kind}) delegation=${delegation}`)
    }
  }
})

test('the same linearization gives the same hash, whatever the order of arrival (property)', (t) => {
  const [, config] = CONFIGS[0]!
  const linearize = (entries: Array<{ id: number; m: Record<string, unknown> }>) =>
    [...entries]
      .sort((a, b) => {
        const ka = `${a.m.account}`
        const kb = `${b.m.account}`
        const ta = typeof a.m.t === 'number' ? a.m.t : -1
        const tb = typeof b.m.t === 'number' ? b.m.t : -1
        return ta - tb || (ka < kb ? -1 : ka > kb ? 1 : 0) || a.id - b.id
      })
      .map((e) => e.m)
  fc.assert(
    fc.property(
      fc.array(messageArb('choice', true), { maxLength: 40, size: 'max' }).chain((ms) =>
        fc.tuple(
          fc.constant(ms),
          fc.shuffledSubarray(
            ms.map((_, i) => i),
            { minLength: ms.length, maxLength: ms.length }
          )
        )
      ),
      ([messages, arrival]) => {
        const entries = messages.map((m, id) => ({ id, m }))
        const a = createTally(config)
        for (const m of linearize(entries)) applyMessage(a, m)
        const b = createTally(config)
        for (const m of linearize(arrival.map((i) => entries[i]!))) applyMessage(b, m)
        return tallyHash(a) === tallyHash(b)
      }
    ),
    { numRuns: 200 }
  )
  t.pass()
})

test('interleavings that keep each author’s order give the same hash (property)', (t) => {
  for (const [kind, base] of CONFIGS) {
    const config = { ...base, delegation: true }
    fc.assert(
      fc.property(
        fc.array(messageArb(kind, false), { maxLength: 50, size: 'max' }),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        (messages, schedule) => {
          // Merge the per-author queues in an order the schedule picks.
          const queues = new Map<string, Array<Record<string, unknown>>>()
          for (const m of messages) {
            const key = String(m.account)
            if (!queues.has(key)) queues.set(key, [])
            queues.get(key)!.push(m)
          }
          const merged: Array<Record<string, unknown>> = []
          let s = 0
          while (merged.length < messages.length) {
            const live = [...queues.values()].filter((q) => q.length > 0)
            merged.push(live[schedule[s++ % schedule.length]! % live.length]!.shift()!)
          }
          const a = createTally(config)
          for (const m of messages) applyMessage(a, m)
          const b = createTally(config)
          for (const m of merged) applyMessage(b, m)
          return (
            tallyHash(a) === tallyHash(b) &&
            JSON.stringify(evaluate(config, a)) === JSON.stringify(evaluate(config, b))
          )
        }
      ),
      { numRuns: 150 }
    )
    t.pass(kind)
  }
})

test('applyMessage never throws, whatever it is given (property)', (t) => {
  const config = { ...CONFIGS[3]![1], delegation: true }
  const tally = createTally(config)
  fc.assert(
    fc.property(fc.oneof(fc.anything(), messageArb('scores', true)), (m) => {
      applyMessage(tally, m as TallyMessage)
      evaluate(config, tally)
      return true
    }),
    { numRuns: 500 }
  )
  t.pass()
})

test('the tally hash changes with the state and is hex BLAKE2b-256', (t) => {
  const c = CONFIGS[0]![1]
  const a = createTally(c)
  const h0 = tallyHash(a)
  applyMessage(a, msg.choice('m1', 'x', 1))
  const h1 = tallyHash(a)
  t.not(h0, h1)
  t.ok(/^[0-9a-f]{64}$/.test(h1))
  applyMessage(a, msg.choice('m1', 'y', 2))
  applyMessage(a, msg.choice('m1', 'x', 2))
  const b = createTally(c)
  applyMessage(b, msg.choice('m1', 'x', 2))
  t.is(tallyHash(a), tallyHash({ ...b, applied: 3 }), 'only history counters differ from a single ballot')
})

test('ballot and tie-break hashes are exactly labelledHash over the documented parts (property)', (t) => {
  const lp = (s: string): Uint8Array => {
    const b = Buffer.from(s, 'utf8')
    const out = Buffer.alloc(4 + b.length)
    out.writeUInt32BE(b.length)
    b.copy(out, 4)
    return out
  }
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (a, b, digest) => {
        const ballot = Buffer.from(ballotHash(a, b)).toString('hex')
        const expected = labelledHash(BALLOT_LABEL, [lp(a), lp(b)]).toString('hex')
        const tie = tieBreakKey(a, digest, b)
        const expectedTie = labelledHash(TIE_BREAK_LABEL, [lp(a), digest, lp(b)]).toString('hex')
        return ballot === expected && tie === expectedTie
      }
    ),
    { numRuns: 300 }
  )
  t.pass()
})

test('the ballot digest is an order-free sum: adding and removing in any order (property)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 12 }), (hashes) => {
      const a = new Uint8Array(32)
      for (const h of hashes) digestAdd(a, h)
      const b = new Uint8Array(32)
      for (const h of [...hashes].reverse()) digestAdd(b, h)
      if (Buffer.compare(a, b) !== 0) return false
      for (const h of hashes) digestSub(a, h)
      return a.every((x) => x === 0)
    })
  )
  t.pass()
})
