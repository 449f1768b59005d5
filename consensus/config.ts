import { z } from 'zod'
import type { ConclaveError } from '../src/kernel/errors.js'
import { CEL_LANGUAGE } from './cel/language.js'
import { type CompiledPredicate, compilePredicate } from './cel/validator.js'
import { ConsensusErrors } from './errors.js'
import { MAX_CONVERSATION_ID_CHARS, MAX_MEMBERS, MAX_OPTION_CHARS, MAX_OPTIONS } from './limits.js'
import { AccountSchema, type BallotKind, BallotKindSchema, LogMsSchema } from './messages.js'
import type { ConsensusMethod } from './method.js'
import { QuorumSchema } from './methods/shared.js'
import { getMethod } from './registry.js'

/**
 * The part of a conversation's manifest that consensus reads. Exactly one
 * of `method` (a registered name) and `expr` (a CEL predicate) is given.
 */
export const ConsensusConfigSchema = z
  .object({
    conversationId: z.string().min(1).max(MAX_CONVERSATION_ID_CHARS),
    method: z.string().min(1).max(64).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    expr: z.string().optional(),
    /** What the manifest recorded about the predicate language; absent means this node's. */
    exprLang: z.object({ lang: z.string().max(32), version: z.string().max(64) }).optional(),
    options: z.array(z.string().min(1).max(MAX_OPTION_CHARS)).max(MAX_OPTIONS).optional(),
    members: z.array(AccountSchema).min(1).max(MAX_MEMBERS),
    /** Log time (ms); absent or 0: no deadline. */
    deadline: LogMsSchema.optional(),
    /** Liquid delegation: members may delegate their vote (default off). */
    delegation: z.boolean().optional()
  })
  .superRefine((c, ctx) => {
    if ((c.method === undefined) === (c.expr === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of method and expr', path: ['method'] })
    }
    if (new Set(c.members).size !== c.members.length) {
      ctx.addIssue({ code: 'custom', message: 'members must be unique', path: ['members'] })
    }
    if (c.options && new Set(c.options).size !== c.options.length) {
      ctx.addIssue({ code: 'custom', message: 'options must be unique', path: ['options'] })
    }
  })
export type ConsensusConfig = z.input<typeof ConsensusConfigSchema>

/** Parameters of a CEL predicate: which ballot form the tally counts, and the quorum it exposes. */
export const CelParamsSchema = z
  .object({ ballot: BallotKindSchema.default('choice'), quorum: QuorumSchema })
  .strict()

/** A configuration checked once and frozen; what tallies and methods read. */
export interface ResolvedConfig<P = Readonly<Record<string, unknown>>> {
  readonly conversationId: string
  /** The method name, or 'cel' for a predicate. */
  readonly method: string
  readonly expr: string | null
  readonly params: P
  readonly options: readonly string[]
  readonly members: readonly string[]
  /** 0 when there is no deadline. */
  readonly deadline: number
  readonly delegation: boolean
  /** The ballot form counted; 'any' when the method is unsupported (ballots are still recorded). */
  readonly ballotKind: BallotKind | 'any'
  readonly impl: ConsensusMethod | null
  readonly predicate: CompiledPredicate | null
  /** Why this node cannot evaluate the conversation, or null. */
  readonly unsupported: string | null
}

type Mode = 'strict' | 'lenient'

const resolved = new WeakSet<object>()
/** Why a leniently resolved configuration is unsupported, to rethrow in strict mode. */
const refusals = new WeakMap<object, ConclaveError>()
const cache = {
  strict: new WeakMap<object, ResolvedConfig>(),
  lenient: new WeakMap<object, ResolvedConfig>()
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid'
  const path = issue.path.map(String).join('.')
  return path ? `${path}: ${issue.message}` : issue.message
}

function build(input: unknown, mode: Mode): ResolvedConfig {
  const parsed = ConsensusConfigSchema.safeParse(input)
  if (!parsed.success) throw ConsensusErrors.CONSENSUS_CONFIG_INVALID(firstIssue(parsed.error))
  const c = parsed.data
  const base = {
    conversationId: c.conversationId,
    options: Object.freeze([...(c.options ?? [])]),
    members: Object.freeze([...c.members]),
    deadline: c.deadline ?? 0,
    delegation: c.delegation ?? false
  }
  const unsupported = (method: string, err: ConclaveError): ResolvedConfig => {
    if (mode === 'strict') throw err
    const config: ResolvedConfig = {
      ...base,
      method,
      expr: c.expr ?? null,
      params: Object.freeze({ ...(c.params ?? {}) }),
      ballotKind: 'any',
      impl: null,
      predicate: null,
      unsupported: err.message
    }
    refusals.set(config, err)
    return config
  }

  if (c.expr !== undefined) {
    const lang = c.exprLang
    if (lang && (lang.lang !== CEL_LANGUAGE.lang || lang.version !== CEL_LANGUAGE.version)) {
      return unsupported(
        'cel',
        ConsensusErrors.CONSENSUS_PREDICATE_INVALID(
          `predicate language ${lang.lang} ${lang.version} is not supported (this node has ${CEL_LANGUAGE.lang} ${CEL_LANGUAGE.version})`,
          { data: { reason: 'language' } }
        )
      )
    }
    const params = CelParamsSchema.safeParse(c.params ?? {})
    if (!params.success) {
      return unsupported('cel', ConsensusErrors.CONSENSUS_PARAMS_INVALID(`cel: ${firstIssue(params.error)}`))
    }
    let predicate: CompiledPredicate
    try {
      predicate = compilePredicate(c.expr)
    } catch (err) {
      return unsupported('cel', err as ConclaveError)
    }
    return {
      ...base,
      method: 'cel',
      expr: c.expr,
      params: Object.freeze(params.data),
      ballotKind: params.data.ballot,
      impl: null,
      predicate,
      unsupported: null
    }
  }

  const name = c.method!
  const impl = getMethod(name)
  if (!impl) {
    return unsupported(
      name,
      ConsensusErrors.CONSENSUS_METHOD_UNKNOWN(`this node has no consensus method ${name}`)
    )
  }
  const params = impl.params.safeParse(c.params ?? {})
  if (!params.success) {
    return unsupported(name, ConsensusErrors.CONSENSUS_PARAMS_INVALID(`${name}: ${firstIssue(params.error)}`))
  }
  const config: ResolvedConfig = {
    ...base,
    method: name,
    expr: null,
    params: Object.freeze({ ...(params.data as Record<string, unknown>) }),
    ballotKind: impl.ballot,
    impl,
    predicate: null,
    unsupported: null
  }
  const refused = impl.check?.(config) ?? null
  if (refused) return unsupported(name, ConsensusErrors.CONSENSUS_PARAMS_INVALID(`${name}: ${refused}`))
  return config
}

/**
 * Validates and freezes a configuration. `strict` (creating a conversation,
 * `consensus eval`) throws CONSENSUS_CONFIG_INVALID, CONSENSUS_METHOD_UNKNOWN,
 * CONSENSUS_PARAMS_INVALID or CONSENSUS_PREDICATE_INVALID. `lenient` (a
 * conversation received from a peer) throws only for a structurally invalid
 * configuration and otherwise marks what this node cannot evaluate as
 * unsupported, so it is shown, never guessed. Results are cached per input
 * object: treat configurations as immutable.
 */
export function resolveConfig(input: ConsensusConfig | ResolvedConfig, mode: Mode): ResolvedConfig {
  if (typeof input === 'object' && input !== null) {
    if (resolved.has(input)) {
      const r = input as ResolvedConfig
      if (mode === 'lenient' || r.unsupported === null) return r
      throw refusals.get(r) ?? ConsensusErrors.CONSENSUS_CONFIG_INVALID(r.unsupported)
    }
    const hit = cache[mode].get(input)
    if (hit) return hit
  }
  const built = build(input, mode)
  const config = Object.freeze(built)
  resolved.add(config)
  if (typeof input === 'object' && input !== null) cache[mode].set(input, config)
  return config
}

/** Checks a configuration as a conversation is created; throws with a clear code and reason. */
export function validateConfig(input: ConsensusConfig): ResolvedConfig {
  return resolveConfig(input, 'strict')
}
