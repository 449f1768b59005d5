import { z } from 'zod'
import { BallotMessageSchema, type BallotKind } from '../consensus/index.js'
import { AccountIdSchema } from './certificates.js'

/**
 * Message patterns are data: each names its message kinds, the zod schema
 * of each kind's body, who may send it, in which phase, whether it may be
 * sent once, which phase it leads to, and how it maps to the consensus
 * tally. One interpreter (rules.ts) enforces every pattern the same way,
 * locally before an append and in apply. docs/conversations.md has the
 * table; changing a pattern changes what every node accepts, so a change is
 * a new pattern name (or a manifest version), never an edit in place.
 */

/** Who may send a kind: the conversation's creator account, or any member account. */
export type Sender = 'creator' | 'member'

/**
 * How a message feeds the tally. Every accepted message feeds it exactly
 * one consensus message, so each carries its author's clock into log time;
 * kinds with nothing to count map to `heartbeat`.
 */
export type TallyMapping =
  | { readonly type: 'heartbeat' | 'ack' | 'publish' | 'retract' | 'withdraw-objection' }
  /** `reason` from the body. */
  | { readonly type: 'objection' }
  /** `to` from the body. */
  | { readonly type: 'delegate' }
  /** The ballot form the body carries (`choice`, `choices`, `ranking` or `scores`). */
  | { readonly type: 'ballot'; readonly choice?: undefined }
  /** A ballot for a fixed option (invitation: accept / decline). */
  | { readonly type: 'ballot'; readonly choice: string }

export interface KindSpec {
  readonly body: z.ZodType<Record<string, unknown>>
  readonly from: Sender
  /** Phases in which the kind is allowed; 'any' for every phase. */
  readonly phases: readonly string[] | 'any'
  /** The phase the conversation moves to once this message is accepted. */
  readonly next?: string
  /** At most one accepted message of this kind per account, or per conversation. */
  readonly once?: 'account' | 'conversation'
  readonly tally: TallyMapping
  /**
   * Still counts after the conversation closed (an announcement's acks, the
   * heartbeat). Any other kind accepted after the close is stored as late
   * and feeds nothing.
   */
  readonly afterClose?: boolean
  /** False: only feeds the tally and is not listed among the messages (the heartbeat). Default true. */
  readonly listed?: boolean
}

export interface OptionsRule {
  /** none: no options; optional; required (at least `min`); fixed: exactly `fixed`, filled in when absent. */
  readonly mode: 'none' | 'optional' | 'required' | 'fixed'
  readonly min?: number
  readonly fixed?: readonly string[]
  /** Used when the manifest gives none. */
  readonly default?: readonly string[]
}

export interface ConsensusRule {
  /** Only these methods (a CEL predicate is always allowed). */
  readonly allow?: readonly string[]
  /** Any method but these. */
  readonly deny?: readonly string[]
  /** The ballot forms the pattern's kinds can cast; the method (or the predicate's `ballot`) must count one of them. */
  readonly ballotKinds?: readonly BallotKind[]
}

export interface Pattern {
  readonly name: string
  readonly description: string
  readonly initialPhase: string
  readonly options: OptionsRule
  readonly consensus: ConsensusRule
  readonly kinds: Readonly<Record<string, KindSpec>>
}

export const MAX_TEXT_CHARS = 10_000
export const MAX_REASON_CHARS = 1_000

const Text = z.string().min(1).max(MAX_TEXT_CHARS)
const Reason = z.string().max(MAX_REASON_CHARS)

export const EmptyBodySchema = z.object({}).strict()
export const TextBodySchema = z.object({ text: Text }).strict()
export const ReasonBodySchema = z.object({ reason: Reason.optional() }).strict()
export const DelegateBodySchema = z.object({ to: AccountIdSchema.nullable() }).strict()
export const ArgumentBodySchema = z.object({ side: z.enum(['for', 'against']), text: Text }).strict()
export const InviteBodySchema = z
  .object({ text: Text, when: z.string().max(200).optional(), where: z.string().max(200).optional() })
  .strict()
export const ClosingBodySchema = z.object({ text: Text.optional() }).strict()

/** Exactly one of `choice`, `choices`, `ranking`, `scores`, with the tally's own field limits. */
export const BallotBodySchema = BallotMessageSchema.omit({ type: true, account: true, t: true })
  .strict()
  .refine(
    (b) => [b.choice, b.choices, b.ranking, b.scores].filter((x) => x !== undefined).length === 1,
    'a ballot has exactly one of choice, choices, ranking, scores'
  )

/** Every pattern has it: carries the sender's clock so log time advances while a deadline is pending. */
export const HEARTBEAT_KIND = 'heartbeat'

const heartbeat: KindSpec = {
  body: EmptyBodySchema,
  from: 'member',
  phases: 'any',
  tally: { type: 'heartbeat' },
  afterClose: true,
  listed: false
}

const any = 'any' as const

