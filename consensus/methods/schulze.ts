import { z } from 'zod'
import type { ResolvedConfig } from '../config.js'
import { defineMethod } from '../method.js'
import { decisiveCondorcet, schulzeWinners, strongestPaths } from '../schulze.js'
import { common, names, perOption, phase, tieBreakOrder } from '../standings.js'
import { QuorumSchema } from './shared.js'

export const SchulzeParamsSchema = z.object({ quorum: QuorumSchema }).strict()
export type SchulzeParams = z.infer<typeof SchulzeParamsSchema>

function matrix(config: ResolvedConfig, m: readonly number[]): Record<string, Record<string, number>> {
  const k = config.options.length
  return Object.fromEntries(
    config.options.map((x, i) => [
      x,
      Object.fromEntries(config.options.flatMap((y, j) => (i === j ? [] : [[y, m[i * k + j]!]])))
    ])
  )
}

/**
 * reached ⇔ voted ≥ quorum ∧ voted > 0 ∧ (final ∨ ∃x ∀y≠x: d[x][y] − d[y][x] > remaining)
 *
 * Ranked ballots (unranked options tie below ranked ones). The winner is a
 * potential Schulze winner — p[x][y] ≥ p[y][x] for every y, over strongest
 * paths (winning votes) — with ties between potential winners broken by
 * hash. Early only when a Condorcet winner's every margin exceeds what the
 * members who have not voted could overturn.
 */
export const schulze = defineMethod<SchulzeParams>({
  description: 'Ranked ballots; the Schulze (beatpath) winner; ties break by hash.',
  ballot: 'ranking',
  params: SchulzeParamsSchema,
  evaluate(config, tally) {
    const k = config.options.length
    const d = tally.pairwise ?? new Array<number>(k * k).fill(0)
    const p = phase(config, tally)
    const strongest = strongestPaths(d, k)
    const potential = tally.direct > 0 ? tieBreakOrder(config, tally, schulzeWinners(strongest, k)) : []
    const quorumMet = tally.voted >= config.params.quorum
    const decisive = decisiveCondorcet(d, k, p.remaining) >= 0
    const reached = k > 0 && quorumMet && tally.voted > 0 && (p.final || decisive)
    return {
      reached,
      outcome: Object.assign(common(config, tally, p), {
        winners: reached ? names(config, potential.slice(0, 1)) : [],
        leading: potential.length > 0 ? config.options[potential[0]!]! : null,
        tied: potential.length > 1 ? names(config, potential) : [],
        firstPreferences: perOption(config, tally.counts),
        pairwise: matrix(config, d),
        strongest: matrix(config, strongest),
        quorum: config.params.quorum,
        quorumMet
      })
    }
  }
})
