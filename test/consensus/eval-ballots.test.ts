import test from 'brittle'
import { evalBallotsText, parseParams } from '../../consensus/index.js'
import { codeOf } from './helpers.js'

const jsonl = (...rows: object[]): string => rows.map((r) => JSON.stringify(r)).join('\n')

function errorOf(fn: () => unknown): { code?: string; message?: string; data?: { line?: number } } | null {
  try {
    fn()
    return null
  } catch (err) {
    return err as { code?: string; message?: string; data?: { line?: number } }
  }
}

test('eval: majority over a file, options inferred, evaluated as a closed poll', (t) => {
  const text = jsonl(
    { voter: 'ann', choice: 'yes' },
    { voter: 'bob', choice: 'no' },
    { voter: 'cy', choice: 'yes' },
    { voter: 'dee', choice: 'yes' }
  )
  const r = evalBallotsText(text, { method: 'majority', members: 5 })
  t.is(r.reached, true, '3 of 4 cast (and of 5 members)')
  t.alike(r.winners, ['yes'])
  t.alike(r.outcome?.counts, { yes: 3, no: 1 })
  t.is(r.absent, 1)
  t.is(r.voters, 4)
  t.alike(JSON.parse(JSON.stringify(r)).winners, ['yes'], 'the result is plain JSON')
  const q = evalBallotsText(text, { method: 'majority', members: 5, params: parseParams(['quorum=5']) })
  t.is(q.reached, false, 'quorum of 5 with 4 voters')
})

test('eval: every ballot form', (t) => {
  const approval = evalBallotsText(jsonl({ voter: 1, choices: ['a', 'b'] }, { voter: 2, choices: ['b'] }), {
    method: 'approval',
    members: 2
  })
  t.alike(approval.winners, ['b'])
  const ranked = evalBallotsText(
    jsonl(
      { voter: 'x', ranking: ['a', 'b', 'c'] },
      { voter: 'y', ranking: ['b', 'a'] },
      { voter: 'z', ranking: ['a', 'c'] }
    ),
    { method: 'schulze', members: 3 }
  )
  t.alike(ranked.winners, ['a'])
  const scored = evalBallotsText(
    jsonl({ voter: 'x', scores: { a: 2, b: 5 } }, { voter: 'y', scores: { a: 2 } }),
    {
      method: 'score',
      members: 2
    }
  )
  t.alike(scored.winners, ['b'])
  const quad = evalBallotsText(
    jsonl({ voter: 'x', scores: { a: 9, b: -4 } }, { voter: 'y', scores: { b: 8 } }),
    {
      method: 'quadratic',
      members: 2
    }
  )
  t.alike(quad.outcome?.totals, { a: 9, b: 4 })
  const consent = evalBallotsText(
    jsonl({ voter: 'x', choice: 'plan' }, { voter: 'y', objection: 'costly' }),
    {
      method: 'consent',
      members: 2
    }
  )
  t.is(consent.reached, false)
  t.is(consent.outcome?.objections, 1)
})

test('eval: a CEL predicate', (t) => {
  const r = evalBallotsText(jsonl({ voter: 'x', choice: 'go' }, { voter: 'y', choice: 'go' }), {
    expr: 'counts["go"] == members',
    members: 2
  })
  t.is(r.reached, true)
  t.alike(r.winners, ['go'])
  t.is(
    codeOf(() => evalBallotsText('', { expr: 'leader.matches("x")', members: 2 })),
    'CONSENSUS_PREDICATE_INVALID'
  )
})

test('eval: bad ballots are rejected with their line; the rest still counts', (t) => {
  const text = [
    JSON.stringify({ voter: 'a', choice: 'yes' }),
    '',
    JSON.stringify({ voter: 'b', choice: 42 }),
    JSON.stringify({ voter: 'c', choice: 'pizza' }),
    JSON.stringify({ voter: 'd', ranking: ['yes'] }),
    JSON.stringify({ voter: 'e', choice: 'no' })
  ].join('\n')
  const r = evalBallotsText(text, { method: 'plurality', members: 4, options: ['yes', 'no'] })
  t.alike(
    r.rejected.map((x) => [x.line, x.reason]),
    [
      [3, 'malformed'],
      [4, 'unknown-option'],
      [5, 'wrong-ballot-kind'],
      [6, 'not-member']
    ]
  )
  t.is(r.lines, 5)
  const quad = evalBallotsText(jsonl({ voter: 'a', scores: { x: 10, y: 1 } }), {
    method: 'quadratic',
    members: 1
  })
  t.alike(quad.rejected, [{ line: 1, reason: 'over-budget', detail: 'costs 101, budget 100' }])
})

