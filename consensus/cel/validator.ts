import type { ASTNode, ParseResult } from '@marcbachmann/cel-js'
import { ConsensusErrors } from '../errors.js'
import { celEnvironment } from './environment.js'
import { CEL_LIMITS, CEL_VARIABLES } from './language.js'

/** A predicate that passed every check, ready to evaluate. */
export interface CompiledPredicate {
  readonly source: string
  readonly run: ParseResult
}

/** Why a predicate was refused; stable, for callers and tests (the message is for people). */
export type PredicateRefusal =
  | 'not-a-string'
  | 'too-long'
  | 'syntax'
  | 'too-large'
  | 'too-deep'
  | 'literal'
  | 'unknown-variable'
  | 'field-selection'
  | 'forbidden-function'
  | 'nested-comprehension'
  | 'bad-comprehension'
  | 'forbidden-key'
  | 'type'
  | 'not-bool'

const VARIABLES = new Set(CEL_VARIABLES.map((v) => v.name))

/** Global functions a predicate may call. */
const FUNCTIONS = new Set(['size', 'int', 'double', 'string'])

/** Receiver methods a predicate may call. */
const METHODS = new Set(['size', 'contains', 'startsWith', 'endsWith'])

/** Comprehension macros: each iterates a list (or map keys) once. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'filter'])

/** Named refusals, so the reason says why rather than only "not allowed". */
const FORBIDDEN: Readonly<Record<string, string>> = {
  matches: 'regular expressions can take exponential time',
  map: 'map builds new lists and multiplies cost',
  has: 'presence tests need field selection; use `"x" in counts`',
  dyn: 'dynamic typing defeats the type check',
  type: 'type values are not needed over a tally',
  bind: 'cel.bind is not supported',
  timestamp: 'wall-clock time would differ between nodes; use `now`',
  duration: 'use integer milliseconds'
}

/** Keys that name JavaScript prototype machinery rather than data. */
const PROTO_KEYS = new Set(['__proto__', 'constructor', 'prototype', '__defineGetter__', '__lookupGetter__'])

const encoder = new TextEncoder()

function refuse(reason: PredicateRefusal, detail: string, at?: number): never {
  const where = at === undefined ? '' : ` at ${at}`
  throw ConsensusErrors.CONSENSUS_PREDICATE_INVALID(`predicate refused (${reason}${where}): ${detail}`, {
    data: at === undefined ? { reason, detail } : { reason, detail, at }
  })
}

interface WalkState {
  nodes: number
  readonly scope: string[]
  comprehensions: number
}

function functionRefusal(name: string, at: number): never {
  const why = FORBIDDEN[name]
  refuse('forbidden-function', why ? `${name}: ${why}` : `${name} is not an allowed function`, at)
}

function checkLiteral(node: ASTNode & { op: 'value' }): void {
  const v: unknown = node.args
  const at = node.start
  if (typeof v === 'string') {
    if (v.length > CEL_LIMITS.maxStringChars) {
      refuse('literal', `string literal longer than ${CEL_LIMITS.maxStringChars} characters`, at)
    }
    return
  }
  if (typeof v === 'bigint') {
    if (v > CEL_LIMITS.maxIntLiteral || v < -CEL_LIMITS.maxIntLiteral) {
      refuse('literal', 'integer literal beyond ±2^53', at)
    }
    return
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER)
      refuse('literal', 'double literal too large', at)
    return
  }
  if (typeof v === 'boolean' || v === null) return
  refuse('literal', 'only string, int, double, bool and null literals are allowed', at)
}

