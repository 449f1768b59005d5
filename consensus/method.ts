import type { z } from 'zod'
import type { ResolvedConfig } from './config.js'
import type { BallotKind, Rejection } from './messages.js'
import type { Tally } from './tally.js'

/**
 * The figures behind a decision. Every outcome names its method and its
 * `winners` (empty until reached); the rest are method-specific figures
 * documented in docs/consensus.md. Plain JSON: every node serializes the
 * same outcome to the same bytes.
 */
export interface Outcome {
  readonly method: string
  readonly winners: string[]
  readonly [figure: string]: unknown
}

export interface MethodResult {
  readonly reached: boolean
  readonly outcome: Outcome
}

export type ConsensusResult =
  | { readonly reached: boolean; readonly unsupported?: false; readonly outcome: Outcome }
  | { readonly reached: false; readonly unsupported: true; readonly reason: string; readonly outcome: null }

/** A ballot as the tally stores it: option indices (into config.options) and, for scores, the values. */
export interface BallotView {
  readonly kind: BallotKind
  readonly options: readonly number[]
  readonly values: readonly number[] | null
}

/**
 * A consensus method: a pure, deterministic function of the configuration
 * and the tally. It must read the tally's maintained figures (counts,
 * pairwise matrix, voted, …) rather than rescan ballots, so that evaluating
 * after every message costs O(options), not O(log).
 */
export interface ConsensusMethod<P = Readonly<Record<string, unknown>>> {
  readonly description: string
  /** The ballot form this method counts; other forms are rejected as `wrong-ballot-kind`. */
  readonly ballot: BallotKind
  /** Parameters, validated when the conversation is created. Use `.strict()` so a misspelt name is refused. */
  readonly params: z.ZodType<P>
  /** Further requirements on the configuration (e.g. a deadline); returns the reason it is refused, or null. */
  check?(config: ResolvedConfig<P>): string | null
  /** Method-specific ballot rules (e.g. the quadratic budget), applied after the generic ones. */
  checkBallot?(ballot: BallotView, params: P): Rejection | null
  evaluate(config: ResolvedConfig<P>, tally: Tally): MethodResult
}

/** Erases the parameter type so that methods of different parameters share one registry. */
export function defineMethod<P>(method: ConsensusMethod<P>): ConsensusMethod {
  return method as unknown as ConsensusMethod
}
