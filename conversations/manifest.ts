import { z } from 'zod'
import {
  CEL_LANGUAGE,
  type ConsensusConfig,
  LogMsSchema,
  type ResolvedConfig,
  resolveConfig,
  validateConfig
} from '../consensus/index.js'
import { labelledHash } from '../src/kernel/crypto/hash.js'
import { canonicalBytes, hexSchema } from '../src/kernel/encoding.js'
import { type ConversationId, encodeId, isId } from '../src/kernel/ids.js'
import type { KeyPair } from '../src/kernel/substrate/index.js'
import {
  AccountIdSchema,
  type CertifiedDevice,
  checkCertificate,
  DeviceIdSchema,
  isRootOf,
  type RootPublic,
  RootPublicSchema,
  SignedCertSchema
} from './certificates.js'
import { ConversationErrors } from './errors.js'
import { getPattern, type Pattern } from './patterns.js'
import { SIGN_CONTEXT, signValue, verifyValue } from './signing.js'

/**
 * The manifest: the first entry of every conversation log, appended by the
 * creator's writer (the bootstrap core). It fixes the topic, the pattern,
 * the consensus rule, the members with their root keys and certified
 * devices, the optional deadline, and is signed by the creator's device.
 */

export const MANIFEST_TYPE = 'conv/manifest'
export const MAX_MEMBERS = 64
export const MAX_DEVICES_PER_MEMBER = 16
export const MAX_TOPIC_CHARS = 200
/** The predicate validator refuses more anyway; this bounds the manifest. */
const MAX_EXPR_CHARS = 4096

/** Label of the conversation id: `cnv_…` = encodeId('conversation', first 16 bytes of labelledHash(label, [base key])). */
export const CONVERSATION_ID_LABEL = 'conclave/v1/conversation-id'
const MANIFEST_DIGEST_LABEL = 'conclave/conv/manifest-digest/v1'

/**
 * A conversation's id from its base key (= coreKeyFor(creator's writer
 * public key)): known before the base is opened, so the creator can put it
 * in the manifest and an invitation can name it.
 */
export function conversationIdFor(baseKey: Uint8Array): ConversationId {
  return encodeId('conversation', labelledHash(CONVERSATION_ID_LABEL, [baseKey]).subarray(0, 16))
}

export const ConversationIdSchema = z.string().refine((s) => isId('conversation', s), 'not a conversation id')

/** The consensus part of a manifest: a named method with parameters, or a CEL predicate. */
export const ConsensusPartSchema = z
  .object({
    method: z.string().min(1).max(64).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    expr: z.string().min(1).max(MAX_EXPR_CHARS).optional(),
    exprLang: z
      .object({ lang: z.string().max(32), version: z.string().max(64) })
      .strict()
      .optional(),
    delegation: z.boolean().optional()
  })
  .strict()
export type ConsensusPart = z.infer<typeof ConsensusPartSchema>

export const MemberSchema = z
  .object({
    accountId: AccountIdSchema,
    rootPublic: RootPublicSchema,
    /** Root-signed device certificates `{ cert, sig }` exactly as the cluster issues them. */
    devices: z.array(SignedCertSchema).min(1).max(MAX_DEVICES_PER_MEMBER)
  })
  .strict()
export type Member = z.infer<typeof MemberSchema>

const OptionSchema = z.string().min(1).max(200)

const ManifestFields = {
  type: z.literal(MANIFEST_TYPE),
  v: z.literal(1),
  id: ConversationIdSchema,
  topic: z.string().min(1).max(MAX_TOPIC_CHARS),
  pattern: z.string().min(1).max(64),
  consensus: ConsensusPartSchema,
  options: z.array(OptionSchema).max(64).optional(),
  members: z.array(MemberSchema).min(1).max(MAX_MEMBERS),
  /** Log time (ms of the members' clocks, see docs/consensus.md); absent: none. */
  deadline: LogMsSchema.optional(),
  /** The creator's wall clock when it created the conversation (ms). */
  createdAt: LogMsSchema,
  creator: z.object({ accountId: AccountIdSchema, deviceId: DeviceIdSchema }).strict()
}

export const UnsignedManifestSchema = z.object(ManifestFields).strict()
export type UnsignedManifest = z.infer<typeof UnsignedManifestSchema>

export const ManifestSchema = z.object({ ...ManifestFields, sig: hexSchema(64) }).strict()
export type Manifest = z.infer<typeof ManifestSchema>

/** What a creator chooses; the id, creation time, creator and signature are filled in by `buildManifest`. */
export const ManifestInputSchema = z
  .object({
    topic: ManifestFields.topic,
    pattern: ManifestFields.pattern,
    consensus: ConsensusPartSchema,
    options: ManifestFields.options,
    members: ManifestFields.members,
    deadline: ManifestFields.deadline
  })
  .strict()
