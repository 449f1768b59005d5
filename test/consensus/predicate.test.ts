import test from 'brittle'
import fc from 'fast-check'
import {
  applyMessage,
  CEL_LANGUAGE,
  CEL_VARIABLES,
  type ConsensusConfig,
  compilePredicate,
  createTally,
  evaluate,
  validateConfig,
  validatePredicate
} from '../../consensus/index.js'
import { codeOf, members, msg, refusalOf, run, winners } from './helpers.js'

const deep = (n: number, inner: string) => '('.repeat(n) + inner + ')'.repeat(n)

/** Hostile or invalid predicates, each with the rule that must refuse it. */
const HOSTILE: Array<[string, unknown]> = [
  ['too-long', `voted > 0 && "${'a'.repeat(2100)}" == ""`],
  ['too-long', `${'voted > 0 && '.repeat(200)}true`],
  ['too-deep', deep(200, 'voted > 0')],
  ['too-large', `${'!'.repeat(300)}true`],
  ['too-large', `${'-'.repeat(300)}1 > 0`],
  ['too-deep', `${'!'.repeat(40)}true`],
  ['too-deep', `size(${deep(40, '[1]')}) > 0`],
  ['too-large', Array.from({ length: 120 }, () => 'voted == 1').join(' || ')],
  ['too-large', `size([${Array.from({ length: 40 }, (_, i) => i).join(',')}]) > 0`],
  ['literal', 'voted < 99999999999999999999'],
  ['literal', 'voted < 9007199254740993'],
  ['literal', `leader == "${'x'.repeat(300)}"`],
  ['literal', 'b"abc" == b"abc"'],
  ['literal', 'voted < 1u'],
  ['forbidden-function', '"aaaa".matches("(a+)+$")'],
  ['forbidden-function', 'leader.matches("^y")'],
  ['forbidden-function', 'matches(leader, "y")'],
  ['forbidden-function', 'size(options.map(o, o)) > 0'],
  ['forbidden-function', 'has(counts.yes)'],
  ['forbidden-function', 'dyn(voted) == 1'],
  ['forbidden-function', 'type(voted) == int'],
  ['forbidden-function', 'cel.bind(x, voted, x > 0)'],
  ['forbidden-function', 'timestamp("2030-01-01T00:00:00Z") > timestamp("2020-01-01T00:00:00Z")'],
  ['forbidden-function', 'duration("1h") > duration("1m")'],
  ['forbidden-function', 'eval("1") == 1'],
  ['forbidden-function', 'require("fs") == null'],
  ['forbidden-function', 'leader.substring(0, 1) == "y"'],
  ['forbidden-function', 'leader.split(",").size() > 0'],
  ['forbidden-function', 'process.exit(1) == 0'],
  ['nested-comprehension', 'options.all(o, options.exists(p, counts[p] > counts[o]))'],
  ['nested-comprehension', 'options.exists(o, winners.all(w, w == o))'],
  ['nested-comprehension', 'options.filter(o, counts[o] > 0).exists(p, p == leader)'],
  ['nested-comprehension', 'options.all(o, size(options.filter(p, p == o)) == 1)'],
  ['bad-comprehension', 'options.all(voted, true)'],
  ['syntax', 'options.all("o", true)'],
  ['field-selection', 'counts.constructor == 1'],
  ['field-selection', 'counts.__proto__ == 1'],
  ['field-selection', 'options.constructor.name == "Array"'],
  ['field-selection', 'counts.yes > 0'],
  ['forbidden-key', 'counts["__proto__"] > 0'],
  ['forbidden-key', 'counts["constructor"] > 0'],
  ['forbidden-key', 'size({"__proto__": 1}) > 0'],
  ['unknown-variable', 'this == null'],
  ['unknown-variable', 'globalThis == null'],
  ['syntax', '__proto__ == null'],
  ['unknown-variable', 'constructor == null'],
  ['unknown-variable', 'ballots > 0'],
  ['type', 'voted + "x" == "y"'],
  ['type', 'voted ? true : false'],
  ['not-bool', 'voted'],
  ['not-bool', 'leader'],
  ['syntax', 'voted >'],
  ['syntax', ''],
  ['syntax', 'voted > 0; true'],
  ['syntax', '1.5e400 > 0.0'],
  ['not-a-string', 42],
  ['not-a-string', { toString: () => 'true' }]
]

