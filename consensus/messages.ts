import { z } from 'zod'
import { MAX_ACCOUNT_CHARS, MAX_OPTION_CHARS, MAX_OPTIONS, MAX_REASON_CHARS } from './limits.js'

/**
 * What the tally consumes: plain messages taken from the linearized
 * conversation log. The conversation layer maps its log entries to these;
 * the tally parses them again, so a malformed one is rejected with a reason
 * and never throws out of `applyMessage`.
 */

export const AccountSchema = z.string().min(1).max(MAX_ACCOUNT_CHARS)

/** Milliseconds of log time: the wall component of the author's hybrid logical clock. */
export const LogMsSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

export const BALLOT_KINDS = ['choice', 'choices', 'ranking', 'scores'] as const
export const BallotKindSchema = z.enum(BALLOT_KINDS)
export type BallotKind = z.infer<typeof BallotKindSchema>

function isScoresObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return false
  // Object.entries sees an own "__proto__" key that JSON.parse created, so no option name is lost.
  const entries = Object.entries(v)
  if (entries.length > MAX_OPTIONS) return false
  return entries.every(([, n]) => Number.isSafeInteger(n))
}

/** `{ option: integer }`; kept as given (not rebuilt) so that no key can be dropped or turn into a prototype. */
export const ScoresSchema = z.custom<Record<string, number>>(isScoresObject, {
  message: `scores must be an object of at most ${MAX_OPTIONS} integer values`
})

const OptionRefSchema = z.string().max(MAX_OPTION_CHARS)
const OptionListSchema = z.array(OptionRefSchema).max(MAX_OPTIONS)

const base = { account: AccountSchema, t: LogMsSchema }

/** Exactly one of `choice`, `choices`, `ranking`, `scores` must be present (checked by the tally). */
export const BallotMessageSchema = z.object({
  type: z.literal('ballot'),
  ...base,
  choice: OptionRefSchema.optional(),
  choices: OptionListSchema.optional(),
  ranking: OptionListSchema.optional(),
  scores: ScoresSchema.optional()
})
export type BallotMessage = z.infer<typeof BallotMessageSchema>

/** Withdraws the author's ballot; delegation (if any) applies again. */
export const RetractMessageSchema = z.object({ type: z.literal('retract'), ...base })

export const ObjectionMessageSchema = z.object({
  type: z.literal('objection'),
  ...base,
  reason: z.string().max(MAX_REASON_CHARS).optional()
})

export const WithdrawObjectionMessageSchema = z.object({ type: z.literal('withdraw-objection'), ...base })

export const AckMessageSchema = z.object({ type: z.literal('ack'), ...base })

/** `to: null` revokes the author's delegation. */
export const DelegateMessageSchema = z.object({
  type: z.literal('delegate'),
  ...base,
  to: AccountSchema.nullable()
})

/** Carries only the author's clock, so that log time advances while a deadline is pending. */
export const HeartbeatMessageSchema = z.object({ type: z.literal('heartbeat'), ...base })

/** The announcement is published; closes an `announcement` conversation. */
export const PublishMessageSchema = z.object({ type: z.literal('publish'), ...base })

export const TallyMessageSchema = z.discriminatedUnion('type', [
  BallotMessageSchema,
  RetractMessageSchema,
  ObjectionMessageSchema,
  WithdrawObjectionMessageSchema,
  AckMessageSchema,
  DelegateMessageSchema,
  HeartbeatMessageSchema,
  PublishMessageSchema
])
export type TallyMessage = z.infer<typeof TallyMessageSchema>
export type TallyMessageType = TallyMessage['type']

export const REJECT_REASONS = [
  'malformed',
  'not-member',
  'closed',
  'wrong-ballot-kind',
  'unknown-option',
  'duplicate-option',
  'score-out-of-range',
  'over-budget',
  'delegation-disabled',
  'self-delegation',
  'delegate-not-member'
] as const
export type RejectReason = (typeof REJECT_REASONS)[number]

/** Why a message changed nothing. `detail` is for people; match on `reason`. */
export interface Rejection {
  readonly reason: RejectReason
  readonly detail?: string
}