export type ManifestInput = z.input<typeof ManifestInputSchema>

/** The member and device facts apply and the local checks read, derived once per manifest. */
export interface ManifestRules {
  readonly manifest: Manifest
  /** labelledHash of the canonical manifest: names it in the tally chain and the state record. */
  readonly digest: string
  readonly pattern: Pattern
  readonly members: ReadonlyMap<string, { readonly rootPublic: RootPublic; readonly index: number }>
  /** Every device certified in the manifest, by device id. */
  readonly devices: ReadonlyMap<string, CertifiedDevice>
  readonly creatorAccount: string
  readonly options: readonly string[]
  /** The tally configuration (frozen; one object per manifest so consensus caches it). */
  readonly config: ConsensusConfig
  /** Resolved leniently: `unsupported` says why this node cannot evaluate it. */
  readonly resolved: ResolvedConfig
}

export function manifestDigest(manifest: Manifest): string {
  return labelledHash(MANIFEST_DIGEST_LABEL, [canonicalBytes(manifest)]).toString('hex')
}

export function consensusConfigOf(m: UnsignedManifest): ConsensusConfig {
  return Object.freeze({
    conversationId: m.id,
    ...m.consensus,
    options: [...(m.options ?? [])],
    members: m.members.map((x) => x.accountId),
    ...(m.deadline === undefined ? {} : { deadline: m.deadline })
  })
}

function invalid(why: string): never {
  throw ConversationErrors.CONV_MANIFEST_INVALID(`manifest: ${why}`)
}

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0]
  return `${i?.path.join('.') || 'value'}: ${i?.message ?? 'invalid'}`
}

/** Fills pattern defaults (fixed or default options, the CEL language) so that the signed manifest is complete. */
function withDefaults(input: z.infer<typeof ManifestInputSchema>, pattern: Pattern): typeof input {
  const out = { ...input, consensus: { ...input.consensus } }
  const rule = pattern.options
  if (out.options === undefined) {
    if (rule.mode === 'fixed' && rule.fixed) out.options = [...rule.fixed]
    else if (rule.default) out.options = [...rule.default]
  }
  if (out.consensus.expr !== undefined && out.consensus.exprLang === undefined) {
    out.consensus.exprLang = { lang: CEL_LANGUAGE.lang, version: CEL_LANGUAGE.version }
  }
  return out
}

/**
 * Builds and signs the manifest of a new conversation and checks it
 * strictly (`checkManifest(…, { strict: true })`): an unknown pattern, a
 * consensus method or predicate this node refuses, options that do not fit
 * the pattern all throw here, before anything is appended.
 */
export function buildManifest(
  input: ManifestInput,
  ctx: {
    baseKey: Uint8Array
    createdAt: number
    creator: { accountId: string; deviceId: string }
    signingKeyPair: KeyPair
  }
): { manifest: Manifest; rules: ManifestRules } {
  const parsed = ManifestInputSchema.safeParse(input)
  if (!parsed.success) invalid(firstIssue(parsed.error))
  const pattern = getPattern(parsed.data.pattern)
  if (!pattern) throw ConversationErrors.CONV_PATTERN_UNKNOWN(`no message pattern ${parsed.data.pattern}`)
  const unsigned: UnsignedManifest = {
    type: MANIFEST_TYPE,
    v: 1,
    id: conversationIdFor(ctx.baseKey),
    ...withDefaults(parsed.data, pattern),
    createdAt: ctx.createdAt,
    creator: { accountId: ctx.creator.accountId, deviceId: ctx.creator.deviceId }
  }
  const manifest = { ...unsigned, sig: signValue(SIGN_CONTEXT.manifest, unsigned, ctx.signingKeyPair) }
  return { manifest, rules: checkManifest(manifest, { baseKey: ctx.baseKey, strict: true }) }
}

/**
 * Checks a manifest: shape, id (from the base key), pattern, options,
 * members (root keys match the account ids; every device certificate
 * verifies under its member's root keys; no device twice), the creator (a
 * member device) and its signature, then the consensus rule. `strict`
 * (creating) throws CONSENSUS_METHOD_UNKNOWN / _PARAMS_INVALID /
 * _PREDICATE_INVALID for a rule this node cannot run; otherwise (apply) such
 * a conversation is kept and shown as unsupported. `verified` skips the
 * signature checks, for a manifest read back from a view (apply checked it
 * when it wrote it). Throws coded errors.
 */
