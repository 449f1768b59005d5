import test from 'brittle'
import { labelledHash } from '../../src/kernel/crypto/hash.js'
import { type ConsensusConfig, createTally, evaluate, validateConfig } from '../../consensus/index.js'
import { codeOf, members, msg, run, tick, winners } from './helpers.js'

const M5 = members(5)

function cfg(method: string, extra: Partial<ConsensusConfig> = {}): ConsensusConfig {
  return { conversationId: 'conv-1', method, options: ['yes', 'no'], members: M5, ...extra }
}

test('majority: more than half of all members decides at once', (t) => {
  const r = run(cfg('majority'), [msg.choice('m1', 'yes'), msg.choice('m2', 'yes'), msg.choice('m3', 'yes')])
  t.is(r.result.reached, true)
  t.alike(winners(r.result), ['yes'])
  const two = run(cfg('majority'), [msg.choice('m1', 'yes'), msg.choice('m2', 'yes'), msg.choice('m3', 'no')])
  t.is(two.result.reached, false, '2 of 5 members is not yet decisive and the poll is open')
  t.is(two.result.outcome?.leading, 'yes')
})

test('majority: more than half of the votes cast once the deadline passed', (t) => {
  const c = cfg('majority', { deadline: 100 })
  const votes = [msg.choice('m1', 'yes', 1), msg.choice('m2', 'yes', 1), msg.choice('m3', 'no', 1)]
  t.is(run(c, votes).result.reached, false, 'before the deadline')
  const after = run(c, [...votes, ...tick(['m1', 'm2', 'm3'], 100)])
  t.is(after.result.reached, true, '2 of 3 cast after the deadline')
  t.alike(winners(after.result), ['yes'])
  t.is(after.result.outcome?.deadlinePassed, true)
  const minority = run(c, [...votes, ...tick(['m1', 'm2'], 100)])
  t.is(minority.result.reached, false, 'two of five clocks past the deadline do not move log time')
})

test('majority: exactly half is not a majority; a tie never is', (t) => {
  const c = { ...cfg('majority'), members: members(4) }
  const r = run(c, [
    msg.choice('m1', 'yes'),
    msg.choice('m2', 'yes'),
    msg.choice('m3', 'no'),
    msg.choice('m4', 'no')
  ])
  t.is(r.result.reached, false)
  t.alike(winners(r.result), [])
  t.alike(r.result.outcome?.tied, r.result.outcome?.leading === 'yes' ? ['yes', 'no'] : ['no', 'yes'])
})

test('majority: quorum edges', (t) => {
  const c = cfg('majority', { deadline: 10, params: { quorum: 4 } })
  const three = [msg.choice('m1', 'yes', 1), msg.choice('m2', 'yes', 1), msg.choice('m3', 'no', 1)]
  const late = tick(['m1', 'm2', 'm3', 'm4', 'm5'], 10)
  const r3 = run(c, [...three, ...late])
  t.is(r3.result.reached, false, 'three votes, quorum four')
  t.is(r3.result.outcome?.quorumMet, false)
  const r4 = run(c, [...three, msg.choice('m4', 'no', 1), ...late])
  t.is(r4.result.reached, false, 'quorum met but 2–2')
  const r4b = run(c, [...three, msg.choice('m4', 'yes', 1), ...late])
  t.is(r4b.result.reached, true, 'quorum exactly met, 3 of 4')
  t.alike(winners(r4b.result), ['yes'])
})

test('majority: a changed vote replaces the old one', (t) => {
  const r = run(cfg('majority'), [
    msg.choice('m1', 'yes'),
    msg.choice('m2', 'yes'),
    msg.choice('m3', 'yes'),
    msg.choice('m3', 'no')
  ])
  t.is(r.result.reached, false)
  t.alike(r.result.outcome?.counts, { yes: 2, no: 1 })
})

