import { z } from 'zod'
import { compareStrings } from '../digest.js'
import { AccountSchema } from '../messages.js'
import { defineMethod } from '../method.js'
import { common, phase } from '../standings.js'

export const AnnouncementParamsSchema = z.object({ author: AccountSchema.optional() }).strict()
export type AnnouncementParams = z.infer<typeof AnnouncementParamsSchema>

/**
 * reached ⇔ author published (or, without an author, any member published)
 *
 * Closes on publish; acknowledgements are tracked (after close too: the
 * tally still applies acks to a closed conversation).
 */
export const announcement = defineMethod<AnnouncementParams>({
  description: 'Closes when the author publishes; acknowledgements are tracked.',
  ballot: 'choice',
  params: AnnouncementParamsSchema,
  check: (config) =>
    config.params.author === undefined || config.members.includes(config.params.author)
      ? null
      : 'the author must be a member',
  evaluate(config, tally) {
    const p = phase(config, tally)
    const { author } = config.params
    let by: string | null = null
    let at = 0
    if (author !== undefined) {
      const t = tally.publishes.get(author)
      if (t !== undefined) {
        by = author
        at = t
      }
    } else {
      for (const [m, t] of tally.publishes) {
        if (by === null || t < at || (t === at && compareStrings(m, by) < 0)) {
          by = m
          at = t
        }
      }
    }
    const reached = by !== null
    // The publisher need not acknowledge its own announcement.
    const acked = tally.acks.size + (by !== null && !tally.acks.has(by) ? 1 : 0)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), {
        winners: reached ? [...config.options] : [],
        published: reached,
        publishedBy: by,
        publishedAt: reached ? at : null,
        acks: tally.acks.size,
        pendingAcks: reached ? p.members - acked : p.members - tally.acks.size
      })
    }
  }
})