export const announcement: Pattern = {
  name: 'announcement',
  description: 'The creator publishes one announcement; the other members acknowledge it.',
  initialPhase: 'draft',
  options: { mode: 'optional' },
  consensus: { allow: ['announcement'] },
  kinds: {
    publish: {
      body: TextBodySchema,
      from: 'creator',
      phases: ['draft'],
      next: 'published',
      once: 'conversation',
      tally: { type: 'publish' }
    },
    ack: {
      body: EmptyBodySchema,
      from: 'member',
      phases: ['published'],
      once: 'account',
      tally: { type: 'ack' },
      afterClose: true
    },
    [HEARTBEAT_KIND]: heartbeat
  }
}

export const discussion: Pattern = {
  name: 'discussion',
  description: 'Free posts by every member; the creator may close it.',
  initialPhase: 'open',
  options: { mode: 'optional' },
  consensus: { allow: ['announcement', 'lazy-consensus'] },
  kinds: {
    post: { body: TextBodySchema, from: 'member', phases: ['open'], tally: { type: 'heartbeat' } },
    close: {
      body: ClosingBodySchema,
      from: 'creator',
      phases: ['open'],
      next: 'closing',
      once: 'conversation',
      tally: { type: 'publish' }
    },
    [HEARTBEAT_KIND]: heartbeat
  }
}

/** What members may send while ballots are open (shared by vote and debate). */
function votingKinds(phases: readonly string[]): Record<string, KindSpec> {
  return {
    ballot: { body: BallotBodySchema, from: 'member', phases, tally: { type: 'ballot' } },
    retract: { body: EmptyBodySchema, from: 'member', phases, tally: { type: 'retract' } },
    object: { body: ReasonBodySchema, from: 'member', phases, tally: { type: 'objection' } },
    'withdraw-objection': {
      body: EmptyBodySchema,
      from: 'member',
      phases,
      tally: { type: 'withdraw-objection' }
    },
    ack: { body: EmptyBodySchema, from: 'member', phases, tally: { type: 'ack' } },
    delegate: { body: DelegateBodySchema, from: 'member', phases, tally: { type: 'delegate' } }
  }
}

export const vote: Pattern = {
  name: 'vote',
  description: 'Options and one ballot per account; the latest ballot counts until the conversation closes.',
  initialPhase: 'open',
  options: { mode: 'required', min: 2 },
  consensus: { deny: ['announcement'] },
  kinds: {
    ...votingKinds(['open']),
    comment: { body: TextBodySchema, from: 'member', phases: any, tally: { type: 'heartbeat' } },
    [HEARTBEAT_KIND]: heartbeat
  }
}

export const debate: Pattern = {
  name: 'debate',
  description: 'The creator proposes; members argue for and against; the creator opens voting; members vote.',
  initialPhase: 'proposal',
  options: { mode: 'required', min: 2, default: ['adopt', 'reject'] },
  consensus: { deny: ['announcement'] },
  kinds: {
    proposal: {
      body: TextBodySchema,
      from: 'creator',
      phases: ['proposal'],
      next: 'arguments',
      once: 'conversation',
      tally: { type: 'heartbeat' }
    },
    argument: {
      body: ArgumentBodySchema,
      from: 'member',
      phases: ['arguments'],
      tally: { type: 'heartbeat' }
    },
    'open-voting': {
      body: EmptyBodySchema,
      from: 'creator',
      phases: ['arguments'],
      next: 'voting',
      once: 'conversation',
      tally: { type: 'heartbeat' }
    },
    ...votingKinds(['voting']),
    [HEARTBEAT_KIND]: heartbeat
  }
}

export const invitation: Pattern = {
  name: 'invitation',
  description: 'The creator invites; members accept or decline.',
  initialPhase: 'draft',
  options: { mode: 'fixed', fixed: ['accept', 'decline'] },
  consensus: { deny: ['announcement'], ballotKinds: ['choice'] },
  kinds: {
    invite: {
      body: InviteBodySchema,
      from: 'creator',
      phases: ['draft'],
      next: 'open',
      once: 'conversation',
      tally: { type: 'heartbeat' }
    },
    accept: {
      body: EmptyBodySchema,
      from: 'member',
      phases: ['open'],
      tally: { type: 'ballot', choice: 'accept' }
    },
    decline: {
      body: ReasonBodySchema,
      from: 'member',
      phases: ['open'],
      tally: { type: 'ballot', choice: 'decline' }
    },
    [HEARTBEAT_KIND]: heartbeat
  }
}

const PATTERNS: ReadonlyMap<string, Pattern> = new Map(
  [announcement, discussion, vote, debate, invitation].map((p) => [p.name, p])
)

/** The built-in pattern of that name, or null. */
export function getPattern(name: string): Pattern | null {
  return PATTERNS.get(name) ?? null
}

export function listPatterns(): string[] {
  return [...PATTERNS.keys()]
}
