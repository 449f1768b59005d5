/**
 * Real encoded entries of every decoder the fuzz suite feeds, built with the
 * same code and test accounts the other tests use. Mutations start from these.
 * (ML-DSA signatures are hedged, so signature bytes differ between runs; the
 * seeded mutations and their positions replay.)
 */
import c from 'compact-encoding'
import {
  archiveIdFor,
  encodeArchive,
  encodeIndexEntry,
  sealArchive,
  sealIndexEntry
} from '../../archive/index.js'
import { encodeTranscript, TRANSCRIPT_VERSION, type UnsignedTranscript } from '../../archive/transcript.js'
import { signedMessage } from '../helpers/transcript.js'
import { addressEntry, archiveEntry, certifyEntry, friendEntry, revokeEntry } from '../../cluster/entries.js'
import { encodeCardText, issueCard, type SignedCard } from '../../cluster/contact-card.js'
import { encodeFrame } from '../../cluster/frames.js'
import { createInvite, encodeInvite } from '../../cluster/invite.js'
import type { SignedCertificate, SignedRevocation } from '../../cluster/certificate.js'
import { type MessageEntry, signMessage, signWriterRequest } from '../../conversations/entries.js'
import { buildManifest, type Manifest } from '../../conversations/manifest.js'
import { hex } from '../../src/kernel/encoding.js'
import { addressEncoding, pingEncoding, pongEncoding } from '../../src/node/heartbeat.js'
import { A as HOLDER_A, B as HOLDER_B, INDEX_KEY } from '../archive/helpers.js'
import { type Account, account, writerFor } from '../conversations/helpers.js'

export interface Corpus {
  alice: Account
  bob: Account
  baseKey: Buffer
  manifest: Manifest
  clusterEntries: unknown[]
  conversationEntries: unknown[]
  certificates: SignedCertificate[]
  revocations: SignedRevocation[]
  cards: string[]
  invites: string[]
  frames: Buffer[]
  archives: Buffer[]
  indexEntries: Buffer[]
  transcripts: Buffer[]
  pings: Buffer[]
  pongs: Buffer[]
  addresses: Buffer[]
  hostPorts: string[]
}

let cached: Corpus | null = null

