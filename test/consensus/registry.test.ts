import test from 'brittle'
import { z } from 'zod'
import {
  applyMessage,
  type ConsensusConfig,
  ConsensusErrors,
  createTally,
  defineMethod,
  evaluate,
  getMethod,
  listMethods,
  registerMethod,
  validateConfig
} from '../../consensus/index.js'
import { registeredCodes } from '../../src/kernel/errors.js'
import { codeOf, members, msg } from './helpers.js'

test('every built-in method is registered', (t) => {
  t.alike(listMethods(), [
    'announcement',
    'approval',
    'consent',
    'lazy-consensus',
    'majority',
    'opt-in',
    'plurality',
    'quadratic',
    'schulze',
    'score',
    'supermajority',
    'time-poll',
    'unanimity'
  ])
})

test('a plugin registers a named method; unknown names are unsupported, never guessed', (t) => {
  const c: ConsensusConfig = {
    conversationId: 'c',
    method: 'first-to-n',
    params: { n: 2 },
    options: ['a', 'b'],
    members: members(4)
  }
  t.is(
    codeOf(() => validateConfig(c)),
    'CONSENSUS_METHOD_UNKNOWN',
    'refused at creation on a node without it'
  )
  const before = createTally(c)
  t.is(applyMessage(before, msg.choice('m1', 'a')), null, 'ballots are still recorded')
  t.alike(evaluate(c, before), {
    reached: false,
    unsupported: true,
    reason: 'this node has no consensus method first-to-n',
    outcome: null
  })

  registerMethod(
    'first-to-n',
    defineMethod({
      description: 'the first option with n votes',
      ballot: 'choice',
      params: z.object({ n: z.number().int().min(1) }).strict(),
      evaluate(config, tally) {
        const i = tally.counts.findIndex((x) => x >= config.params.n)
        const winners = i >= 0 ? [config.options[i]!] : []
        return { reached: i >= 0, outcome: { method: config.method, winners } }
      }
    })
  )
  t.ok(getMethod('first-to-n'))
  const after = createTally({ ...c })
  applyMessage(after, msg.choice('m1', 'b'))
  t.is(evaluate(after.config, after).reached, false)
  applyMessage(after, msg.choice('m2', 'b'))
  t.alike(evaluate(after.config, after), { reached: true, outcome: { method: 'first-to-n', winners: ['b'] } })
  t.is(
    codeOf(() => validateConfig({ ...c, params: { n: 0 } })),
    'CONSENSUS_PARAMS_INVALID'
  )

  const noop = defineMethod({
    description: '',
    ballot: 'choice',
    params: z.object({}),
    evaluate: () => ({ reached: false, outcome: { method: '', winners: [] } })
  })
  t.is(
    codeOf(() => registerMethod('first-to-n', noop)),
    'CONSENSUS_METHOD_EXISTS'
  )
  t.is(
    codeOf(() => registerMethod('majority', noop)),
    'CONSENSUS_METHOD_EXISTS'
  )
  t.is(
    codeOf(() => registerMethod('cel', noop)),
    'CONSENSUS_METHOD_EXISTS'
  )
  t.is(
    codeOf(() => registerMethod('Bad Name', noop)),
    'CONSENSUS_METHOD_EXISTS'
  )
})

test('a plugin that throws is treated as not reached', (t) => {
  registerMethod(
    'always-throws',
    defineMethod({
      description: 'broken',
      ballot: 'choice',
      params: z.object({}),
      evaluate() {
        throw new Error('boom')
      }
    })
  )
  const c: ConsensusConfig = { conversationId: 'c', method: 'always-throws', options: ['a'], members: ['m1'] }
  const r = evaluate(c, createTally(c))
  t.is(r.reached, false)
  t.is(r.outcome?.error, 'method_threw')
})

test('error codes are prefixed, registered and documented as "Thrown when …"', (t) => {
  const codes = Object.keys(ConsensusErrors)
  t.ok(codes.length >= 6)
  for (const code of codes) {
    t.ok(code.startsWith('CONSENSUS_'), code)
    const spec = registeredCodes().get(code)
    t.ok(spec?.doc.startsWith('Thrown when '), code)
    t.is(ConsensusErrors[code as keyof typeof ConsensusErrors]('x').status, spec?.status)
  }
})
