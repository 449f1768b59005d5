import type { ConsensusConfig } from './config.js'
import { validateConfig } from './config.js'
import { ConsensusErrors } from './errors.js'
import { evaluate } from './evaluate.js'
import { MAX_ACCOUNT_CHARS } from './limits.js'
import type { RejectReason, TallyMessage } from './messages.js'
import type { Outcome } from './method.js'
import { getMethod } from './registry.js'
import { applyMessage, createTally } from './tally.js'

export interface EvalBallotsOptions {
  /** A registered method name; or give `expr`. */
  method?: string
  params?: Record<string, unknown>
  /** A CEL predicate; or give `method`. */
  expr?: string
  /** How many members the conversation has (see below). */
  members: number
  /** The options; inferred from the ballots when absent. */
  options?: string[]
  /** A deadline in the file's clock (`t`); absent: the poll is evaluated as closed. */
  deadline?: number
  conversationId?: string
}

export interface EvalBallotsResult {
  reached: boolean
  unsupported: boolean
  /** Why the method cannot be evaluated here (unsupported only). */
  reason?: string
  outcome: Outcome | null
  winners: string[]
  /** Lines whose ballot changed nothing, with the tally's reason. */
  rejected: Array<{ line: number; reason: RejectReason; detail?: string }>
  /** Lines read (blank lines excluded). */
  lines: number
  /** Distinct voters in the file. */
  voters: number
  members: number
  /** Members that did not appear in the file (counted as not having voted). */
  absent: number
}

const ACTIONS = [
  'choice',
  'choices',
  'ranking',
  'scores',
  'objection',
  'delegate',
  'ack',
  'publish',
  'retract'
] as const
type Action = (typeof ACTIONS)[number]

interface Line {
  readonly line: number
  readonly voter: string
  readonly t: number
  readonly msg: Record<string, unknown> & { type: TallyMessage['type'] }
}

function bad(line: number, why: string): never {
  throw ConsensusErrors.CONSENSUS_BALLOTS_INVALID(`line ${line}: ${why}`, { data: { line } })
}

function id(v: unknown): string | null {
  if (typeof v === 'string' && v.length > 0 && v.length <= MAX_ACCOUNT_CHARS) return v
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v)
  return null
}

function parseLine(text: string, line: number): Line {
  let obj: unknown
  try {
    obj = JSON.parse(text)
  } catch (err) {
    bad(line, `not JSON (${(err as Error).message})`)
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) bad(line, 'not a JSON object')
  const rec = obj as Record<string, unknown>
  const voter = id(rec.voter)
  if (voter === null) bad(line, '"voter" must be a non-empty string or an integer')
  let t = 0
  if (Object.hasOwn(rec, 't')) {
    if (!Number.isSafeInteger(rec.t) || (rec.t as number) < 0) bad(line, '"t" must be a non-negative integer')
    t = rec.t as number
  }
  const present = ACTIONS.filter((k) => Object.hasOwn(rec, k))
  if (present.length !== 1) {
    bad(
      line,
      `a ballot line has exactly one of ${ACTIONS.join(', ')}${present.length ? ` (got ${present.join(', ')})` : ''}`
    )
  }
  const action = present[0] as Action
  const value = rec[action]
  switch (action) {
    case 'choice':
    case 'choices':
    case 'ranking':
    case 'scores':
      // Passed on as is: a value of the wrong type is the tally's to reject (`malformed`), not a file error.
      return { line, voter, t, msg: { type: 'ballot', [action]: value } }
    case 'objection':
      return { line, voter, t, msg: { type: 'objection', reason: value === true ? undefined : value } }
    case 'delegate':
      return { line, voter, t, msg: { type: 'delegate', to: value === null ? null : (id(value) ?? value) } }
    case 'ack':
    case 'publish':
    case 'retract':
      if (value !== true) bad(line, `"${action}" must be true`)
      return { line, voter, t, msg: { type: action } }
  }
}

function inferOptions(lines: readonly Line[]): string[] {
  const seen = new Set<string>()
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.length > 0) seen.add(v)
  }
  for (const { msg } of lines) {
    if (msg.type !== 'ballot') continue
    add(msg.choice)
    for (const list of [msg.choices, msg.ranking]) if (Array.isArray(list)) list.forEach(add)
    const s = msg.scores
    if (s !== null && typeof s === 'object' && !Array.isArray(s)) Object.keys(s).forEach(add)
  }
  return [...seen]
}

