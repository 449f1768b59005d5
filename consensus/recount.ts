import { isRejection, normalizeBallot, type StoredBallot } from './ballot.js'
import type { ConsensusConfig, ResolvedConfig } from './config.js'
import { digestAdd } from './digest.js'
import { logNow } from './log-clock.js'
import { checkDelegation, createTally, precheck, type Tally } from './tally.js'

function representative(
  m: string,
  ballots: ReadonlyMap<string, unknown>,
  delegations: ReadonlyMap<string, string>
): string | null {
  const seen = new Set<string>()
  let cur = m
  for (;;) {
    if (ballots.has(cur)) return cur
    if (seen.has(cur)) return null
    seen.add(cur)
    const next = delegations.get(cur)
    if (next === undefined) return null
    cur = next
  }
}

function prefers(ranking: readonly number[], x: number, y: number): boolean {
  const px = ranking.indexOf(x)
  const py = ranking.indexOf(y)
  return px >= 0 && (py < 0 || px < py)
}

/**
 * Builds a tally from scratch: first the final state per account, then
 * every figure from that state alone, without the incremental bookkeeping
 * of applyMessage. It must equal the incremental tally (same
 * serialization); tests hold the two against each other, and a host can use
 * it to audit a long-running tally. O(log + members × options²).
 */
export function recountTally(config: ConsensusConfig | ResolvedConfig, messages: Iterable<unknown>): Tally {
  const tally = createTally(config)
  const c = tally.config
  const members = c.members
  const latest = new Map<string, number>()
  const final = new Map<string, StoredBallot>()
  const delegations = new Map<string, string>()
  const now = (): number =>
    logNow(
      0,
      members.map((m) => latest.get(m) ?? 0)
    )
  for (const input of messages) {
    const checked = precheck(tally, input)
    if (checked.rejection) {
      tally.rejected++
      continue
    }
    const msg = checked.msg
    const m = msg.account
    latest.set(m, Math.max(latest.get(m) ?? 0, msg.t))
    let refused = false
    switch (msg.type) {
      case 'ballot': {
        const b = normalizeBallot(c, tally.optionIndex, m, msg)
        if (isRejection(b)) refused = true
        else final.set(m, b)
        break
      }
      case 'retract':
        final.delete(m)
        break
      case 'delegate':
        if (checkDelegation(tally, m, msg.to)) refused = true
        else if (msg.to === null) delegations.delete(m)
        else delegations.set(m, msg.to)
        break
      case 'objection':
        tally.objections.set(m, msg.reason ?? '')
        break
      case 'withdraw-objection':
        tally.objections.delete(m)
        break
      case 'ack':
        tally.acks.add(m)
        break
      case 'publish':
        if (!tally.publishes.has(m)) tally.publishes.set(m, now())
        break
      case 'heartbeat':
        break
    }
    if (refused) tally.rejected++
    else tally.applied++
  }

  for (const [m, t] of latest) tally.clock.observe(m, t)
  tally.logNow = now()
  for (const [m, to] of delegations) {
    tally.delegations.set(m, to)
    tally.incoming.set(to, (tally.incoming.get(to) ?? 0) + 1)
  }

  const weight = new Map<string, number>()
  for (const m of members) {
    const r = c.delegation ? representative(m, final, delegations) : final.has(m) ? m : null
    if (r === null) continue
    weight.set(r, (weight.get(r) ?? 0) + 1)
    if (c.delegation) tally.effective.add(m)
  }

  const k = c.options.length
  for (const [m, b] of final) {
    tally.ballots.set(m, b)
    digestAdd(tally.digest, b.hash)
    const w = weight.get(m) ?? 0
    if (c.delegation) tally.weights.set(m, w)
    switch (b.kind) {
      case 'choice':
      case 'choices':
        for (const i of b.options) tally.counts[i]! += w
        break
      case 'scores':
        b.options.forEach((i, j) => {
          tally.counts[i]! += w * b.values![j]!
        })
        break
      case 'ranking':
        if (b.options.length > 0) tally.counts[b.options[0]!]! += w
        if (tally.pairwise) {
          for (let x = 0; x < k; x++) {
            for (let y = 0; y < k; y++)
              if (x !== y && prefers(b.options, x, y)) tally.pairwise[x * k + y]! += w
          }
        }
        break
    }
  }
  tally.direct = final.size
  tally.voted = [...weight.values()].reduce((a, b) => a + b, 0)
  tally.answered = members.filter(
    (m) =>
      (c.delegation ? tally.effective.has(m) : final.has(m)) || tally.acks.has(m) || tally.objections.has(m)
  ).length
  return tally
}
