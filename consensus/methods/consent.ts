import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, phase } from '../standings.js'

export const ConsentParamsSchema = z.object({}).strict()

/**
 * reached ⇔ answered = members ∧ objections = 0
 *
 * Every member has answered — a ballot (direct or delegated), an
 * acknowledgement or an objection — and no objection stands. The proposal
 * is the option list: winners = options when reached.
 */
export const consent = defineMethod({
  description: 'Every member answered (ballot, acknowledgement or objection) and no objection stands.',
  ballot: 'choice',
  params: ConsentParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const objections = tally.objections.size
    const reached = p.members > 0 && tally.answered >= p.members && objections === 0
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), {
        winners: reached ? [...config.options] : [],
        answered: tally.answered,
        objections,
        acks: tally.acks.size
      })
    }
  }
})