test('the validator refuses a corpus of hostile predicates, each for its reason', (t) => {
  for (const [reason, src] of HOSTILE) {
    const label = typeof src === 'string' ? src.slice(0, 60) : String(typeof src)
    t.is(
      codeOf(() => validatePredicate(src)),
      'CONSENSUS_PREDICATE_INVALID',
      label
    )
    t.is(
      refusalOf(() => validatePredicate(src)),
      reason,
      `${label}: ${reason}`
    )
  }
})

const GOOD = [
  'voted * 2 > members',
  'counts["yes"] > counts["no"] && expired',
  'options.exists(o, counts[o] >= 3)',
  'size(winners) == 1 && leader == "yes"',
  'now >= deadline && objections == 0',
  'options.filter(o, counts[o] > 0).size() >= 2',
  'size(options.filter(o, counts[o] > 0)) >= 2',
  '"yes" in counts && counts["yes"] * 3 >= voted * 2 && voted >= quorum',
  'options.exists_one(o, counts[o] == top) || remaining == 0',
  'double(top) / double(members) > 0.5',
  'leader.startsWith("y") || leader.contains("es") || leader.endsWith("s") || string(top) == "3"',
  'answered == members && acks >= 0 && !published && direct <= voted && int(second) >= 0',
  '[1, 2, 3].all(x, x > 0)',
  'top - second > remaining'
]

test('ordinary predicates pass the validator', (t) => {
  for (const src of GOOD)
    t.is(
      codeOf(() => validatePredicate(src)),
      null,
      src
    )
  t.is(CEL_VARIABLES.length, 18)
  t.alike(CEL_LANGUAGE.lang, 'cel')
})

test('a predicate is refused when the conversation is created, and unsupported when received', (t) => {
  const c: ConsensusConfig = {
    conversationId: 'c',
    expr: 'leader.matches("y")',
    options: ['yes', 'no'],
    members: members(3)
  }
  t.is(
    codeOf(() => validateConfig(c)),
    'CONSENSUS_PREDICATE_INVALID'
  )
  const tally = createTally(c)
  const r = evaluate(c, tally)
  t.is(r.unsupported, true)
  t.is(r.outcome, null)
  t.is(r.reached, false)
  const other = { ...c, expr: 'voted > 0', exprLang: { lang: 'cel', version: '99' } }
  t.is(
    codeOf(() => validateConfig(other)),
    'CONSENSUS_PREDICATE_INVALID'
  )
  t.is(evaluate(other, createTally(other)).unsupported, true, 'another dialect version is not guessed')
  const same = {
    ...c,
    expr: 'voted > 0',
    exprLang: { lang: CEL_LANGUAGE.lang, version: CEL_LANGUAGE.version }
  }
  t.is(
    codeOf(() => validateConfig(same)),
    null
  )
  t.is(
    codeOf(() => validateConfig({ ...same, params: { ballot: 'ranking', quorum: 2 } })),
    null
  )
  t.is(
    codeOf(() => validateConfig({ ...same, params: { ballots: 'ranking' } })),
    'CONSENSUS_PARAMS_INVALID'
  )
  t.is(
    codeOf(() => validateConfig({ ...same, method: 'majority' })),
    'CONSENSUS_CONFIG_INVALID'
  )
})