test('eval: a line that is not JSON or not a ballot shape throws, naming the line', (t) => {
  const cases: Array<[string, number]> = [
    [`${jsonl({ voter: 'a', choice: 'x' })}\n{"voter": "b", "choice": `, 2],
    [`${jsonl({ voter: 'a', choice: 'x' })}\n\n[1, 2]`, 3],
    ['"just a string"', 1],
    [jsonl({ choice: 'x' }), 1],
    [jsonl({ voter: '', choice: 'x' }), 1],
    [jsonl({ voter: 'a' }), 1],
    [jsonl({ voter: 'a', choice: 'x', choices: ['x'] }), 1],
    [jsonl({ voter: 'a', choice: 'x', t: -5 }), 1],
    [jsonl({ voter: 'a', ack: 'yes' }), 1]
  ]
  for (const [text, line] of cases) {
    const e = errorOf(() => evalBallotsText(text, { method: 'majority', members: 3 }))
    t.is(e?.code, 'CONSENSUS_BALLOTS_INVALID', text.slice(0, 40))
    t.is(e?.data?.line, line)
    t.ok(e?.message?.startsWith(`line ${line}:`), e?.message)
  }
})

test('eval: unknown methods are unsupported; bad options and params are refused', (t) => {
  const r = evalBallotsText(jsonl({ voter: 'a', choice: 'x' }), { method: 'borda-count', members: 1 })
  t.is(r.unsupported, true)
  t.is(r.reached, false)
  t.alike(r.winners, [])
  t.is(
    codeOf(() => evalBallotsText('', { method: 'majority', members: 0 })),
    'CONSENSUS_CONFIG_INVALID'
  )
  t.is(
    codeOf(() => evalBallotsText('', { method: 'opt-in', members: 2 })),
    'CONSENSUS_PARAMS_INVALID'
  )
  t.is(
    codeOf(() => evalBallotsText('', { method: 'majority', members: 2, options: ['a', 'a'] })),
    'CONSENSUS_CONFIG_INVALID'
  )
  t.is(
    codeOf(() => parseParams(['quorum'])),
    'CONSENSUS_PARAMS_INVALID'
  )
  t.is(
    codeOf(() => parseParams(['__proto__=1'])),
    'CONSENSUS_PARAMS_INVALID'
  )
  t.alike(parseParams(['n=3', 'd=4', 'author=ann', 'x=true', 'r=0.5']), {
    n: 3,
    d: 4,
    author: 'ann',
    x: true,
    r: 0.5
  })
})

test('eval: with a deadline, the file’s clocks drive log time', (t) => {
  const text = jsonl(
    { voter: 'a', objection: 'wait', t: 10 },
    { voter: 'a', choice: 'ok', t: 20 },
    { voter: 'b', choice: 'ok', t: 30 },
    { voter: 'c', choice: 'ok', t: 40 }
  )
  const before = evalBallotsText(text, { method: 'lazy-consensus', members: 3, deadline: 35 })
  t.is(before.reached, false, 'an objection stands')
  const noObjection = text.split('\n').slice(1).join('\n')
  t.is(
    evalBallotsText(noObjection, { method: 'lazy-consensus', members: 3, deadline: 35 }).reached,
    false,
    'log time 30 < 35'
  )
  t.is(evalBallotsText(noObjection, { method: 'lazy-consensus', members: 3, deadline: 30 }).reached, true)
  t.is(evalBallotsText(noObjection, { method: 'lazy-consensus', members: 3 }).reached, true, 'closed poll')
  const withdrawn = `${text}\n${JSON.stringify({ voter: 'a', retract: true, t: 50 })}`
  t.alike(evalBallotsText(withdrawn, { method: 'plurality', members: 3 }).outcome?.voted, 2)
})

test('eval: delegation lines', (t) => {
  const text = jsonl(
    { voter: 'a', delegate: 'b' },
    { voter: 'c', delegate: 'b' },
    { voter: 'b', choice: 'x' },
    { voter: 'd', choice: 'y' }
  )
  const r = evalBallotsText(text, { method: 'plurality', members: 4 })
  t.alike(r.outcome?.counts, { x: 3, y: 1 })
  t.alike(r.winners, ['x'])
})
