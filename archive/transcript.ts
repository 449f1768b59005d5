import { z } from 'zod'
import { ed25519Sign, ed25519Verify } from '../src/kernel/crypto/ed25519.js'
import { labelledHash } from '../src/kernel/crypto/hash.js'
import { canonicalBytes, hex, hexSchema, unhex } from '../src/kernel/encoding.js'
import { ArchiveErrors } from './errors.js'
import { labelBytes } from './format.js'

/**
 * The transcript of a closed conversation: what an archive seals
 * (docs/archive.md §11). Lines of canonical JSON: a header line, then one
 * line per message, each ended by '\n' (canonical JSON never holds a raw
 * newline). The header names the message count and a BLAKE2b-256 digest of
 * everything after it, and is signed by the device that archived it
 * (Ed25519 over `u16be(len C) ‖ C ‖ canonicalJson(header without sig)`,
 * C = TRANSCRIPT_CONTEXT). So an open checks the whole transcript with one
 * hash and one signature, and a 1M-message archive is never one JSON
 * document: messages are parsed, and their authors' signatures checked,
 * when they are read (`message(i)`, `page`) or all at once (`verifyAll`).
 * `roots` names every writer core of the conversation log with its length
 * and Merkle tree hash at the time of archiving.
 */

export const TRANSCRIPT_VERSION = 2
export const TRANSCRIPT_CONTEXT = 'conclave/archive/transcript/v2'
export const MESSAGES_DIGEST_LABEL = 'conclave/archive/transcript/v2/messages'
const NL = 0x0a

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

const ConversationSchema = z
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
  .strict()

const HeaderFields = {
  v: z.literal(TRANSCRIPT_VERSION),
  conversation: ConversationSchema,
  tally: z.unknown(),
  outcome: z
    .object({ winners: z.array(z.string()), closedBy: z.number().nullable(), reachedAt: z.number() })
    .strict()
    .nullable(),
  roots: z.array(
    z.object({ core: hexSchema(32), length: z.number().int().min(0), treeHash: hexSchema(32) }).strict()
  ),
  archivedAt: z.number().int().positive(),
  archivedBy: z.object({ deviceId: z.string(), signingKey: hexSchema(32) }).strict()
}

/** The signed first line. */
export const TranscriptHeaderSchema = z
  .object({
    ...HeaderFields,
    count: z.number().int().min(0),
    messagesDigest: hexSchema(32),
    sig: hexSchema(64)
  })
  .strict()
export type TranscriptHeader = z.infer<typeof TranscriptHeaderSchema>

/** A whole transcript as the archiver builds it and `archive open --out` writes it. */
export const TranscriptSchema = z.object({ ...HeaderFields, messages: z.array(MessageSchema) }).strict()
export type UnsignedTranscript = z.infer<typeof TranscriptSchema>
export type Transcript = TranscriptHeader & { messages: TranscriptMessage[] }

function signedBytes(h: Omit<TranscriptHeader, 'sig'>): Buffer {
  return Buffer.concat([labelBytes(TRANSCRIPT_CONTEXT), canonicalBytes(h)])
}

function messagesDigest(lines: Uint8Array): Buffer {
  return labelledHash(MESSAGES_DIGEST_LABEL, [lines])
}

/** Signs and encodes a transcript: the header line, then a line per message. */
export function encodeTranscript(t: UnsignedTranscript, signingSecretKey: Uint8Array): Buffer {
  const { messages, ...fields } = t
  const parts: Buffer[] = []
  for (const m of messages) parts.push(canonicalBytes(m), Buffer.of(NL))
  const lines = Buffer.concat(parts)
  const unsigned = { ...fields, count: messages.length, messagesDigest: hex(messagesDigest(lines)) }
  const sig = hex(ed25519Sign(signedBytes(unsigned), signingSecretKey))
  return Buffer.concat([canonicalBytes({ ...unsigned, sig }), Buffer.of(NL), lines])
}

export interface VerifyTranscriptOptions {
  /** Whether the signer is (or was) a device of the account; the archive names the expected id. */
  isOwnDevice: (deviceId: string, signingKeyHex: string) => boolean
  /** The author's signature of one message (conversations' `verifyMessageRecord`). */
  verifyMessage: (conversationId: string, m: TranscriptMessage) => boolean
  /** The conversation the archive record names. */
  conversationId?: string
}

const invalid = (message: string, cause?: unknown) =>
  ArchiveErrors.ARCHIVE_TRANSCRIPT_INVALID(message, cause === undefined ? undefined : { cause })

/**
 * Parses and checks a decrypted transcript: the header's shape, the
 * archiving device's signature and that it is an own device, the
 * conversation id, and the digest and count of the message lines. Throws
 * ARCHIVE_TRANSCRIPT_INVALID. Messages are parsed and their signatures
 * checked when read (`OpenTranscript`).
 */
