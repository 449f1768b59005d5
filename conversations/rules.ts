import type { BallotView, RejectReason, TallyMessage } from '../consensus/index.js'
import type { MessageEntry } from './entries.js'
import { ConversationErrors } from './errors.js'
import type { ManifestRules } from './manifest.js'
import type { KindSpec } from './patterns.js'
import { onceKey, type StateRecord } from './view-layout.js'

/**
 * The one interpreter of every message pattern (patterns.ts): the checks a
 * message must pass, in this order, and the consensus message it feeds.
 * Pure: reads only the manifest rules, the state record and `seen` (whether
 * a once-only kind was already sent), so apply and the local check before
 * an append decide alike.
 */

export interface MessageVerdict {
  readonly spec: KindSpec
  /** Parsed body (the kind's schema). */
  readonly body: Record<string, unknown>
  /** Accepted after the close: stored as late, feeds nothing. */
  readonly late: boolean
  /** What the tally is fed (null when late). */
  readonly tally: TallyMessage | null
  /** The phase after this message, or null when it does not move it. */
  readonly next: string | null
  /** The once/… key to record, or null. */
  readonly once: string | null
}

/**
 * Checks one message against its pattern. `seen(key)` answers whether a
 * once/… key is in the view. Throws CONV_KIND_UNKNOWN, CONV_BODY_INVALID,
 * CONV_FORBIDDEN, CONV_WRONG_PHASE, CONV_DUPLICATE, CONV_UNKNOWN_OPTION or
 * CONV_BALLOT_INVALID.
 */
export async function checkMessage(
  rules: ManifestRules,
  state: StateRecord,
  entry: MessageEntry,
  seen: (key: string) => Promise<boolean>
): Promise<MessageVerdict> {
  const { pattern } = rules
  if (!Object.hasOwn(pattern.kinds, entry.kind)) {
    throw ConversationErrors.CONV_KIND_UNKNOWN(`${pattern.name} has no message kind ${entry.kind}`)
  }
  const spec = pattern.kinds[entry.kind]!
  const parsed = spec.body.safeParse(entry.body)
  if (!parsed.success) throw ConversationErrors.CONV_BODY_INVALID(`malformed ${entry.kind} body`)
  const body = parsed.data
  const account = entry.author.accountId
  if (spec.from === 'creator' && account !== rules.creatorAccount) {
    throw ConversationErrors.CONV_FORBIDDEN(`only the creator may send ${entry.kind} in a ${pattern.name}`)
  }
  // After the close nothing moves any more, so a message that was valid when
  // it was sent (concurrently with the closing one) is kept as late, whatever
  // the phase and once rules would say now.
  const late = state.closed && spec.afterClose !== true
  if (!late) {
    if (spec.phases !== 'any' && !spec.phases.includes(state.phase)) {
      throw ConversationErrors.CONV_WRONG_PHASE(`${entry.kind} is not allowed in phase ${state.phase}`, {
        data: { phase: state.phase }
      })
    }
  }
  const once = !late && spec.once ? onceKey(entry.kind, spec.once === 'account' ? account : null) : null
  if (once !== null && (await seen(once))) {
    throw ConversationErrors.CONV_DUPLICATE(`${entry.kind} may be sent once per ${spec.once}`)
  }
  const tally = toTallyMessage(rules, spec, body, account, entry.hlc.wall)
  return {
    spec,
    body,
    late,
    tally: late ? null : tally,
    next: late ? null : (spec.next ?? null),
    once
  }
}

/** Maps a message to its consensus message, refusing (before the tally sees it) whatever the tally would reject. */
function toTallyMessage(
  rules: ManifestRules,
  spec: KindSpec,
  body: Record<string, unknown>,
  account: string,
  t: number
): TallyMessage {
  const m = spec.tally
  switch (m.type) {
    case 'heartbeat':
    case 'ack':
    case 'publish':
    case 'retract':
    case 'withdraw-objection':
      return { type: m.type, account, t }
    case 'objection':
      return typeof body.reason === 'string'
        ? { type: 'objection', account, t, reason: body.reason }
        : { type: 'objection', account, t }
    case 'delegate': {
      const to = (body.to ?? null) as string | null
      checkDelegation(rules, account, to)
      return { type: 'delegate', account, t, to }
    }
    case 'ballot': {
      const ballot = m.choice !== undefined ? { choice: m.choice } : pickBallot(body)
      checkBallot(rules, ballot)
      return { type: 'ballot', account, t, ...ballot }
    }
  }
}

type BallotBody =
  { choice: string } | { choices: string[] } | { ranking: string[] } | { scores: Record<string, number> }

function pickBallot(body: Record<string, unknown>): BallotBody {
  if (body.choice !== undefined) return { choice: body.choice as string }
  if (body.choices !== undefined) return { choices: body.choices as string[] }
  if (body.ranking !== undefined) return { ranking: body.ranking as string[] }
  return { scores: body.scores as Record<string, number> }
}

function refuse(reason: RejectReason, why: string): never {
  throw ConversationErrors.CONV_BALLOT_INVALID(why, { data: { reason } })
}

/**
 * The tally's ballot rules, checked up front so that an accepted message is
 * never rejected by the tally: the form the method counts, known options,
 * no option twice, then the method's own rule (score range, quadratic
 * budget). A configuration this node cannot evaluate still checks options.
 */
function checkBallot(rules: ManifestRules, ballot: BallotBody): void {
  const config = rules.resolved
  const kind = Object.keys(ballot)[0] as BallotView['kind']
  if (config.ballotKind !== 'any' && config.ballotKind !== kind) {
    refuse('wrong-ballot-kind', `${config.method} counts ${config.ballotKind} ballots, not ${kind}`)
  }
  const names =
    'choice' in ballot
      ? [ballot.choice]
      : 'choices' in ballot
        ? ballot.choices
        : 'ranking' in ballot
          ? ballot.ranking
          : Object.keys(ballot.scores)
  const index = new Map(rules.options.map((o, i) => [o, i]))
  const options: number[] = []
  for (const name of names) {
    const i = index.get(name)
    if (i === undefined) {
      throw ConversationErrors.CONV_UNKNOWN_OPTION(`no option ${JSON.stringify(name)}`, {
        data: { option: name }
      })
    }
    if (options.includes(i)) refuse('duplicate-option', `option ${JSON.stringify(name)} twice`)
    options.push(i)
  }
  const values = 'scores' in ballot ? Object.values(ballot.scores) : null
  const extra = config.impl?.checkBallot?.({ kind, options, values }, config.params) ?? null
  if (extra) refuse(extra.reason, extra.detail ?? extra.reason)
}

function checkDelegation(rules: ManifestRules, account: string, to: string | null): void {
  if (!rules.resolved.delegation) refuse('delegation-disabled', 'this conversation has no delegation')
  if (to === account) refuse('self-delegation', 'a member cannot delegate to itself')
  if (to !== null && !rules.members.has(to)) refuse('delegate-not-member', `${to} is not a member`)
}