test('supermajority: at least n/d, of members early or of votes at the deadline', (t) => {
  const six = members(6)
  const c = { ...cfg('supermajority', { deadline: 50 }), members: six }
  const early = run(
    c,
    ['m1', 'm2', 'm3', 'm4'].map((m) => msg.choice(m, 'yes', 1))
  )
  t.is(early.result.reached, true, '4 of 6 members is 2/3')
  const three = run(c, [
    ...['m1', 'm2', 'm3'].map((m) => msg.choice(m, 'yes', 1)),
    msg.choice('m4', 'no', 1),
    msg.choice('m5', 'no', 1)
  ])
  t.is(three.result.reached, false)
  const late = tick(six, 50)
  const r35 = run(c, [
    ...['m1', 'm2', 'm3'].map((m) => msg.choice(m, 'yes', 1)),
    msg.choice('m4', 'no', 1),
    msg.choice('m5', 'no', 1),
    ...late
  ])
  t.is(r35.result.reached, false, '3 of 5 cast is below 2/3')
  const r23 = run(c, [
    msg.choice('m1', 'yes', 1),
    msg.choice('m2', 'yes', 1),
    msg.choice('m3', 'no', 1),
    ...late
  ])
  t.is(r23.result.reached, true, 'exactly 2 of 3 cast is at least 2/3')
  t.alike(winners(r23.result), ['yes'])
  t.is(
    codeOf(() => validateConfig(cfg('supermajority', { params: { n: 1, d: 2 } }))),
    'CONSENSUS_PARAMS_INVALID'
  )
  t.is(
    codeOf(() => validateConfig(cfg('supermajority', { params: { n: 4, d: 3 } }))),
    'CONSENSUS_PARAMS_INVALID'
  )
  const r34 = run(
    cfg('supermajority', { params: { n: 3, d: 4 } }),
    ['m1', 'm2', 'm3'].map((m) => msg.choice(m, 'yes'))
  )
  t.is(r34.result.reached, false, '3 of 5 members is below 3/4')
})

test('unanimity: every member, same option, no objection', (t) => {
  const c = { ...cfg('unanimity'), members: members(3) }
  const all = ['m1', 'm2', 'm3'].map((m) => msg.choice(m, 'yes'))
  t.is(run(c, all).result.reached, true)
  t.is(run(c, all.slice(0, 2)).result.reached, false)
  t.is(run(c, [...all.slice(0, 2), msg.choice('m3', 'no')]).result.reached, false)
  t.is(run(c, [...all, msg.object('m2')]).result.reached, false, 'an objection blocks')
  t.is(run(c, [...all, msg.object('m2'), msg.withdraw('m2')]).result.reached, true)
})

test('consent: all answered, no objection', (t) => {
  const c = { ...cfg('consent'), options: ['proposal'], members: members(3) }
  const base = [msg.choice('m1', 'proposal'), msg.ack('m2'), msg.object('m3', 'too costly')]
  const r = run(c, base)
  t.is(r.result.reached, false)
  t.is(r.result.outcome?.answered, 3)
  t.is(r.result.outcome?.objections, 1)
  const ok = run(c, [...base, msg.withdraw('m3')])
  t.is(ok.result.reached, false, 'withdrawing leaves m3 unanswered')
  const ok2 = run(c, [...base, msg.withdraw('m3'), msg.ack('m3')])
  t.is(ok2.result.reached, true)
  t.alike(winners(ok2.result), ['proposal'])
  t.is(run(c, base.slice(0, 2)).result.reached, false, 'one member has not answered')
})

