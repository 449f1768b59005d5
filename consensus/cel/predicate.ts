import type { ResolvedConfig } from '../config.js'
import type { MethodResult } from '../method.js'
import { common, names, perOption, phase, standing } from '../standings.js'
import type { Tally } from '../tally.js'

const big = (n: number): bigint => BigInt(n)

/**
 * Evaluates a validated predicate over the tally variables (CEL_VARIABLES).
 * Building the variables is O(options); the validator bounds the predicate
 * itself. Any evaluation error (overflow, division by zero, a missing map
 * key) makes the predicate false, identically on every node, and is named
 * in the outcome by the engine's stable error code.
 */
export function evaluatePredicate(config: ResolvedConfig, tally: Tally): MethodResult {
  const p = phase(config, tally)
  const s = standing(config, tally, tally.counts)
  const quorum = typeof config.params.quorum === 'number' ? config.params.quorum : 0
  const leader = s.leader >= 0 ? config.options[s.leader]! : ''
  const vars = {
    members: big(p.members),
    voted: big(tally.voted),
    direct: big(tally.direct),
    remaining: big(p.remaining),
    answered: big(tally.answered),
    options: [...config.options],
    counts: new Map(config.options.map((o, i) => [o, big(tally.counts[i]!)])),
    top: big(s.top),
    second: big(s.second),
    leader,
    winners: names(config, s.tied),
    objections: big(tally.objections.size),
    acks: big(tally.acks.size),
    published: tally.publishes.size > 0,
    now: big(p.now),
    deadline: big(p.deadline),
    expired: p.deadlinePassed,
    quorum: big(quorum)
  }
  let value = false
  let error: string | null = null
  try {
    value = config.predicate!.run(vars) === true
  } catch (err) {
    const code = (err as { code?: unknown }).code
    error = typeof code === 'string' ? code : 'evaluation_error'
  }
  return {
    reached: value,
    outcome: Object.assign(common(config, tally, p), {
      winners: value && leader !== '' ? [leader] : [],
      leading: leader === '' ? null : leader,
      tied: s.tied.length > 1 ? names(config, s.tied) : [],
      counts: perOption(config, tally.counts),
      expr: config.expr,
      value,
      error
    })
  }
}