/**
 * Evaluates a method or a CEL predicate over a JSONL file of ballots,
 * offline (`conclave consensus eval`). One line per ballot:
 * `{"voter": ID, "choice": X}`, `{"voter": ID, "choices": [X, …]}`,
 * `{"voter": ID, "ranking": [X, …]}`, `{"voter": ID, "scores": {X: n}}`,
 * `{"voter": ID, "objection": REASON}`, and also `"delegate": ID`,
 * `"ack": true`, `"publish": true`, `"retract": true`; optional `"t"` is the
 * voter's clock (ms). A later line of the same voter replaces its ballot.
 *
 * Members: the first `members` distinct ids of the file (voters and
 * delegates, in file order) are the members; ids beyond those are rejected
 * as `not-member`; when the file names fewer, the rest are absent members
 * who did not vote. Options: inferred from the ballots in order of first
 * appearance unless given. Without `deadline` the poll is evaluated as
 * closed: the deadline is set to the latest `t` (at least 1) and every
 * member's clock is advanced to it. Delegation is enabled.
 *
 * Throws CONSENSUS_BALLOTS_INVALID naming the line for a line that is not
 * JSON or not a ballot shape; a ballot that is well-formed but invalid
 * (unknown option, duplicate, over budget, wrong type) is listed in
 * `rejected` with its line. Throws the config codes for bad options,
 * params or predicates. An unknown method gives `unsupported: true`.
 */
export function evalBallotsText(text: string, opts: EvalBallotsOptions): EvalBallotsResult {
  if (!Number.isSafeInteger(opts.members) || opts.members < 1) {
    throw ConsensusErrors.CONSENSUS_CONFIG_INVALID('members must be a positive integer')
  }
  const lines: Line[] = []
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  rows.forEach((row, i) => {
    if (row.trim() !== '') lines.push(parseLine(row, i + 1))
  })

  const ids: string[] = []
  const seen = new Set<string>()
  const note = (v: unknown): void => {
    if (typeof v === 'string' && !seen.has(v)) {
      seen.add(v)
      ids.push(v)
    }
  }
  for (const l of lines) {
    note(l.voter)
    if (l.msg.type === 'delegate') note(l.msg.to)
  }
  const voters = new Set(lines.map((l) => l.voter)).size
  const members = ids.slice(0, opts.members)
  let absent = 0
  for (let n = 1; members.length < opts.members; n++) {
    const name = `absent-${n}`
    if (seen.has(name)) continue
    members.push(name)
    absent++
  }

  const base = {
    lines: lines.length,
    voters,
    members: opts.members,
    absent
  }
  if (opts.method !== undefined && opts.expr === undefined && !getMethod(opts.method)) {
    return {
      reached: false,
      unsupported: true,
      reason: `this node has no consensus method ${opts.method}`,
      outcome: null,
      winners: [],
      rejected: [],
      ...base
    }
  }

  const maxT = lines.reduce((a, l) => Math.max(a, l.t), 0)
  const closedPoll = opts.deadline === undefined
  const config: ConsensusConfig = {
    conversationId: opts.conversationId ?? 'consensus-eval',
    ...(opts.expr !== undefined ? { expr: opts.expr } : {}),
    ...(opts.method !== undefined ? { method: opts.method } : {}),
    params: opts.params ?? {},
    options: opts.options ?? inferOptions(lines),
    members,
    deadline: closedPoll ? Math.max(1, maxT) : opts.deadline,
    delegation: true
  }
  const resolved = validateConfig(config)
  const tally = createTally(resolved)
  const rejected: EvalBallotsResult['rejected'] = []
  for (const l of lines) {
    const r = applyMessage(tally, Object.assign({ account: l.voter, t: l.t }, l.msg))
    if (r) rejected.push(r.detail === undefined ? { line: l.line, reason: r.reason } : { line: l.line, ...r })
  }
  if (closedPoll) {
    for (const m of members) applyMessage(tally, { type: 'heartbeat', account: m, t: resolved.deadline })
  }
  const result = evaluate(resolved, tally)
  if (result.unsupported) {
    return {
      reached: false,
      unsupported: true,
      reason: result.reason,
      outcome: null,
      winners: [],
      rejected,
      ...base
    }
  }
  return {
    reached: result.reached,
    unsupported: false,
    outcome: result.outcome,
    winners: [...result.outcome.winners],
    rejected,
    ...base
  }
}
