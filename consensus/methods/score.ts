import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead, ParamIntSchema, QuorumSchema } from './shared.js'

export const ScoreParamsSchema = z
  .object({ min: ParamIntSchema.default(0), max: ParamIntSchema.default(5), quorum: QuorumSchema })
  .strict()
  .refine((p) => p.min < p.max, { message: 'need min < max' })
export type ScoreParams = z.infer<typeof ScoreParamsSchema>

/**
 * reached ⇔ voted ≥ quorum ∧ voted > 0 ∧ (final ∨ s[top] > s[second] + remaining·span)
 * where span = max(max, 0) − min(min, 0)
 *
 * Each ballot scores options with integers in [min, max]; an option left
 * out adds nothing. The highest total wins; span bounds how far one more
 * ballot can move the runner-up against the leader.
 */
export const score = defineMethod<ScoreParams>({
  description: 'Ballots score options in [min, max] (default 0–5); the highest total wins.',
  ballot: 'scores',
  params: ScoreParamsSchema,
  checkBallot(ballot, params) {
    for (const v of ballot.values ?? []) {
      if (v < params.min || v > params.max) {
        return { reason: 'score-out-of-range', detail: `${v} is outside [${params.min}, ${params.max}]` }
      }
    }
    return null
  },
  evaluate(config, tally) {
    const { min, max, quorum } = config.params
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const span = Math.max(max, 0) - Math.min(min, 0)
    const quorumMet = tally.voted >= quorum
    const decisive = s.top > s.second + p.remaining * span
    const reached = s.leader >= 0 && quorumMet && tally.voted > 0 && (p.final || decisive)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        totals: perOption(config, tally.counts),
        min,
        max,
        quorum,
        quorumMet
      })
    }
  }
})
