import { z } from 'zod'
import { MAX_PARAM_INT } from '../limits.js'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { isqrt, lead, QuorumSchema } from './shared.js'

export const QuadraticParamsSchema = z
  .object({ credits: z.number().int().min(1).max(MAX_PARAM_INT).default(100), quorum: QuorumSchema })
  .strict()
export type QuadraticParams = z.infer<typeof QuadraticParamsSchema>

/**
 * A ballot is valid iff Σ v² ≤ credits (votes v may be negative).
 * reached ⇔ voted ≥ quorum ∧ voted > 0 ∧ (final ∨ t[top] > t[second] + remaining·⌊√(2·credits)⌋)
 *
 * The highest total of votes wins. One more ballot can move the runner-up
 * against the leader by at most a + b with a² + b² ≤ credits, which is
 * below √(2·credits).
 */
export const quadratic = defineMethod<QuadraticParams>({
  description: 'Ballots spend credits: v votes on an option cost v²; Σ v² ≤ credits. Highest total wins.',
  ballot: 'scores',
  params: QuadraticParamsSchema,
  checkBallot(ballot, params) {
    let cost = 0
    for (const v of ballot.values ?? []) {
      // Checked first so that v² of a huge v cannot lose precision on the way to the budget test.
      if (Math.abs(v) > params.credits) return { reason: 'over-budget', detail: `|${v}| exceeds the budget` }
      cost += v * v
    }
    if (cost > params.credits)
      return { reason: 'over-budget', detail: `costs ${cost}, budget ${params.credits}` }
    return null
  },
  evaluate(config, tally) {
    const { credits, quorum } = config.params
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const swing = isqrt(2 * credits)
    const quorumMet = tally.voted >= quorum
    const decisive = s.top > s.second + p.remaining * swing
    const reached = s.leader >= 0 && quorumMet && tally.voted > 0 && (p.final || decisive)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        totals: perOption(config, tally.counts),
        credits,
        quorum,
        quorumMet
      })
    }
  }
})
