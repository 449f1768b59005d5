import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead, QuorumSchema } from './shared.js'

export const ApprovalParamsSchema = z.object({ quorum: QuorumSchema }).strict()
export type ApprovalParams = z.infer<typeof ApprovalParamsSchema>

/**
 * reached ⇔ voted ≥ quorum ∧ a[top] > 0 ∧ (final ∨ a[top] > a[second] + remaining)
 *
 * Each ballot approves any set of options; the most approvals wins. A
 * member who has not voted can add at most one approval to the runner-up.
 */
export const approval = defineMethod<ApprovalParams>({
  description: 'Each ballot approves a set of options; the most approvals wins.',
  ballot: 'choices',
  params: ApprovalParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const quorumMet = tally.voted >= config.params.quorum
    const decisive = s.top > s.second + p.remaining
    const reached = s.leader >= 0 && quorumMet && s.top > 0 && (p.final || decisive)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        approvals: perOption(config, tally.counts),
        quorum: config.params.quorum,
        quorumMet
      })
    }
  }
})
