import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead } from './shared.js'

export const UnanimityParamsSchema = z.object({}).strict()

/**
 * reached ⇔ ∃o: c[o] = members ∧ objections = 0
 *
 * Every member's vote (direct or delegated) is for the same option and
 * nobody objects.
 */
export const unanimity = defineMethod({
  description: 'Every member votes for the same option and nobody objects.',
  ballot: 'choice',
  params: UnanimityParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const c = s.leader >= 0 ? tally.counts[s.leader]! : 0
    const reached = s.leader >= 0 && p.members > 0 && c === p.members && tally.objections.size === 0
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        counts: perOption(config, tally.counts),
        objections: tally.objections.size,
        missing: p.members - c
      })
    }
  }
})
