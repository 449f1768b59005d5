import { z } from 'zod'
import { HlcSchema } from '../consensus/index.js'
import { XWING_SEAL_OVERHEAD_BYTES } from '../src/kernel/crypto/xwing.js'
import { hexSchema } from '../src/kernel/encoding.js'
import { AccountIdSchema, DeviceIdSchema, SignedCertSchema, SignedRevocationSchema } from './certificates.js'
import { ConversationErrors } from './errors.js'
import { MANIFEST_TYPE } from './manifest.js'
import { SIGN_CONTEXT, signValue, verifyValue } from './signing.js'
import type { MessageRecord } from './view-layout.js'
import type { KeyPair } from '../src/kernel/substrate/index.js'

/**
 * The entries of a conversation log after the manifest. Each is
 * `{ type, v, … }`; an unknown type or version is skipped and recorded
 * (CONV_ENTRY_INVALID), never thrown out of apply.
 */

export const MESSAGE_TYPE = 'conv/msg'
export const WRITER_TYPE = 'conv/writer'
export const DEVICE_TYPE = 'conv/device'
export const REVOKE_TYPE = 'conv/revoke'

/** 32-byte conversation key sealed to one X-Wing public key. */
export const SEALED_KEY_BYTES = 32 + XWING_SEAL_OVERHEAD_BYTES

const Hlc = HlcSchema.strict()

export const AuthorSchema = z
  .object({ accountId: AccountIdSchema, deviceId: DeviceIdSchema, signingKey: hexSchema(32) })
  .strict()
export type Author = z.infer<typeof AuthorSchema>

/**
 * A pattern message: `sig` = Ed25519 of the author device over
 * signedBytes('conclave/conv/message/v1', { conversationId, ...entry without sig }).
 * The body is checked against the kind's schema in apply, not here.
 */
export const MessageEntrySchema = z
  .object({
    type: z.literal(MESSAGE_TYPE),
    v: z.literal(1),
    kind: z.string().min(1).max(64),
    body: z.record(z.string(), z.unknown()),
    author: AuthorSchema,
    hlc: Hlc,
    sig: hexSchema(64)
  })
  .strict()
export type MessageEntry = z.infer<typeof MessageEntrySchema>

/**
 * What a device sends (through the network, to any writer) to have its
 * writer core admitted: `sig` by the device's signing key over
 * signedBytes('conclave/conv/writer/v1', { conversationId, deviceId, writerKey }).
 */
export const WriterRequestSchema = z
  .object({ deviceId: DeviceIdSchema, writerKey: hexSchema(32), sig: hexSchema(64) })
  .strict()
export type WriterRequest = z.infer<typeof WriterRequestSchema>

/** Appended by any writer; the core key of the new writer is coreKeyFor(writerKey). */
export const WriterEntrySchema = z
  .object({ type: z.literal(WRITER_TYPE), v: z.literal(1), ...WriterRequestSchema.shape })
  .strict()
export type WriterEntry = z.infer<typeof WriterEntrySchema>

/**
 * A member's newly certified device, appended by one of that member's
 * writers: the root-signed certificate, and the conversation key sealed to
 * the new device's X-Wing key so that any node can hand it over.
 */
export const DeviceEntrySchema = z
  .object({
    type: z.literal(DEVICE_TYPE),
    v: z.literal(1),
    accountId: AccountIdSchema,
    device: SignedCertSchema,
    sealedKey: hexSchema(SEALED_KEY_BYTES)
  })
  .strict()
export type DeviceEntry = z.infer<typeof DeviceEntrySchema>

/** A root-signed revocation of a member's device, relayed by any writer. */
export const RevokeEntrySchema = z
  .object({
    type: z.literal(REVOKE_TYPE),
    v: z.literal(1),
    accountId: AccountIdSchema,
    revocation: SignedRevocationSchema
  })
  .strict()
export type RevokeEntry = z.infer<typeof RevokeEntrySchema>

export type ConversationEntry =
  | MessageEntry
  | WriterEntry
  | DeviceEntry
  | RevokeEntry
  | { type: typeof MANIFEST_TYPE; v: 1; [field: string]: unknown }