function walk(node: ASTNode, depth: number, st: WalkState): void {
  if (++st.nodes > CEL_LIMITS.maxNodes)
    refuse('too-large', `more than ${CEL_LIMITS.maxNodes} nodes`, node.start)
  if (depth > CEL_LIMITS.maxDepth) refuse('too-deep', `nested deeper than ${CEL_LIMITS.maxDepth}`, node.start)
  const at = node.start
  const d = depth + 1
  switch (node.op) {
    case 'value':
      checkLiteral(node)
      return
    case 'id':
      if (!VARIABLES.has(node.args) && !st.scope.includes(node.args)) {
        refuse('unknown-variable', `${node.args} is not a tally variable`, at)
      }
      return
    case '.':
    case '.?':
      refuse('field-selection', `.${node.args[1]}: field selection is not allowed; use counts["x"]`, at)
      return
    case '[?]':
      refuse('field-selection', 'optional indexing is not allowed', at)
      return
    case '[]': {
      const [obj, key] = node.args
      if (key.op === 'value' && typeof key.args === 'string' && PROTO_KEYS.has(key.args)) {
        refuse('forbidden-key', `${key.args} is not a data key`, key.start)
      }
      walk(obj, d, st)
      walk(key, d, st)
      return
    }
    case 'call': {
      const [name, args] = node.args
      if (!FUNCTIONS.has(name)) functionRefusal(name, at)
      for (const a of args) walk(a, d, st)
      return
    }
    case 'rcall': {
      const [name, receiver, args] = node.args
      if (COMPREHENSIONS.has(name)) {
        if (st.comprehensions > 0) {
          refuse('nested-comprehension', `${name} inside another all/exists/exists_one/filter`, at)
        }
        const iter = args[0]
        if (args.length !== 2 || !iter || iter.op !== 'id') {
          refuse('bad-comprehension', `${name} takes (variable, predicate)`, at)
        }
        const v = iter.args
        if (VARIABLES.has(v) || st.scope.includes(v)) {
          refuse('bad-comprehension', `${v} would shadow a variable`, iter.start)
        }
        st.comprehensions++
        walk(receiver, d, st)
        st.scope.push(v)
        walk(args[1]!, d, st)
        st.scope.pop()
        st.comprehensions--
        return
      }
      if (!METHODS.has(name)) functionRefusal(name, at)
      walk(receiver, d, st)
      for (const a of args) walk(a, d, st)
      return
    }
    case 'list':
      for (const e of node.args) walk(e, d, st)
      return
    case 'map':
      for (const [k, v] of node.args) {
        if (k.op === 'value' && typeof k.args === 'string' && PROTO_KEYS.has(k.args)) {
          refuse('forbidden-key', `${k.args} is not a data key`, k.start)
        }
        walk(k, d, st)
        walk(v, d, st)
      }
      return
    case '!_':
    case '-_':
      walk(node.args, d, st)
      return
    case '?:':
      for (const a of node.args) walk(a, d, st)
      return
    case '||':
    case '&&':
    case '!=':
    case '==':
    case 'in':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '<':
    case '<=':
    case '>':
    case '>=':
      walk(node.args[0], d, st)
      walk(node.args[1], d, st)
      return
    default:
      refuse('syntax', `unsupported construct ${(node as { op: string }).op}`, at)
  }
}

/**
 * Refuses a predicate unless it is small, shallow, uses only the tally
 * variables and whitelisted functions, nests no comprehension in another
 * (neither in its list nor in its body) and type-checks as bool. This bounds
 * evaluation to O(nodes × options): no regular expressions, no `map`, no
 * field selection (so no `x.constructor`), no bytes, timestamps or dyn.
 * Throws CONSENSUS_PREDICATE_INVALID with `data.reason`.
 */
export function compilePredicate(source: unknown): CompiledPredicate {
  if (typeof source !== 'string') refuse('not-a-string', 'a predicate is a string')
  const bytes = encoder.encode(source).length
  if (bytes > CEL_LIMITS.maxSourceBytes) {
    refuse('too-long', `${bytes} bytes; at most ${CEL_LIMITS.maxSourceBytes}`)
  }
  const env = celEnvironment()
  let run: ParseResult
  try {
    run = env.parse(source)
  } catch (err) {
    const e = err as { code?: string; message?: string }
    const first = String(e.message ?? err).split('\n')[0]!
    if (e.code === 'limit_exceeded') refuse(/maxDepth/.test(first) ? 'too-deep' : 'too-large', first)
    refuse('syntax', first)
  }
  walk(run.ast, 0, { nodes: 0, scope: [], comprehensions: 0 })
  const checked = run.check()
  if (!checked.valid) refuse('type', String(checked.error?.message ?? 'type error').split('\n')[0]!)
  if (checked.type !== 'bool') refuse('not-bool', `the predicate is ${checked.type}, not bool`)
  return Object.freeze({ source, run })
}

/** Validates a predicate (see compilePredicate); returns normally when it is acceptable. */
export function validatePredicate(source: unknown): void {
  compilePredicate(source)
}
