import { evaluatePredicate } from './cel/predicate.js'
import { type ConsensusConfig, type ResolvedConfig, resolveConfig } from './config.js'
import { ConsensusErrors } from './errors.js'
import type { ConsensusResult } from './method.js'
import type { Tally } from './tally.js'

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

const compatibility = new WeakMap<ResolvedConfig, WeakMap<ResolvedConfig, boolean>>()

/** The tally's figures mean the same to both configurations (cached: the check is O(members)). */
function compatible(a: ResolvedConfig, b: ResolvedConfig): boolean {
  let known = compatibility.get(a)
  if (!known) {
    known = new WeakMap()
    compatibility.set(a, known)
  }
  let ok = known.get(b)
  if (ok === undefined) {
    ok = sameShape(a, b)
    known.set(b, ok)
  }
  return ok
}

function sameShape(a: ResolvedConfig, b: ResolvedConfig): boolean {
  return (
    a.ballotKind === b.ballotKind &&
    a.delegation === b.delegation &&
    sameList(a.options, b.options) &&
    sameList(a.members, b.members)
  )
}

/**
 * Runs the configured method or CEL predicate over the tally.
 *
 * Pass the configuration the tally was created with (that object, or
 * `tally.config`, costs nothing). Another configuration for the same
 * conversation is allowed when it counts the same ballot form — e.g. to
 * show what plurality would say about a majority vote.
 *
 * A method or predicate this node cannot run yields
 * `{ reached: false, unsupported: true, reason, outcome: null }`, never a
 * guess. A plugin method that throws is treated as not reached.
 */
export function evaluate(config: ConsensusConfig | ResolvedConfig, tally: Tally): ConsensusResult {
  const c =
    config === tally.input || config === tally.config ? tally.config : resolveConfig(config, 'lenient')
  if (c.conversationId !== tally.config.conversationId) {
    throw ConsensusErrors.CONSENSUS_CONFIG_INVALID(
      `configuration of ${c.conversationId} evaluated over the tally of ${tally.config.conversationId}`
    )
  }
  if (c.unsupported !== null)
    return { reached: false, unsupported: true, reason: c.unsupported, outcome: null }
  if (c !== tally.config && !compatible(c, tally.config)) {
    return {
      reached: false,
      unsupported: true,
      reason: `${c.method} needs a tally of other options, members or ballot form than this one`,
      outcome: null
    }
  }
  if (c.predicate) return evaluatePredicate(c, tally)
  try {
    return c.impl!.evaluate(c, tally)
  } catch {
    return { reached: false, outcome: { method: c.method, winners: [], error: 'method_threw' } }
  }
}
