import { z } from 'zod'
import { ed25519Sign, ed25519Verify } from '../src/kernel/crypto/ed25519.js'
import { canonicalBytes, hex, hexSchema, unhex } from '../src/kernel/encoding.js'
import { ArchiveErrors } from './errors.js'
import { labelBytes } from './format.js'

/**
 * The transcript of a closed conversation: what an archive seals. JSON (its
 * canonical form, docs/archive.md), signed by the device that archived it
 * (Ed25519 over `u16be(len C) ‖ C ‖ canonicalJson(transcript without sig)`,
 * C = TRANSCRIPT_CONTEXT). Each message keeps its author's own signature,
 * checked by the caller (`verifyMessage`), and `roots` names every writer
 * core of the conversation log with its length and Merkle tree hash at the
 * time of archiving, so the transcript can be matched against the log later.
 */

export const TRANSCRIPT_VERSION = 1
export const TRANSCRIPT_CONTEXT = 'conclave/archive/transcript/v1'

const MessageSchema = z
  .object({
    seq: z.number().int().min(0),
    kind: z.string(),
    body: z.record(z.string(), z.unknown()),
    author: z.object({ accountId: z.string(), deviceId: z.string() }).strict(),
    hlc: z.object({ wall: z.number(), logical: z.number() }).strict(),
    late: z.boolean(),
    writer: hexSchema(32),
    length: z.number().int().min(0),
    sig: hexSchema(64),
    signingKey: hexSchema(32)
  })
  .strict()
export type TranscriptMessage = z.infer<typeof MessageSchema>

export const TranscriptSchema = z
  .object({
    v: z.literal(TRANSCRIPT_VERSION),
    conversation: z
      .object({
        id: z.string(),
        topic: z.string(),
        pattern: z.string(),
        consensus: z.unknown(),
        options: z.array(z.string()),
        deadline: z.number().nullable(),
        createdAt: z.number(),
        creator: z.object({ accountId: z.string(), deviceId: z.string() }).strict(),
        members: z.array(z.object({ accountId: z.string(), devices: z.array(z.string()) }).strict())
      })
      .strict(),
    messages: z.array(MessageSchema),
    tally: z.unknown(),
    outcome: z
      .object({ winners: z.array(z.string()), closedBy: z.number().nullable(), reachedAt: z.number() })
      .strict()
      .nullable(),
    roots: z.array(
      z.object({ core: hexSchema(32), length: z.number().int().min(0), treeHash: hexSchema(32) }).strict()
    ),
    archivedAt: z.number().int().positive(),
    archivedBy: z.object({ deviceId: z.string(), signingKey: hexSchema(32) }).strict(),
    sig: hexSchema(64)
  })
  .strict()
export type Transcript = z.infer<typeof TranscriptSchema>
export type UnsignedTranscript = Omit<Transcript, 'sig'>

function signedBytes(t: UnsignedTranscript): Buffer {
  return Buffer.concat([labelBytes(TRANSCRIPT_CONTEXT), canonicalBytes(t)])
}

/** Signs and encodes (canonical JSON, UTF-8) a transcript. */
export function encodeTranscript(t: UnsignedTranscript, signingSecretKey: Uint8Array): Buffer {
  const sig = hex(ed25519Sign(signedBytes(t), signingSecretKey))
  return canonicalBytes({ ...t, sig })
}

export interface VerifyTranscriptOptions {
  /** Whether the signer is (or was) a device of the account; the archive names the expected id. */
  isOwnDevice: (deviceId: string, signingKeyHex: string) => boolean
  /** The author's signature of one message (conversations' `verifyMessageRecord`). */
  verifyMessage: (conversationId: string, m: TranscriptMessage) => boolean
  /** The conversation the archive record names. */
  conversationId?: string
}

/**
 * Parses and checks a decrypted transcript: shape, the archiving device's
 * signature and that it is an own device, every message's signature, and
 * the conversation id. Throws ARCHIVE_TRANSCRIPT_INVALID.
 */
export function decodeTranscript(bytes: Uint8Array, opts: VerifyTranscriptOptions): Transcript {
  let parsed: Transcript
  try {
    parsed = TranscriptSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')))
  } catch (err) {
    throw ArchiveErrors.ARCHIVE_TRANSCRIPT_INVALID('the archive does not hold a valid transcript', {
      cause: err
    })
  }
  const { sig, ...unsigned } = parsed
  const by = parsed.archivedBy
  if (!ed25519Verify(unhex(sig), signedBytes(unsigned), unhex(by.signingKey))) {
    throw ArchiveErrors.ARCHIVE_TRANSCRIPT_INVALID("the transcript's signature does not verify")
  }
  if (!opts.isOwnDevice(by.deviceId, by.signingKey)) {
    throw ArchiveErrors.ARCHIVE_TRANSCRIPT_INVALID(`${by.deviceId} is not a device of this account`)
  }
  if (opts.conversationId !== undefined && parsed.conversation.id !== opts.conversationId) {
    throw ArchiveErrors.ARCHIVE_TRANSCRIPT_INVALID('the transcript is of another conversation')
  }
  for (const m of parsed.messages) {
    if (!opts.verifyMessage(parsed.conversation.id, m)) {
      throw ArchiveErrors.ARCHIVE_TRANSCRIPT_INVALID(`message ${m.seq}: its signature does not verify`)
    }
  }
  return parsed
}
