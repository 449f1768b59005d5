import { z } from 'zod'
import type { ResolvedConfig } from '../config.js'
import { MAX_MEMBERS, MAX_PARAM_INT } from '../limits.js'
import type { Standing } from '../standings.js'

/** Minimum number of members whose vote counts (directly or through delegation). */
export const QuorumSchema = z.number().int().min(0).max(MAX_MEMBERS).default(0)

export const ParamIntSchema = z.number().int().min(-MAX_PARAM_INT).max(MAX_PARAM_INT)

/** The current leader and the options tied with it, for outcomes. */
export function lead(config: ResolvedConfig, s: Standing): { leading: string | null; tied: string[] } {
  return {
    leading: s.leader >= 0 ? config.options[s.leader]! : null,
    tied: s.tied.length > 1 ? s.tied.map((i) => config.options[i]!) : []
  }
}

/** Integer square root, exact for every safe integer (no floating-point rounding at the edge). */
export function isqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n))
  while (r * r > n) r--
  while ((r + 1) * (r + 1) <= n) r++
  return r
}
