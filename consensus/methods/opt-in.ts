import { z } from 'zod'
import { MAX_MEMBERS } from '../limits.js'
import { defineMethod } from '../method.js'
import { common, names, orderByValue, perOption, phase } from '../standings.js'

export const OptInParamsSchema = z.object({ target: z.number().int().min(1).max(MAX_MEMBERS) }).strict()
export type OptInParams = z.infer<typeof OptInParamsSchema>

/**
 * reached ⇔ ∃o: c[o] ≥ target
 *
 * Enough people opt in. Winners are every option at or above the target,
 * most opt-ins first, equal counts in tie-break order.
 */
export const optIn = defineMethod<OptInParams>({
  description: 'At least `target` members opt in to an option.',
  ballot: 'choice',
  params: OptInParamsSchema,
  evaluate(config, tally) {
    const p = phase(config, tally)
    const { target } = config.params
    const over: number[] = []
    for (let i = 0; i < config.options.length; i++) if (tally.counts[i]! >= target) over.push(i)
    const reached = over.length > 0
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), {
        winners: names(config, orderByValue(config, tally, over, tally.counts)),
        counts: perOption(config, tally.counts),
        target
      })
    }
  }
})
