import {
  encodeTranscript,
  type TranscriptMessage,
  type UnsignedTranscript
} from '../../archive/transcript.js'
import { MESSAGE_TYPE, signMessage, verifyMessageRecord } from '../../conversations/entries.js'
import type { MessageRecord } from '../../conversations/index.js'
import { ed25519KeyPairFromSeed } from '../../src/kernel/crypto/ed25519.js'
import { hex } from '../../src/kernel/encoding.js'

/** A device that signs messages and transcripts, from a one-byte seed. */
export function device(seedByte: number, accountId = 'acc_test', deviceId = `dev_${seedByte}`) {
  const keyPair = ed25519KeyPairFromSeed(Buffer.alloc(32, seedByte))
  return { accountId, deviceId, keyPair, signingKey: hex(keyPair.publicKey) }
}
export type TestDevice = ReturnType<typeof device>

/** A discussion message as a conversation view lists it, signed by `author`. */
export function signedMessage(
  conversationId: string,
  seq: number,
  text: string,
  author: TestDevice
): TranscriptMessage {
  const entry = signMessage(
    conversationId,
    {
      type: MESSAGE_TYPE,
      v: 1,
      kind: 'post',
      body: { text },
      author: { accountId: author.accountId, deviceId: author.deviceId, signingKey: author.signingKey },
      hlc: { wall: 1_700_000_000_000 + seq, logical: 0 }
    },
    author.keyPair
  )
  return {
    seq,
    kind: entry.kind,
    body: entry.body,
    author: { accountId: author.accountId, deviceId: author.deviceId },
    hlc: entry.hlc,
    late: false,
    writer: '11'.repeat(32),
    length: seq + 1,
    sig: entry.sig,
    signingKey: author.signingKey
  }
}

/** An unsigned transcript of `messages`, archived by `by`. */
export function transcriptOf(
  conversationId: string,
  messages: TranscriptMessage[],
  by: TestDevice
): UnsignedTranscript {
  return {
    v: 2,
    conversation: {
      id: conversationId,
      topic: 'a test transcript',
      pattern: 'discussion',
      consensus: { method: 'lazy' },
      options: [],
      deadline: null,
      createdAt: 1_700_000_000_000,
      creator: { accountId: by.accountId, deviceId: by.deviceId },
      members: [{ accountId: by.accountId, devices: [by.deviceId] }]
    },
    messages,
    tally: {},
    outcome: null,
    roots: [{ core: '11'.repeat(32), length: messages.length, treeHash: '22'.repeat(32) }],
    archivedAt: 1_700_000_100_000,
    archivedBy: { deviceId: by.deviceId, signingKey: by.signingKey }
  }
}

/** Encodes a signed transcript of `n` messages of `text` (numbered), all by `by`. */
export function encodedTranscript(
  conversationId: string,
  n: number,
  by: TestDevice,
  text = 'message'
): Buffer {
  const messages: TranscriptMessage[] = []
  for (let i = 0; i < n; i++) messages.push(signedMessage(conversationId, i, `${text} ${i}`, by))
  return encodeTranscript(transcriptOf(conversationId, messages, by), by.keyPair.secretKey)
}

/** The checks an open uses: `by` is the only own device; messages checked as the node checks them. */
export function checksFor(by: TestDevice, conversationId?: string) {
  return {
    ...(conversationId !== undefined ? { conversationId } : {}),
    isOwnDevice: (deviceId: string, key: string) => deviceId === by.deviceId && key === by.signingKey,
    verifyMessage: (cid: string, m: TranscriptMessage) => verifyMessageRecord(cid, m as MessageRecord)
  }
}