test('lazy-consensus: no objection by the deadline; needs a deadline', (t) => {
  const c = { ...cfg('lazy-consensus', { deadline: 1000 }), options: ['proposal'] }
  t.is(run(c, tick(M5, 999)).result.reached, false)
  const passed = run(c, tick(M5.slice(0, 3), 1000))
  t.is(passed.result.reached, true, 'silence by the deadline (majority of clocks past it)')
  t.alike(winners(passed.result), ['proposal'])
  t.is(run(c, [msg.object('m4', 'wait', 5), ...tick(M5, 1000)]).result.reached, false)
  t.is(run(c, [msg.object('m4', 'wait', 5), msg.withdraw('m4', 6), ...tick(M5, 1000)]).result.reached, true)
  t.is(
    codeOf(() => validateConfig({ ...c, deadline: undefined })),
    'CONSENSUS_PARAMS_INVALID'
  )
  const lenient = createTally({ ...c, deadline: undefined })
  const r = evaluate(lenient.config, lenient)
  t.is(r.unsupported, true, 'a received manifest without a deadline is unsupported, not guessed')
})

test('opt-in: accept ≥ target; every option over it wins, most first', (t) => {
  const c = { ...cfg('opt-in', { params: { target: 2 } }), options: ['dinner', 'hike'] }
  t.is(run(c, [msg.choice('m1', 'dinner')]).result.reached, false)
  const r = run(c, [msg.choice('m1', 'dinner'), msg.choice('m2', 'dinner')])
  t.is(r.result.reached, true)
  t.alike(winners(r.result), ['dinner'])
  const both = run(c, [
    msg.choice('m1', 'hike'),
    msg.choice('m2', 'hike'),
    msg.choice('m3', 'hike'),
    msg.choice('m4', 'dinner'),
    msg.choice('m5', 'dinner')
  ])
  t.alike(winners(both.result), ['hike', 'dinner'])
  t.is(
    codeOf(() => validateConfig({ ...c, params: {} })),
    'CONSENSUS_PARAMS_INVALID',
    'target is required'
  )
  t.is(
    codeOf(() => validateConfig({ ...c, params: { target: 2, tagret: 3 } })),
    'CONSENSUS_PARAMS_INVALID'
  )
})

test('plurality: most votes; early once the lead cannot be caught', (t) => {
  const c = { ...cfg('plurality'), options: ['a', 'b', 'c'] }
  const r = run(c, [msg.choice('m1', 'a'), msg.choice('m2', 'a'), msg.choice('m3', 'a')])
  t.is(r.result.reached, true, '3 > 0 + 2 remaining')
  const open = run(c, [msg.choice('m1', 'a'), msg.choice('m2', 'a'), msg.choice('m3', 'b')])
  t.is(open.result.reached, false, '2 > 1 + 2 is false')
  const all = run(c, [
    msg.choice('m1', 'a'),
    msg.choice('m2', 'a'),
    msg.choice('m3', 'b'),
    msg.choice('m4', 'c'),
    msg.choice('m5', 'b')
  ])
  t.is(all.result.reached, true, 'everyone voted: a tie between a and b')
  t.alike([...(all.result.outcome?.tied as string[])].sort(), ['a', 'b'])
  t.is(winners(all.result).length, 1)
  t.ok(['a', 'b'].includes(winners(all.result)[0]!))
  t.is(run({ ...c, params: { quorum: 1 } }, []).result.reached, false)
  const q = { ...c, members: members(4), deadline: 10, params: { quorum: 3 } }
  const late = tick(members(4), 10)
  t.is(
    run(q, [msg.choice('m1', 'a', 1), msg.choice('m2', 'b', 1), ...late]).result.reached,
    false,
    '2 < quorum 3'
  )
  const q3 = run(q, [msg.choice('m1', 'a', 1), msg.choice('m2', 'b', 1), msg.choice('m3', 'b', 1), ...late])
  t.is(q3.result.reached, true, 'quorum exactly met at the deadline')
  t.alike(winners(q3.result), ['b'])
})

