import type { z } from 'zod'
import { addBallot, isRejection, normalizeBallot, type StoredBallot } from './ballot.js'
import { type ConsensusConfig, type ResolvedConfig, resolveConfig } from './config.js'
import { DIGEST_BYTES, digestAdd, digestSub } from './digest.js'
import { LogClock } from './log-clock.js'
import { type Rejection, type RejectReason, type TallyMessage, TallyMessageSchema } from './messages.js'

/**
 * The state every node derives from the same linearized conversation log.
 *
 * All figures a method reads are maintained incrementally, so applying a
 * message costs O(size of that message) — O(options²) for a ranked ballot —
 * plus O(log members) for log time. The one exception is a change to the
 * delegation structure (a delegation, or a delegating member's first or
 * withdrawn ballot), which re-resolves delegation in O(members); it never
 * depends on the length of the log.
 *
 * Treat it as read-only outside this folder: change it only through
 * `applyMessage` and `closeTally`.
 */
export interface Tally {
  readonly config: ResolvedConfig
  /** The object `createTally` was given; `evaluate` recognises it without re-validating. */
  readonly input: unknown
  readonly optionIndex: ReadonlyMap<string, number>
  readonly memberSet: ReadonlySet<string>
  /** Latest direct ballot per account (a new ballot replaces the old one until close). */
  readonly ballots: Map<string, StoredBallot>
  /**
   * Per option, in config.options order, weighted by delegation: choice → ballots for it;
   * choices → approvals; ranking → first preferences; scores → sum of scores.
   */
  readonly counts: number[]
  /** Ranked ballots only: flat k×k, d[x*k+y] = weighted ballots preferring x to y. */
  readonly pairwise: number[] | null
  /** Delegation only: the weight (members represented) of each direct voter. */
  readonly weights: Map<string, number>
  readonly delegations: Map<string, string>
  /** Delegation only: how many members delegate directly to each account. */
  readonly incoming: Map<string, number>
  /** Delegation only: members whose vote counts, directly or through delegation. */
  readonly effective: Set<string>
  /** Active objections: account → reason. */
  readonly objections: Map<string, string>
  readonly acks: Set<string>
  /** Account → log time of its first `publish`. */
  readonly publishes: Map<string, number>
  readonly clock: LogClock
  /** Sum of ballot hashes mod 2^256; feeds tie-breaking. */
  readonly digest: Uint8Array
  readonly scratch: Int32Array
  /** Members whose vote counts (direct or delegated) = Σ weights. */
  voted: number
  /** Direct ballots. */
  direct: number
  /** Members who voted (directly or through delegation), acknowledged or objected. */
  answered: number
  logNow: number
  /** Messages that changed (or could have changed) the tally. */
  applied: number
  rejected: number
  closed: boolean
}

export function createTally(config: ConsensusConfig | ResolvedConfig): Tally {
  const resolved = resolveConfig(config, 'lenient')
  const k = resolved.options.length
  return {
    config: resolved,
    input: config,
    optionIndex: new Map(resolved.options.map((o, i) => [o, i])),
    memberSet: new Set(resolved.members),
    ballots: new Map(),
    counts: new Array<number>(k).fill(0),
    pairwise: resolved.ballotKind === 'ranking' ? new Array<number>(k * k).fill(0) : null,
    weights: new Map(),
    delegations: new Map(),
    incoming: new Map(),
    effective: new Set(),
    objections: new Map(),
    acks: new Set(),
    publishes: new Map(),
    clock: new LogClock(resolved.members),
    digest: new Uint8Array(DIGEST_BYTES),
    scratch: new Int32Array(k),
    voted: 0,
    direct: 0,
    answered: 0,
    logNow: 0,
    applied: 0,
    rejected: 0,
    closed: false
  }
}

export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid'
  const path = issue.path.map(String).join('.')
  return path ? `${path}: ${issue.message}` : issue.message
}

function reject(tally: Tally, reason: RejectReason, detail?: string): Rejection {
  tally.rejected++
  return detail === undefined ? { reason } : { reason, detail }
}

