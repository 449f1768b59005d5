import { z } from 'zod'
import { defineMethod } from '../method.js'
import { common, perOption, phase, standing } from '../standings.js'
import { lead, QuorumSchema } from './shared.js'

export const SupermajorityParamsSchema = z
  .object({
    n: z.number().int().min(1).max(1000).default(2),
    d: z.number().int().min(1).max(1000).default(3),
    quorum: QuorumSchema
  })
  .strict()
  .refine((p) => p.n <= p.d && 2 * p.n > p.d, {
    message: 'need n ≤ d and n/d > 1/2 (use majority for one half)'
  })
export type SupermajorityParams = z.infer<typeof SupermajorityParamsSchema>

/**
 * reached ⇔ voted ≥ quorum ∧ ∃o: d·c[o] ≥ n·members ∨ (final ∧ voted > 0 ∧ d·c[o] ≥ n·voted)
 *
 * At least n/d. Because n/d > 1/2 at most one option can qualify.
 */
export const supermajority = defineMethod<SupermajorityParams>({
  description: 'At least n/d of the votes cast (default 2/3), with an optional quorum.',
  ballot: 'choice',
  params: SupermajorityParamsSchema,
  evaluate(config, tally) {
    const { n, d, quorum } = config.params
    const p = phase(config, tally)
    const s = standing(config, tally, tally.counts)
    const c = s.leader >= 0 ? tally.counts[s.leader]! : 0
    const quorumMet = tally.voted >= quorum
    const absolute = d * c >= n * p.members
    const ofCast = p.final && tally.voted > 0 && d * c >= n * tally.voted
    const reached = s.leader >= 0 && quorumMet && (absolute || ofCast)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), lead(config, s), {
        winners: reached ? [config.options[s.leader]!] : [],
        counts: perOption(config, tally.counts),
        quorum,
        quorumMet,
        fraction: `${n}/${d}`,
        needed: Math.ceil((n * tally.voted) / d),
        neededOfMembers: Math.ceil((n * p.members) / d)
      })
    }
  }
})