/** The documented tie-break, computed here from its definition rather than from the library. */
function expectedTieWinner(conversationId: string, ballots: Array<[string, string]>, tied: string[]): string {
  const lp = (s: string): Uint8Array => {
    const b = Buffer.from(s, 'utf8')
    const out = Buffer.alloc(4 + b.length)
    out.writeUInt32BE(b.length)
    b.copy(out, 4)
    return out
  }
  let sum = 0n
  for (const [account, canon] of ballots) {
    const h = labelledHash('conclave/consensus/ballot/v1', [lp(account), lp(canon)])
    sum += BigInt(`0x${Buffer.from(h).reverse().toString('hex')}`)
  }
  sum %= 2n ** 256n
  const digest = Buffer.from(sum.toString(16).padStart(64, '0'), 'hex').reverse()
  const keyed = tied.map((o) => ({
    o,
    key: labelledHash('conclave/consensus/tie-break/v1', [lp(conversationId), digest, lp(o)]).toString('hex')
  }))
  keyed.sort((a, b) => (a.key < b.key ? -1 : 1))
  return keyed[0]!.o
}

test('ties break by the documented hash, whatever the order of options or arrival', (t) => {
  for (const conv of ['conv-1', 'conv-2', 'conv-3', 'conv-4', 'conv-5', 'conv-6']) {
    const votes: Array<[string, string]> = [
      ['m1', 'a'],
      ['m2', 'b'],
      ['m3', 'a'],
      ['m4', 'b']
    ]
    const c: ConsensusConfig = {
      conversationId: conv,
      method: 'plurality',
      options: ['a', 'b', 'c'],
      members: members(4)
    }
    const expected = expectedTieWinner(
      conv,
      votes.map(([m, o]) => [m, `{"choice":${JSON.stringify(o)}}`]),
      ['a', 'b']
    )
    const r1 = run(
      c,
      votes.map(([m, o]) => msg.choice(m, o))
    )
    const r2 = run(
      { ...c, options: ['c', 'b', 'a'] },
      [...votes].reverse().map(([m, o]) => msg.choice(m, o))
    )
    t.alike(winners(r1.result), [expected], conv)
    t.alike(winners(r2.result), [expected], `${conv} reordered`)
  }
})

test('approval: most approvals; nobody approving wins nothing', (t) => {
  const c = { ...cfg('approval'), options: ['a', 'b', 'c'], members: members(3) }
  const r = run(c, [msg.choices('m1', ['a', 'b']), msg.choices('m2', ['b']), msg.choices('m3', ['c', 'b'])])
  t.is(r.result.reached, true)
  t.alike(winners(r.result), ['b'])
  t.alike(r.result.outcome?.approvals, { a: 1, b: 3, c: 1 })
  const none = run(c, [msg.choices('m1', []), msg.choices('m2', []), msg.choices('m3', [])])
  t.is(none.result.reached, false)
  const early = run({ ...c, members: members(5) }, [
    msg.choices('m1', ['a']),
    msg.choices('m2', ['a']),
    msg.choices('m3', ['a'])
  ])
  t.is(early.result.reached, true, '3 > 0 + 2')
  const r2 = run(c, [msg.choices('m1', ['a', 'a'])])
  t.is(r2.rejections[0]?.reason, 'duplicate-option')
})

test('score: totals in range; out-of-range ballots rejected', (t) => {
  const c = { ...cfg('score', { params: { min: 0, max: 5 } }), options: ['a', 'b'], members: members(3) }
  const r = run(c, [
    msg.scores('m1', { a: 5, b: 1 }),
    msg.scores('m2', { a: 0, b: 5 }),
    msg.scores('m3', { b: 2 })
  ])
  t.alike(r.result.outcome?.totals, { a: 5, b: 8 })
  t.alike(winners(r.result), ['b'])
  const bad = run(c, [msg.scores('m1', { a: 6 }), msg.scores('m2', { a: -1 }), msg.scores('m3', { a: 1.5 })])
  t.alike(
    bad.rejections.map((x) => x?.reason),
    ['score-out-of-range', 'score-out-of-range', 'malformed']
  )
  t.is(
    codeOf(() => validateConfig({ ...c, params: { min: 5, max: 5 } })),
    'CONSENSUS_PARAMS_INVALID'
  )
  const early = run({ ...c, members: members(4) }, [
    msg.scores('m1', { a: 5 }),
    msg.scores('m2', { a: 5 }),
    msg.scores('m3', { a: 1 })
  ])
  t.is(early.result.reached, true, '11 > 0 + 1·5')
  const notYet = run({ ...c, members: members(4) }, [msg.scores('m1', { a: 5 }), msg.scores('m2', { b: 1 })])
  t.is(notYet.result.reached, false, '5 > 1 + 2·5 is false')
})

