import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead, QuorumSchema } from './shared.js'

export const PluralityParamsSchema = z.object({ quorum: QuorumSchema }).strict()
export type PluralityParams = z.infer<typeof PluralityParamsSchema>

/**
 * reached ⇔ voted ≥ quorum ∧ voted > 0 ∧ (final ∨ c[top] > c[second] + remaining)
 *
 * The most votes wins; early once the lead exceeds what the members who
 * have not voted could add to the runner-up. Ties break by hash.
 */
export const plurality = defineMethod<PluralityParams>({
  description: 'The option with the most votes; ties break by hash.',
  ballot: 'choice',
  params: PluralityParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const quorumMet = tally.voted >= config.params.quorum
    const decisive = s.top > s.second + p.remaining
    const reached = s.leader >= 0 && quorumMet && tally.voted > 0 && (p.final || decisive)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        counts: perOption(config, tally.counts),
        quorum: config.params.quorum,
        quorumMet
      })
    }
  }
})
