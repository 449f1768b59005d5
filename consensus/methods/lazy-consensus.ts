import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, phase } from '../standings.js'

export const LazyConsensusParamsSchema = z.object({}).strict()

/**
 * reached ⇔ deadline > 0 ∧ now ≥ deadline ∧ objections = 0
 *
 * Silence is assent: the proposal passes when the deadline (in log time)
 * passes with no objection standing. An objection withdrawn before the
 * deadline no longer counts.
 */
export const lazyConsensus = defineMethod({
  description: 'No objection stands when the deadline passes (needs a deadline).',
  ballot: 'choice',
  params: LazyConsensusParamsSchema,
  check: (config) => (config.deadline > 0 ? null : 'lazy-consensus needs a deadline'),
  evaluate(config, tally) {
    const p = phase(config, tally)
    const objections = tally.objections.size
    const reached = p.deadlinePassed && objections === 0
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), {
        winners: reached ? [...config.options] : [],
        objections,
        acks: tally.acks.size
      })
    }
  }
})