const EnvelopeSchema = z.object({ type: z.string().max(64), v: z.number().int().min(0) })

export type ParsedEntry =
  | { type: typeof MANIFEST_TYPE; entry: unknown }
  | { type: typeof MESSAGE_TYPE; entry: MessageEntry }
  | { type: typeof WRITER_TYPE; entry: WriterEntry }
  | { type: typeof DEVICE_TYPE; entry: DeviceEntry }
  | { type: typeof REVOKE_TYPE; entry: RevokeEntry }

const SCHEMAS = {
  [MESSAGE_TYPE]: MessageEntrySchema,
  [WRITER_TYPE]: WriterEntrySchema,
  [DEVICE_TYPE]: DeviceEntrySchema,
  [REVOKE_TYPE]: RevokeEntrySchema
} as const

/** Finds the type of an untrusted value and parses it (the manifest is checked by checkManifest). */
export function parseEntry(value: unknown): ParsedEntry {
  const envelope = EnvelopeSchema.safeParse(value)
  if (!envelope.success) throw ConversationErrors.CONV_ENTRY_INVALID('not a conversation entry (type and v)')
  const { type, v } = envelope.data
  if (type === MANIFEST_TYPE && v === 1) return { type, entry: value }
  if (v !== 1 || !Object.hasOwn(SCHEMAS, type)) {
    throw ConversationErrors.CONV_ENTRY_INVALID(`unknown entry kind ${type} v${v}`)
  }
  const schema = SCHEMAS[type as keyof typeof SCHEMAS]
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw ConversationErrors.CONV_ENTRY_INVALID(`malformed ${type} v${v} entry`)
  return { type, entry: parsed.data } as ParsedEntry
}

/** The signed part of a message entry: everything but `sig`, bound to the conversation. */
export function messageSigned(conversationId: string, entry: Omit<MessageEntry, 'sig'>): unknown {
  const { type, v, kind, body, author, hlc } = entry
  return { conversationId, type, v, kind, body, author, hlc }
}

export function writerSigned(conversationId: string, request: Omit<WriterRequest, 'sig'>): unknown {
  return { conversationId, deviceId: request.deviceId, writerKey: request.writerKey }
}

/** Signs a message entry with the author device's signing key pair. */
export function signMessage(
  conversationId: string,
  unsigned: Omit<MessageEntry, 'sig'>,
  signingKeyPair: KeyPair
): MessageEntry {
  return {
    ...unsigned,
    sig: signValue(SIGN_CONTEXT.message, messageSigned(conversationId, unsigned), signingKeyPair)
  }
}

/** A device's request to have `writerPublicKey` admitted as its writer in one conversation. */
export function signWriterRequest(
  conversationId: string,
  deviceId: string,
  writerPublicKey: Uint8Array,
  signingKeyPair: KeyPair
): WriterRequest {
  const unsigned = { deviceId, writerKey: Buffer.from(writerPublicKey).toString('hex') }
  return {
    ...unsigned,
    sig: signValue(SIGN_CONTEXT.writer, writerSigned(conversationId, unsigned), signingKeyPair)
  }
}

/**
 * Whether a listed message carries its author's valid signature (for a
 * transcript read away from the log: the signing key is checked against the
 * author's certified devices by the caller). Never throws.
 */
export function verifyMessageRecord(conversationId: string, m: MessageRecord): boolean {
  if (typeof m.sig !== 'string' || typeof m.signingKey !== 'string') return false
  const unsigned = {
    type: MESSAGE_TYPE as typeof MESSAGE_TYPE,
    v: 1 as const,
    kind: m.kind,
    body: m.body,
    author: { accountId: m.author.accountId, deviceId: m.author.deviceId, signingKey: m.signingKey },
    hlc: m.hlc
  }
  try {
    return verifyValue(SIGN_CONTEXT.message, messageSigned(conversationId, unsigned), m.sig, m.signingKey)
  } catch {
    return false
  }
}
