import { z } from 'zod'
import { MAX_MEMBERS } from '../limits.js'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead, QuorumSchema } from './shared.js'

export const TimePollParamsSchema = z
  .object({ min: z.number().int().min(1).max(MAX_MEMBERS).default(1), quorum: QuorumSchema })
  .strict()
export type TimePollParams = z.infer<typeof TimePollParamsSchema>

/**
 * reached ⇔ voted ≥ quorum ∧ a[top] ≥ min ∧ (final ∨ a[top] > a[second] + remaining)
 *
 * Options are time slots; each ballot lists the slots its member can make.
 * The slot most members can make wins, provided at least `min` can.
 */
export const timePoll = defineMethod<TimePollParams>({
  description: 'Members mark the slots they can make; the slot most can make wins (at least `min`).',
  ballot: 'choices',
  params: TimePollParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const { min, quorum } = config.params
    const quorumMet = tally.voted >= quorum
    const decisive = s.top > s.second + p.remaining
    const reached = s.leader >= 0 && quorumMet && s.top >= min && (p.final || decisive)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        available: perOption(config, tally.counts),
        min,
        quorum,
        quorumMet
      })
    }
  }
})