export function buildCorpus(): Corpus {
  if (cached) return cached
  const alice = account('alice')
  const bob = account('bob')
  const d0 = alice.device(0)
  const baseKey = writerFor(alice, 0, 'fuzz').publicKey
  const { manifest } = buildManifest(
    {
      topic: 'Lunch?',
      pattern: 'vote',
      consensus: { method: 'majority' },
      options: ['pizza', 'sushi'],
      members: [alice.member([0, 1]), bob.member([0])]
    },
    {
      baseKey,
      createdAt: 1_700_000_000_000,
      creator: { accountId: alice.accountId, deviceId: d0.deviceId },
      signingKeyPair: d0.signing
    }
  )
  const id = manifest.id
  const message = (who: Account, index: number, kind: string, body: Record<string, unknown>, n: number) =>
    signMessage(
      id,
      {
        type: 'conv/msg',
        v: 1,
        kind,
        body,
        author: {
          accountId: who.accountId,
          deviceId: who.device(index).deviceId,
          signingKey: hex(who.device(index).signing.publicKey)
        },
        hlc: { wall: 1_700_000_000_000 + n, logical: n }
      },
      who.device(index).signing
    ) as MessageEntry
  const certificates = [alice.certificate(0), alice.certificate(1), bob.certificate(0)] as SignedCertificate[]
  const revocations = [alice.revocation(1)] as unknown as SignedRevocation[]
  const card: SignedCard = issueCard(alice.root.signing, {
    type: 'contact-card',
    v: 1,
    accountId: alice.accountId,
    rootPublic: { ed25519: hex(alice.root.publicKey.ed25519), mldsa: hex(alice.root.publicKey.mldsa) },
    topic: hex(Buffer.alloc(32, 7)),
    devices: [certificates[0]!],
    addresses: [{ deviceId: d0.deviceId, address: '127.0.0.1:4000' }],
    issuedAt: 1_700_000_000_000
  })
  const conversationEntries: unknown[] = [
    manifest,
    message(alice, 0, 'ballot', { choice: 'pizza' }, 1),
    message(bob, 0, 'ballot', { choice: 'sushi' }, 2),
    message(alice, 1, 'comment', { text: 'see you there' }, 3),
    {
      type: 'conv/writer',
      v: 1,
      ...signWriterRequest(
        id,
        bob.device(0).deviceId,
        writerFor(bob, 0, 'fuzz').publicKey,
        bob.device(0).signing
      )
    },
    {
      type: 'conv/device',
      v: 1,
      accountId: alice.accountId,
      device: alice.certificate(1),
      sealedKey: '00'.repeat(1193)
    },
    { type: 'conv/revoke', v: 1, accountId: alice.accountId, revocation: alice.revocation(1) }
  ]
  const clusterEntries: unknown[] = [
    ...certificates.map((s) => certifyEntry(s)),
    revokeEntry(revocations[0]!),
    friendEntry(card),
    addressEntry(d0.deviceId, '127.0.0.1:4000', 1_700_000_000_000),
    archiveEntry({
      id: hex(Buffer.alloc(32, 1)),
      conversationId: id,
      core: hex(Buffer.alloc(32, 2)),
      blocks: 3,
      size: 1234,
      holders: [d0.deviceId, alice.device(1).deviceId],
      index: 'ab'.repeat(40),
      createdAt: 1_700_000_000_000,
      by: d0.deviceId
    })
  ]
  const holders = [HOLDER_A.publicKey, HOLDER_B.publicKey] as const
  const author = {
    accountId: alice.accountId,
    deviceId: d0.deviceId,
    keyPair: d0.signing,
    signingKey: hex(d0.signing.publicKey)
  }
  const transcriptValue: UnsignedTranscript = {
    v: TRANSCRIPT_VERSION,
    conversation: {
      id,
      topic: manifest.topic,
      pattern: manifest.pattern,
      consensus: manifest.consensus,
      options: ['pizza', 'sushi'],
      deadline: null,
      createdAt: manifest.createdAt,
      creator: manifest.creator,
      members: [{ accountId: alice.accountId, devices: [d0.deviceId] }]
    },
    messages: [signedMessage(id, 0, 'first', author), signedMessage(id, 1, 'second', author)],
    tally: null,
    outcome: null,
    roots: [],
    archivedAt: 1_700_000_000_000,
    archivedBy: { deviceId: d0.deviceId, signingKey: hex(d0.signing.publicKey) }
  } as unknown as UnsignedTranscript
  const transcript = encodeTranscript(transcriptValue, d0.signing.secretKey)
  const archives: Buffer[] = []
  const indexEntries: Buffer[] = []
  for (const [title, body] of [
    ['fuzz 1', transcript],
    ['fuzz 2', Buffer.alloc(300, 9)]
  ] as const) {
    const archive = sealArchive({
      archiveId: archiveIdFor(INDEX_KEY, title),
      transcript: body,
      holders,
      chunkBytes: 128
    })
    archives.push(encodeArchive(archive))
    indexEntries.push(
      encodeIndexEntry(
        sealIndexEntry({ indexKey: INDEX_KEY, title, archive, holders, createdAt: 1, conversationId: id })
      )
    )
  }
  cached = {
    alice,
    bob,
    baseKey,
    manifest,
    clusterEntries,
    conversationEntries,
    certificates,
    revocations,
    cards: [encodeCardText(card)],
    invites: [
      encodeInvite(createInvite(3_600_000, 1_700_000_000_000)),
      encodeInvite(createInvite(60_000, 0))
    ],
    frames: [encodeFrame({ type: 'hello', v: 1, token: 'ab'.repeat(16) }), encodeFrame(clusterEntries[0])],
    archives,
    indexEntries,
    transcripts: [transcript],
    pings: [c.encode(pingEncoding, { seq: 1, t0: 1_700_000_000_000 })],
    pongs: [
      c.encode(pongEncoding, { seq: 1, t0: 1_700_000_000_000, t1: 1_700_000_000_005, seen: '10.0.0.1:4000' })
    ],
    addresses: [
      c.encode(addressEncoding, { deviceId: d0.deviceId, address: '10.0.0.1:4000', at: 5 }),
      c.encode(addressEncoding, { address: '[::1]:4000', at: 5 })
    ],
    hostPorts: ['127.0.0.1:4000', '[::1]:80', 'example.onion:9000', 'localhost:1']
  }
  return cached
}
