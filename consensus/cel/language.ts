/**
 * The predicate language a manifest records. `version` names our dialect:
 * the validator's rules and limits, the tally variables and the engine. Two
 * nodes evaluate a predicate alike only if they agree on all of it, so a
 * node refuses (shows as unsupported) any other version.
 */
export const CEL_LANGUAGE = Object.freeze({ lang: 'cel', version: '1', engine: '@marcbachmann/cel-js 8.0.0' })

/** Structural limits, checked before a predicate is ever evaluated. */
export const CEL_LIMITS = Object.freeze({
  maxSourceBytes: 2048,
  maxNodes: 200,
  maxDepth: 32,
  maxStringChars: 256,
  maxListElements: 32,
  maxMapEntries: 32,
  maxCallArguments: 4,
  /** Integer literals beyond ±2^53 are refused. */
  maxIntLiteral: 2n ** 53n
})

export interface CelVariable {
  readonly name: string
  readonly type: string
  readonly doc: string
}

/** The only identifiers a predicate may use (besides its own comprehension variables). */
export const CEL_VARIABLES: readonly CelVariable[] = Object.freeze([
  { name: 'members', type: 'int', doc: 'number of members' },
  { name: 'voted', type: 'int', doc: 'members whose vote counts, directly or through delegation' },
  { name: 'direct', type: 'int', doc: 'direct ballots' },
  { name: 'remaining', type: 'int', doc: 'members − voted' },
  {
    name: 'answered',
    type: 'int',
    doc: 'members who voted (directly or through delegation), acknowledged or objected'
  },
  { name: 'options', type: 'list<string>', doc: 'the options, in manifest order' },
  {
    name: 'counts',
    type: 'map<string, int>',
    doc: 'per option: ballots (choice), approvals (choices), first preferences (ranking) or score totals (scores)'
  },
  { name: 'top', type: 'int', doc: 'the highest count (0 without options)' },
  { name: 'second', type: 'int', doc: 'the highest count among the other options (= top when tied)' },
  {
    name: 'leader',
    type: 'string',
    doc: 'the leading option after tie-breaking ("" before the first ballot)'
  },
  {
    name: 'winners',
    type: 'list<string>',
    doc: 'the options sharing the top count, in tie-break order ([] before the first ballot)'
  },
  { name: 'objections', type: 'int', doc: 'active objections' },
  { name: 'acks', type: 'int', doc: 'acknowledgements' },
  { name: 'published', type: 'bool', doc: 'whether a member has published' },
  { name: 'now', type: 'int', doc: 'log time (ms)' },
  { name: 'deadline', type: 'int', doc: 'the deadline in log time (ms), 0 when none' },
  { name: 'expired', type: 'bool', doc: 'deadline > 0 && now >= deadline' },
  { name: 'quorum', type: 'int', doc: 'the quorum parameter (0 when none)' }
])
