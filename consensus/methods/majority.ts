import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead, QuorumSchema } from './shared.js'

export const MajorityParamsSchema = z.object({ quorum: QuorumSchema }).strict()
export type MajorityParams = z.infer<typeof MajorityParamsSchema>

/**
 * reached ⇔ voted ≥ quorum ∧ ∃o: 2·c[o] > members ∨ (final ∧ 2·c[o] > voted)
 *
 * More than half of all members decides at once (no further vote can undo
 * it); otherwise more than half of the votes cast decides once the deadline
 * passed or every member voted.
 */
export const majority = defineMethod<MajorityParams>({
  description: 'More than half of the votes cast, with an optional quorum.',
  ballot: 'choice',
  params: MajorityParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const c = s.leader >= 0 ? tally.counts[s.leader]! : 0
    const quorumMet = tally.voted >= config.params.quorum
    const absolute = 2 * c > p.members
    const ofCast = p.final && 2 * c > tally.voted
    const reached = s.leader >= 0 && quorumMet && (absolute || ofCast)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        counts: perOption(config, tally.counts),
        quorum: config.params.quorum,
        quorumMet,
        needed: Math.floor(tally.voted / 2) + 1,
        neededOfMembers: Math.floor(p.members / 2) + 1
      })
    }
  }
})