test('quadratic: Σ v² ≤ credits; over-budget ballots rejected; negative votes count', (t) => {
  const c = {
    ...cfg('quadratic', { params: { credits: 100 } }),
    options: ['a', 'b', 'c'],
    members: members(3)
  }
  const r = run(c, [
    msg.scores('m1', { a: 10 }),
    msg.scores('m2', { a: 6, b: 8 }),
    msg.scores('m3', { a: -7, b: 7 }),
    msg.scores('m3', { a: 7, b: 7, c: 2 })
  ])
  t.alike(
    r.rejections.map((x) => x?.reason ?? null),
    [null, null, null, 'over-budget']
  )
  t.alike(r.result.outcome?.totals, { a: 9, b: 15, c: 0 })
  t.alike(winners(r.result), ['b'])
  const huge = run(c, [msg.scores('m1', { a: 2 ** 52 })])
  t.is(huge.rejections[0]?.reason, 'over-budget')
  t.is(run(c, [msg.choice('m1', 'a')]).rejections[0]?.reason, 'wrong-ballot-kind')
})

test('time-poll: the slot most can make, at least min', (t) => {
  const c = {
    ...cfg('time-poll', { params: { min: 3 } }),
    options: ['mon', 'tue', 'wed'],
    members: members(4)
  }
  const r = run(c, [
    msg.choices('m1', ['mon', 'tue']),
    msg.choices('m2', ['tue']),
    msg.choices('m3', ['tue', 'wed']),
    msg.choices('m4', ['wed'])
  ])
  t.is(r.result.reached, true)
  t.alike(winners(r.result), ['tue'])
  const thin = run(c, [
    msg.choices('m1', ['mon']),
    msg.choices('m2', ['tue']),
    msg.choices('m3', ['mon']),
    msg.choices('m4', ['wed'])
  ])
  t.is(thin.result.reached, false, 'two can make Monday, three are needed')
})

test('announcement: closes on publish by the author; acks tracked', (t) => {
  const c = { ...cfg('announcement', { params: { author: 'm1' } }), options: ['notice'] }
  t.is(run(c, [msg.publish('m2')]).result.reached, false, 'only the author publishes')
  const r = run(c, [msg.ack('m3'), msg.publish('m1', 7), msg.ack('m4')])
  t.is(r.result.reached, true)
  t.is(r.result.outcome?.publishedBy, 'm1')
  t.is(r.result.outcome?.acks, 2)
  t.is(r.result.outcome?.pendingAcks, 2)
  t.is(
    codeOf(() => validateConfig({ ...c, params: { author: 'stranger' } })),
    'CONSENSUS_PARAMS_INVALID'
  )
  const any = run({ ...c, params: {} }, [msg.publish('m4')])
  t.is(any.result.outcome?.publishedBy, 'm4')
})

test('evaluate over the same tally with a compatible configuration', (t) => {
  const c = cfg('majority')
  const r = run(c, [msg.choice('m1', 'yes'), msg.choice('m2', 'no'), msg.choice('m3', 'yes')])
  const alt = evaluate(cfg('plurality'), r.tally)
  t.is(alt.unsupported, undefined)
  t.is(alt.outcome?.leading, 'yes')
  const other = evaluate(cfg('approval'), r.tally)
  t.is(other.unsupported, true, 'approval counts another ballot form')
  t.is(
    codeOf(() => evaluate({ ...c, conversationId: 'other' }, r.tally)),
    'CONSENSUS_CONFIG_INVALID'
  )
})
