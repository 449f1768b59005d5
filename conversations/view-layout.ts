import type { Hlc, Outcome, TallyMessage } from '../consensus/index.js'
import { CALL_LOCAL_PREFIX } from '../src/kernel/substrate/safe-apply.js'

/**
 * Keys and records of a conversation view (a hyperbee with utf-8 keys and
 * JSON values; keys starting with NUL belong to the substrate's skip
 * records). docs/conversations.md describes the layout. Every value is a
 * pure function of the linearized log, so equal logs give equal view hashes.
 *
 *   manifest                     Manifest (the first entry, as checked)
 *   state                        StateRecord
 *   account/<acc_…>              AccountRecord
 *   device/<dev_…>               DeviceRecord
 *   writer/<core key hex>        WriterRecord
 *   sealed/<dev_…>               SealedKeyRecord (conv/device)
 *   once/<kind>/<acc_…|*>        { seq } — a once-only kind was sent
 *   msg/<last seq, 12 digits>    MessageChunk: the listed messages (accepted or late) of one
 *                                apply call; each names its entry
 *   in/<last n, 12 digits>       InputChunk: the tally inputs of one apply call
 *   tally                        TallyRecord (after the latest input)
 *   outcome                      OutcomeRecord (written once, when consensus is reached)
 */

const DIGITS = 12

export const MANIFEST_KEY = 'manifest'
export const STATE_KEY = 'state'
export const TALLY_KEY = 'tally'
export const OUTCOME_KEY = 'outcome'
export const MSG_PREFIX = 'msg/'
export const INPUT_PREFIX = 'in/'
export const DEVICE_PREFIX = 'device/'
export const WRITER_PREFIX = 'writer/'

const pad = (n: number): string => String(n).padStart(DIGITS, '0')

/** Call-local keys (never stored, see CALL_LOCAL_PREFIX): one apply call's messages and inputs before they become a chunk. */
export const LOCAL_MSG_PREFIX = `${CALL_LOCAL_PREFIX}msg/`
export const LOCAL_INPUT_PREFIX = `${CALL_LOCAL_PREFIX}in/`

export const accountKey = (accountId: string): string => `account/${accountId}`
export const deviceKey = (deviceId: string): string => DEVICE_PREFIX + deviceId
export const writerKey = (coreHex: string): string => WRITER_PREFIX + coreHex
export const sealedKey = (deviceId: string): string => `sealed/${deviceId}`
export const onceKey = (kind: string, accountId: string | null): string => `once/${kind}/${accountId ?? '*'}`
export const msgKey = (seq: number): string => MSG_PREFIX + pad(seq)
export const inputKey = (n: number): string => INPUT_PREFIX + pad(n)
export const localMsgKey = (seq: number): string => LOCAL_MSG_PREFIX + pad(seq)
export const localInputKey = (n: number): string => LOCAL_INPUT_PREFIX + pad(n)
/** The number a padded key ends with. */
export const numberOfKey = (key: string): number => Number(key.slice(-DIGITS))

/** The hyperbee range holding every key that starts with `prefix`. */
export { prefixRange } from '../src/kernel/substrate/view-read.js'

export interface StateRecord {
  v: 1
  /** manifestDigest of the manifest: names the rules every entry is checked against. */
  manifest: string
  phase: string
  /** Next message sequence number (= listed messages so far, late ones included). */
  seq: number
  /** Next tally input number (= messages fed to the tally so far). */
  inputs: number
  /** Hash chain over the tally inputs (hex); identifies the tally state the view rests on. */
  chain: string
  closed: boolean
  /** Listed messages stored as late. */
  late: number
  /** Writers admitted as indexers and not removed (the bootstrap included). */
  indexers: number
  /** The greatest clock of an accepted message: a poster's clock moves past it (causality). */
  hlc: Hlc | null
}

export interface AccountRecord {
  /** Writer core (hex) of the account's indexer, or null. */
  indexer: string | null
}

export interface DeviceRecord {
  accountId: string
  signingKey: string
  xwingKey: string
  /** The certificate's always-on marker (eligible as the account's indexer). */
  certIndexer: boolean
  revoked: boolean
  /** Its current writer core (hex), or null before one is registered. */
  writer: string | null
  /** 'manifest', or the device id that added it with conv/device. */
  addedBy: string
}

export interface WriterRecord {
  deviceId: string
  accountId: string
  indexer: boolean
  /** current: the device's writer; retired: replaced by a later writer; revoked: its device was revoked. */
  state: 'current' | 'retired' | 'revoked'
  /** Whether apply asked autobase to remove it (false when it was the last indexer). */
  removed: boolean
}

export interface SealedKeyRecord {
  accountId: string
  /** Hex xwingSeal of the conversation key to the device's X-Wing key (see keys.ts). */
  sealedKey: string
  /** The device that sealed it (a device of the same account). */
  by: string
}

/**
 * What the view stores of a listed message: its place in the conversation
 * and the entry's name in the log. The message itself (kind, body, author,
 * clock, signature) stays in its writer core, where it was signed and
 * appended; `Conversation` reads it from there (see MessageRecord).
 */
export interface ListedRecord {
  seq: number
  /** Accepted after the conversation closed: stored, changes nothing. */
  late: boolean
  /** The entry's name in the log: its writer core (hex) and length there. */
  writer: string
  length: number
}

/**
 * The listed messages of one apply call (consecutive seqs), stored under the
 * last one's seq: a batch of 500 posts is one view block, not 500, which is
 * what a device catching up downloads per block. Unlike a record per message
 * it is a function of the apply calls, which autobase makes the same on
 * every node (one per writer batch).
 */
export interface MessageChunk {
  items: ListedRecord[]
}

/** A listed message as read: the view's ListedRecord with the entry it names. */
export interface MessageRecord extends ListedRecord {
  kind: string
  body: Record<string, unknown>
  author: { accountId: string; deviceId: string }
  hlc: Hlc
  /**
   * The author's Ed25519 signature of the entry (conversations/signing.ts) and its key, so a
   * transcript can be checked away from the log (`body` is the body as signed).
   */
  sig: string
  signingKey: string
}

export interface InputRecord {
  /** The consensus message fed to the tally. */
  m: TallyMessage
  /** The chain after it (hex). */
  c: string
}

/** The tally inputs of one apply call, numbered first…first+items.length-1, stored under the last. */
export interface InputChunk {
  first: number
  items: InputRecord[]
}

export interface TallyRecord {
  /** Log time after the latest input. */
  now: number
  /** What the method says now (its figures), or null when this node cannot evaluate it. */
  figures: Outcome | null
  /** Why this node cannot evaluate the consensus rule, or null. */
  unsupported: string | null
}

export interface OutcomeRecord {
  winners: string[]
  /** Seq of the message that reached consensus; null when it was a heartbeat (not listed). */
  closedBy: number | null
  /** Number of the tally input that reached it. */
  input: number
  /** Log time when it was reached. */
  reachedAt: number
  /** The method's figures at that moment. */
  outcome: Outcome
}