export function checkManifest(
  value: unknown,
  opts: { baseKey: Uint8Array; strict: boolean; verified?: boolean }
): ManifestRules {
  const parsed = ManifestSchema.safeParse(value)
  if (!parsed.success) invalid(firstIssue(parsed.error))
  const manifest = parsed.data
  if (manifest.id !== conversationIdFor(opts.baseKey)) invalid('id does not belong to this conversation log')
  const pattern = getPattern(manifest.pattern)
  if (!pattern) throw ConversationErrors.CONV_PATTERN_UNKNOWN(`no message pattern ${manifest.pattern}`)
  const options = checkOptions(pattern, manifest.options ?? [])

  const members = new Map<string, { rootPublic: RootPublic; index: number }>()
  manifest.members.forEach((m, index) => {
    if (members.has(m.accountId)) invalid(`member ${m.accountId} listed twice`)
    if (!opts.verified && !isRootOf(m.rootPublic, m.accountId))
      invalid(`root keys do not belong to ${m.accountId}`)
    members.set(m.accountId, { rootPublic: m.rootPublic, index })
  })
  const creator = manifest.members.find((m) => m.accountId === manifest.creator.accountId)
  if (!creator) invalid('the creator is not a member')
  const creatorCert = creator.devices.find((d) => d.cert.deviceId === manifest.creator.deviceId)
  if (!creatorCert) invalid("the creator's device is not among its certified devices")
  // the creator's signature first: it is cheap, and a forged manifest costs no certificate checks
  const { sig, ...unsigned } = manifest
  const creatorKey = creatorCert.cert.signingKey
  if (
    !opts.verified &&
    (typeof creatorKey !== 'string' || !verifyValue(SIGN_CONTEXT.manifest, unsigned, sig, creatorKey))
  ) {
    throw ConversationErrors.CONV_BAD_SIGNATURE(
      "the manifest signature does not verify under the creator's device"
    )
  }

  const devices = new Map<string, CertifiedDevice>()
  for (const m of manifest.members) {
    for (const signed of m.devices) {
      const device = checkCertificate(m.rootPublic, m.accountId, signed, { verified: opts.verified === true })
      if ('refused' in device) invalid(`a device certificate of ${m.accountId}: ${device.refused}`)
      if (devices.has(device.deviceId)) invalid(`device ${device.deviceId} listed twice`)
      devices.set(device.deviceId, device)
    }
  }

  const config = consensusConfigOf(manifest)
  const resolved = opts.strict ? validateConfig(config) : resolveConfig(config, 'lenient')
  checkConsensus(pattern, resolved, manifest.creator.accountId)
  return {
    manifest,
    digest: manifestDigest(manifest),
    pattern,
    members,
    devices,
    creatorAccount: manifest.creator.accountId,
    options,
    config,
    resolved
  }
}

function checkOptions(pattern: Pattern, options: readonly string[]): readonly string[] {
  const rule = pattern.options
  const mismatch = (why: string): never => {
    throw ConversationErrors.CONV_PATTERN_MISMATCH(`${pattern.name}: ${why}`)
  }
  if (new Set(options).size !== options.length) mismatch('options must be unique')
  switch (rule.mode) {
    case 'none':
      if (options.length > 0) mismatch('takes no options')
      break
    case 'fixed': {
      const fixed = rule.fixed ?? []
      if (options.length !== fixed.length || options.some((o, i) => o !== fixed[i]))
        mismatch(`options are ${fixed.join(', ')}`)
      break
    }
    case 'required':
      if (options.length < (rule.min ?? 1)) mismatch(`needs at least ${rule.min ?? 1} options`)
      break
    case 'optional':
      break
  }
  return Object.freeze([...options])
}

/** The consensus rule must be one the pattern can drive (a method it allows, counting a ballot form it casts). */
function checkConsensus(pattern: Pattern, resolved: ResolvedConfig, creatorAccount: string): void {
  const rule = pattern.consensus
  const mismatch = (why: string): never => {
    throw ConversationErrors.CONV_PATTERN_MISMATCH(`${pattern.name}: ${why}`)
  }
  const method = resolved.method
  if (method !== 'cel') {
    if (rule.allow && !rule.allow.includes(method))
      mismatch(`consensus method must be one of ${rule.allow.join(', ')}`)
    if (rule.deny?.includes(method)) mismatch(`consensus method ${method} does not fit this pattern`)
  }
  // what follows needs a configuration this node can read
  if (resolved.unsupported !== null) return
  if (rule.ballotKinds && resolved.ballotKind !== 'any' && !rule.ballotKinds.includes(resolved.ballotKind)) {
    mismatch(
      `the pattern casts ${rule.ballotKinds.join(' or ')} ballots, ${method} counts ${resolved.ballotKind}`
    )
  }
  // only the creator can publish in the patterns that publish
  const author = (resolved.params as { author?: unknown }).author
  if (method === 'announcement' && author !== undefined && author !== creatorAccount) {
    mismatch('the announcement author must be the creator')
  }
}
