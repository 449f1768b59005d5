/**
 * Conclave's consensus library: pure functions, no I/O, no clock, no
 * randomness. Every node that feeds the same linearized conversation log
 * gets the same tally, the same hash and the same outcome.
 *
 *   const tally = createTally(config)
 *   for (const msg of log) {
 *     applyMessage(tally, msg)             // null, or why it changed nothing
 *     const r = evaluate(config, tally)
 *     if (r.reached) { closeTally(tally); break }
 *   }
 *
 * docs/consensus.md documents every method, its exact predicate and the
 * tally variables.
 */
export { CEL_LANGUAGE, CEL_LIMITS, CEL_VARIABLES, type CelVariable } from './cel/language.js'
export {
  type CompiledPredicate,
  compilePredicate,
  type PredicateRefusal,
  validatePredicate
} from './cel/validator.js'
export {
  CelParamsSchema,
  type ConsensusConfig,
  ConsensusConfigSchema,
  type ResolvedConfig,
  resolveConfig,
  validateConfig
} from './config.js'
export { ConsensusErrors } from './errors.js'
export { type EvalBallotsOptions, type EvalBallotsResult, evalBallotsText } from './eval-ballots.js'
export { evaluate } from './evaluate.js'
export { compareHlc, type Hlc, HlcSchema, HybridClock, type HybridClockOptions } from './hlc.js'
export { LogClock, logNow } from './log-clock.js'
export {
  AccountSchema,
  BALLOT_KINDS,
  type BallotKind,
  BallotKindSchema,
  type BallotMessage,
  BallotMessageSchema,
  LogMsSchema,
  REJECT_REASONS,
  type Rejection,
  type RejectReason,
  type TallyMessage,
  TallyMessageSchema,
  type TallyMessageType
} from './messages.js'
export {
  type BallotView,
  type ConsensusMethod,
  type ConsensusResult,
  defineMethod,
  type MethodResult,
  type Outcome
} from './method.js'
export { parseParams } from './params.js'
export { recountTally } from './recount.js'
export { getMethod, listMethods, registerMethod } from './registry.js'
export { decisiveCondorcet, schulzeWinners, strongestPaths } from './schulze.js'
export { serializeTally, tallyHash } from './serialize.js'
export { type Phase, phase, type Standing, standing, tieBreakOrder } from './standings.js'
export { applyMessage, closeTally, createTally, type Tally } from './tally.js'
