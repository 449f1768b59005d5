import { canonicalJson, RawJson } from './canonical-json.js'
import { compareStrings, tallyDigest, toHex } from './digest.js'
import type { Tally } from './tally.js'

/**
 * The canonical JSON of a tally: its configuration, the latest state per
 * account, and every maintained figure. Two nodes that applied the same
 * linearized log produce the same text; including the derived figures
 * (counts, weights, pairwise matrix) means a divergence in incremental
 * bookkeeping shows up in the hash. O(state): for checks, not per message.
 */
export function serializeTally(tally: Tally): string {
  const c = tally.config
  return canonicalJson({
    v: 1,
    conversationId: c.conversationId,
    method: c.method,
    expr: c.expr,
    params: c.params,
    options: c.options,
    members: [...c.members].sort(compareStrings),
    deadline: c.deadline,
    delegation: c.delegation,
    ballots: new Map([...tally.ballots].map(([a, b]) => [a, new RawJson(b.canon)])),
    delegations: tally.delegations,
    weights: c.delegation ? tally.weights : null,
    objections: tally.objections,
    acks: tally.acks,
    publishes: tally.publishes,
    latest: tally.clock.heard(),
    logNow: tally.logNow,
    counts: tally.counts,
    pairwise: tally.pairwise,
    voted: tally.voted,
    direct: tally.direct,
    answered: tally.answered,
    digest: toHex(tally.digest),
    applied: tally.applied,
    rejected: tally.rejected,
    closed: tally.closed
  })
}

/** Hex BLAKE2b-256 of the canonical serialization, labelled `conclave/consensus/tally/v1`. */
export function tallyHash(tally: Tally): string {
  return tallyDigest(serializeTally(tally))
}