export function decodeTranscript(bytes: Uint8Array, opts: VerifyTranscriptOptions): OpenTranscript {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = buf.indexOf(NL)
  if (end === -1) throw invalid('the archive does not hold a valid transcript: no header line')
  let header: TranscriptHeader
  try {
    header = TranscriptHeaderSchema.parse(JSON.parse(buf.subarray(0, end).toString('utf8')))
  } catch (err) {
    throw invalid('the archive does not hold a valid transcript', err)
  }
  const { sig, ...unsigned } = header
  const by = header.archivedBy
  if (!ed25519Verify(unhex(sig), signedBytes(unsigned), unhex(by.signingKey))) {
    throw invalid("the transcript's signature does not verify")
  }
  if (!opts.isOwnDevice(by.deviceId, by.signingKey)) {
    throw invalid(`${by.deviceId} is not a device of this account`)
  }
  if (opts.conversationId !== undefined && header.conversation.id !== opts.conversationId) {
    throw invalid('the transcript is of another conversation')
  }
  const lines = buf.subarray(end + 1)
  if (!messagesDigest(lines).equals(unhex(header.messagesDigest))) {
    throw invalid("the transcript's messages do not match its signed digest")
  }
  const starts = new Float64Array(header.count + 1)
  let at = 0
  for (let i = 0; i < header.count; i++) {
    starts[i] = at
    const nl = lines.indexOf(NL, at)
    if (nl === -1) throw invalid(`the transcript holds ${i} messages, its header says ${header.count}`)
    at = nl + 1
  }
  starts[header.count] = at
  if (at !== lines.byteLength)
    throw invalid(`the transcript holds more than the ${header.count} messages its header says`)
  return new OpenTranscript(header, lines, starts, opts)
}

/** How far `verifyAll` has come. */
export interface VerifyProgress {
  done: number
  total: number
}

/**
 * A decoded transcript whose header and message digest are checked. Each
 * message is parsed and its author's signature checked the first time it is
 * read; one that fails throws ARCHIVE_TRANSCRIPT_INVALID and marks the
 * whole transcript invalid (every later read throws too).
 */
export class OpenTranscript {
  readonly header: TranscriptHeader
  readonly count: number
  readonly #lines: Buffer
  readonly #starts: Float64Array
  readonly #verify: (conversationId: string, m: TranscriptMessage) => boolean
  readonly #checked: Uint8Array
  #checkedCount = 0
  #failure: Error | null = null

  constructor(header: TranscriptHeader, lines: Buffer, starts: Float64Array, opts: VerifyTranscriptOptions) {
    this.header = header
    this.count = header.count
    this.#lines = lines
    this.#starts = starts
    this.#verify = opts.verifyMessage
    this.#checked = new Uint8Array(header.count)
  }

  /** How many messages have had their signatures checked. */
  get verified(): VerifyProgress {
    return { done: this.#checkedCount, total: this.count }
  }

  /** The failure that made the transcript invalid, if one did. */
  get failure(): Error | null {
    return this.#failure
  }

  /** Message `i` parsed, without its signature checked (search uses it; nothing shown comes from it). */
  parse(i: number): TranscriptMessage {
    if (this.#failure) throw this.#failure
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`no message ${i} in a transcript of ${this.count}`)
    }
    const line = this.#lines.subarray(this.#starts[i]!, this.#starts[i + 1]! - 1)
    try {
      return MessageSchema.parse(JSON.parse(line.toString('utf8')))
    } catch (err) {
      throw this.#fail(invalid(`message ${i} is malformed`, err))
    }
  }

  /** Message `i`, its author's signature checked. */
  message(i: number): TranscriptMessage {
    const m = this.parse(i)
    if (this.#checked[i] === 0) {
      if (!this.#verify(this.header.conversation.id, m)) {
        throw this.#fail(invalid(`message ${m.seq}: its signature does not verify`))
      }
      this.#checked[i] = 1
      this.#checkedCount++
    }
    return m
  }

  /** Messages [offset, offset + limit), each checked. */
  slice(offset: number, limit: number): TranscriptMessage[] {
    const out: TranscriptMessage[] = []
    for (let i = Math.max(0, offset); i < Math.min(this.count, offset + limit); i++) out.push(this.message(i))
    return out
  }

  /**
   * Checks every message, yielding to the event loop after `budgetMs` of work
   * (and at least every `slice` messages, when progress is reported) so a node
   * serving pages meanwhile adds at most about `budgetMs` to a request's wait;
   * resolves when all are checked (or `stop` says so), rejects on the first
   * that fails.
   */
  async verifyAll(
    opts: {
      slice?: number
      budgetMs?: number
      onProgress?: (p: VerifyProgress) => void
      stop?: () => boolean
    } = {}
  ): Promise<void> {
    const slice = opts.slice ?? 256
    const budgetMs = opts.budgetMs ?? 2
    let started = performance.now()
    let inSlice = 0
    for (let i = 0; i < this.count; i++) {
      this.message(i)
      inSlice++
      // the clock is read every 8 messages (one check is some 50 µs)
      if (inSlice === slice || ((i & 7) === 7 && performance.now() - started >= budgetMs)) {
        opts.onProgress?.(this.verified)
        await new Promise((resolve) => setImmediate(resolve))
        if (opts.stop?.()) return
        started = performance.now()
        inSlice = 0
      }
    }
    opts.onProgress?.(this.verified)
  }

  /** The whole transcript, every message checked (what `archive open --out` writes). */
  full(): Transcript {
    return { ...this.header, messages: this.slice(0, this.count) }
  }

  #fail(err: Error): Error {
    this.#failure ??= err
    return err
  }
}