/** Parses a message and checks its author is a member (shared with the recount). */
export function precheck(
  tally: Tally,
  input: unknown
): { readonly msg: TallyMessage; readonly rejection?: undefined } | { readonly rejection: Rejection } {
  const parsed = TallyMessageSchema.safeParse(input)
  if (!parsed.success) return { rejection: { reason: 'malformed', detail: describeIssue(parsed.error) } }
  const msg = parsed.data
  if (!tally.memberSet.has(msg.account)) return { rejection: { reason: 'not-member', detail: msg.account } }
  return { msg }
}

/** Static checks of a delegation (shared with the recount). */
export function checkDelegation(tally: Tally, account: string, to: string | null): Rejection | null {
  if (!tally.config.delegation) return { reason: 'delegation-disabled' }
  if (to === account) return { reason: 'self-delegation' }
  if (to !== null && !tally.memberSet.has(to)) return { reason: 'delegate-not-member', detail: to }
  return null
}

/**
 * Applies one message of the linearized log. Returns null when it was
 * applied, or why it changed nothing. Never throws on bad input.
 *
 * After `closeTally`, only acknowledgements and heartbeats still apply (an
 * announcement keeps tracking acknowledgements); everything else is
 * rejected as `closed` and left for the host to record as late.
 */
export function applyMessage(tally: Tally, input: unknown): Rejection | null {
  // precheck(), inlined: this runs once per message of the log.
  const parsed = TallyMessageSchema.safeParse(input)
  if (!parsed.success) return reject(tally, 'malformed', describeIssue(parsed.error))
  const msg = parsed.data
  if (!tally.memberSet.has(msg.account)) return reject(tally, 'not-member', msg.account)
  if (tally.closed && msg.type !== 'ack' && msg.type !== 'heartbeat') return reject(tally, 'closed')
  const m = msg.account
  // Every well-formed entry of a member carries its author's clock, even one whose content is refused.
  if (tally.clock.observe(m, msg.t)) tally.logNow = Math.max(tally.logNow, tally.clock.median)
  switch (msg.type) {
    case 'ballot': {
      const b = normalizeBallot(tally.config, tally.optionIndex, m, msg)
      if (isRejection(b)) return reject(tally, b.reason, b.detail)
      setBallot(tally, m, b)
      break
    }
    case 'retract':
      setBallot(tally, m, null)
      break
    case 'delegate': {
      const bad = checkDelegation(tally, m, msg.to)
      if (bad) return reject(tally, bad.reason, bad.detail)
      setDelegation(tally, m, msg.to)
      break
    }
    case 'objection': {
      const before = isAnswered(tally, m)
      tally.objections.set(m, msg.reason ?? '')
      answeredDelta(tally, m, before)
      break
    }
    case 'withdraw-objection': {
      const before = isAnswered(tally, m)
      tally.objections.delete(m)
      answeredDelta(tally, m, before)
      break
    }
    case 'ack': {
      const before = isAnswered(tally, m)
      tally.acks.add(m)
      answeredDelta(tally, m, before)
      break
    }
    case 'publish':
      if (!tally.publishes.has(m)) tally.publishes.set(m, tally.logNow)
      break
    case 'heartbeat':
      break
  }
  tally.applied++
  return null
}

/** Stops counting: later ballots, objections and delegations are rejected as `closed`. */
export function closeTally(tally: Tally): void {
  tally.closed = true
}

function votes(tally: Tally, m: string): boolean {
  return tally.config.delegation ? tally.effective.has(m) : tally.ballots.has(m)
}

function isAnswered(tally: Tally, m: string): boolean {
  return votes(tally, m) || tally.acks.has(m) || tally.objections.has(m)
}

function answeredDelta(tally: Tally, m: string, before: boolean): void {
  const after = isAnswered(tally, m)
  if (after !== before) tally.answered += after ? 1 : -1
}

/** A member's delegation matters to others only if it delegates or is delegated to. */
function isolated(tally: Tally, m: string): boolean {
  return !tally.delegations.has(m) && !tally.incoming.get(m)
}