test('predicates evaluate over the documented tally variables', (t) => {
  const c: ConsensusConfig = {
    conversationId: 'c',
    expr: 'counts["yes"] * 3 >= voted * 2 && voted >= 3',
    options: ['yes', 'no'],
    members: members(5)
  }
  const two = run(c, [msg.choice('m1', 'yes'), msg.choice('m2', 'yes')])
  t.is(two.result.reached, false)
  const three = run(c, [msg.choice('m1', 'yes'), msg.choice('m2', 'yes'), msg.choice('m3', 'no')])
  t.is(three.result.reached, true)
  t.alike(winners(three.result), ['yes'])
  t.is(three.result.outcome?.value, true)
  const vars = run(
    {
      ...c,
      expr: 'members == 5 && remaining == 2 && top == 2 && second == 1 && leader == "yes" && winners == ["yes"] && objections == 1 && acks == 1 && answered == 4 && now == 7 && deadline == 0 && !expired && quorum == 0 && options == ["yes", "no"]'
    },
    [
      msg.choice('m1', 'yes', 7),
      msg.choice('m2', 'yes', 7),
      msg.choice('m3', 'no', 7),
      msg.ack('m4', 1),
      msg.object('m3', 'no', 7)
    ]
  )
  t.is(vars.result.reached, true, 'every variable has the documented value')
  t.is(vars.result.outcome?.error, null)
})

test('an evaluation error counts as false, with the engine’s code', (t) => {
  const base: ConsensusConfig = { conversationId: 'c', expr: 'true', options: ['yes'], members: members(2) }
  const cases: Array<[string, string]> = [
    ['counts["nope"] > 0', 'no_such_key'],
    ['voted / (voted - voted) == 1', 'division'],
    ['9007199254740992 * 9007199254740992 * 9007199254740992 > 0', 'overflow'],
    ['options[5] == "x"', 'index']
  ]
  for (const [expr, hint] of cases) {
    const c = { ...base, expr }
    const tally = createTally(c)
    applyMessage(tally, msg.choice('m1', 'yes'))
    const r = evaluate(c, tally)
    t.is(r.reached, false, expr)
    t.is(typeof r.outcome?.error, 'string', `${expr} → ${String(r.outcome?.error)} (${hint})`)
  }
})

/** Expressions from a small grammar over the tally variables: mostly valid, some not. */
const grammar = fc.letrec<{ int: string; bool: string }>((tie) => ({
  int: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      'voted',
      'members',
      'top',
      'second',
      'remaining',
      'now',
      'deadline',
      'acks',
      'size(options)'
    ),
    fc.integer({ min: -5, max: 1_000_000_000 }).map(String),
    fc.constantFrom('counts["x"]', 'counts["o"]', 'counts["missing"]', 'int(double(top) / 2.0)'),
    fc
      .tuple(tie('int'), fc.constantFrom('+', '-', '*', '/', '%'), tie('int'))
      .map(([a, op, b]) => `(${a} ${op} ${b})`)
  ),
  bool: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(tie('int'), fc.constantFrom('==', '!=', '<', '<=', '>', '>='), tie('int'))
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.constantFrom('expired', 'published', '"x" in counts', 'leader == "x"', 'size(winners) > 1'),
    tie('bool').map((b) => `!(${b})`),
    fc.tuple(tie('bool'), fc.constantFrom('&&', '||'), tie('bool')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc
      .tuple(fc.constantFrom('all', 'exists', 'exists_one', 'map', 'filter'), tie('int'))
      .map(([m, i]) => `options.${m}(o, counts[o] >= ${i})`),
    tie('bool').map((b) => `options.all(o, ${b})`),
    fc.constantFrom('leader.matches("x")', 'counts.x > 0', 'voted', 'unknown > 0')
  )
})).bool

test('generated predicates either validate or are refused with the predicate code; valid ones never throw when run (property)', (t) => {
  const c: ConsensusConfig = { conversationId: 'c', expr: 'true', options: ['x', 'o'], members: members(3) }
  const tally = createTally(c)
  applyMessage(tally, msg.choice('m1', 'x'))
  let accepted = 0
  let refused = 0
  fc.assert(
    fc.property(fc.oneof(grammar, grammar, fc.string({ maxLength: 64 })), (src) => {
      const code = codeOf(() => compilePredicate(src))
      if (code === null) {
        accepted++
        const r = evaluate({ ...c, expr: src }, tally)
        return typeof r.reached === 'boolean' && r.unsupported !== true
      }
      refused++
      return code === 'CONSENSUS_PREDICATE_INVALID'
    }),
    { numRuns: 1500 }
  )
  t.ok(accepted > 100, `${accepted} generated predicates were valid`)
  t.ok(refused > 100, `${refused} were refused`)
})