function setBallot(tally: Tally, m: string, b: StoredBallot | null): void {
  const prev = tally.ballots.get(m)
  if (!prev && !b) return
  const before = isAnswered(tally, m)
  const { counts, pairwise, scratch } = tally
  if (prev && b) {
    // A changed vote: the delegation structure is unchanged, only the figures move.
    const w = tally.config.delegation ? tally.weights.get(m)! : 1
    addBallot(counts, pairwise, prev, -w, scratch)
    addBallot(counts, pairwise, b, w, scratch)
    digestSub(tally.digest, prev.hash)
    digestAdd(tally.digest, b.hash)
    tally.ballots.set(m, b)
    return
  }
  if (b) {
    tally.ballots.set(m, b)
    digestAdd(tally.digest, b.hash)
    tally.direct++
    if (!tally.config.delegation) {
      addBallot(counts, pairwise, b, 1, scratch)
      tally.voted++
    } else if (isolated(tally, m)) {
      tally.weights.set(m, 1)
      tally.effective.add(m)
      addBallot(counts, pairwise, b, 1, scratch)
      tally.voted++
    } else {
      tally.weights.set(m, 0)
      redistribute(tally)
      return
    }
  } else if (prev) {
    tally.ballots.delete(m)
    digestSub(tally.digest, prev.hash)
    tally.direct--
    const w = tally.config.delegation ? tally.weights.get(m)! : 1
    addBallot(counts, pairwise, prev, -w, scratch)
    if (!tally.config.delegation) {
      tally.voted--
    } else if (isolated(tally, m)) {
      tally.weights.delete(m)
      tally.effective.delete(m)
      tally.voted--
    } else {
      tally.weights.delete(m)
      redistribute(tally)
      return
    }
  }
  answeredDelta(tally, m, before)
}

function setDelegation(tally: Tally, m: string, to: string | null): void {
  const prev = tally.delegations.get(m)
  if (prev === (to ?? undefined)) return
  if (prev !== undefined) {
    const n = tally.incoming.get(prev)! - 1
    if (n === 0) tally.incoming.delete(prev)
    else tally.incoming.set(prev, n)
  }
  if (to === null) tally.delegations.delete(m)
  else {
    tally.delegations.set(m, to)
    tally.incoming.set(to, (tally.incoming.get(to) ?? 0) + 1)
  }
  // A direct ballot overrides the member's own delegation, so nobody's weight moves.
  if (!tally.ballots.has(m)) redistribute(tally)
}

/**
 * Resolves every member to the direct voter who casts its vote: itself if
 * it voted, else the first direct voter along its delegation chain, else
 * nobody (no delegation, or a cycle). Shared with the recount.
 */
export function resolveRepresentatives(
  members: readonly string[],
  hasBallot: (m: string) => boolean,
  delegations: ReadonlyMap<string, string>
): Map<string, string | null> {
  const rep = new Map<string, string | null>()
  for (const start of members) {
    if (rep.has(start)) continue
    const path: string[] = []
    const onPath = new Set<string>()
    let cur = start
    let found: string | null
    for (;;) {
      const known = rep.get(cur)
      if (known !== undefined) {
        found = known
        break
      }
      if (hasBallot(cur)) {
        found = cur
        rep.set(cur, cur)
        break
      }
      const next = delegations.get(cur)
      if (next === undefined) {
        found = null
        rep.set(cur, null)
        break
      }
      // Back on the current path: a cycle, which casts nothing.
      if (onPath.has(cur)) {
        found = null
        break
      }
      onPath.add(cur)
      path.push(cur)
      cur = next
    }
    for (const p of path) rep.set(p, found)
  }
  return rep
}

/** Re-resolves delegation and moves each direct voter's figures by its change of weight. */
function redistribute(tally: Tally): void {
  const rep = resolveRepresentatives(tally.config.members, (m) => tally.ballots.has(m), tally.delegations)
  const fresh = new Map<string, number>()
  tally.effective.clear()
  for (const [m, r] of rep) {
    if (r === null) continue
    tally.effective.add(m)
    fresh.set(r, (fresh.get(r) ?? 0) + 1)
  }
  for (const [v, b] of tally.ballots) {
    const old = tally.weights.get(v) ?? 0
    const now = fresh.get(v) ?? 0
    if (old !== now) {
      addBallot(tally.counts, tally.pairwise, b, now - old, tally.scratch)
      tally.weights.set(v, now)
    }
  }
  tally.voted = tally.effective.size
  let answered = 0
  for (const m of tally.config.members) if (isAnswered(tally, m)) answered++
  tally.answered = answered
}
