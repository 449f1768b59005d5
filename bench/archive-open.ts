// P4's second goal: a two-device open of a 1 MB archive on loopback (goal: ≤ 100 ms p50).
//   node dist/bench/archive-open.js [--quick]
//
// Two devices of one account (A = device 0, B = device 1), each a real ConclaveNode in
// its own process (bench/recovery-peer.ts) with a RocksDB store, on a loopback DHT
// testnet. A starts a discussion with a friend's card and posts messages in batches
// until they come to ≈ 1 MB of transcript; A then archives the conversation to A and B
// (ArchiveManager.archive, without waiting for it to close) and B downloads the archive
// core. Timed on A, each open from scratch (the opened archive forgotten first) until
// its first page of 50 messages is readable: node.openArchive — the archive core read
// block by block, two peels asked of B over `conclave/archive/v1` (data key, then the
// index entry's title), decryption, the transcript header's signature and the messages'
// digest — and node.archiveMessages (those 50 messages' signatures); after one first
// open, 10 runs (quick: 3). `fullMs` is the open `archive open` does: every message's
// signature checked before it answers.
//
// Baseline, in this process: the crypto of the same open with both secret keys here —
// the same transcript bytes sealed with sealArchive and an index entry with
// sealIndexEntry, then per run peelOuter + peelInner + openBody and the index entry's
// two peels (openIndexEntry). The transcript's checks alone are timed on A
// (`verifyMs`; `messageChecksMs` of it the messages' signatures), so what reading the
// core, the network and the node add is the rest.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  archiveContext,
  archiveIdFor,
  envelopeFor,
  indexEntryContext,
  openBody,
  openIndexEntry,
  peelInner,
  peelOuter,
  sealArchive,
  sealIndexEntry
} from '../archive/index.js'
import { xwingKeyPairFromSeed } from '../src/kernel/crypto/xwing.js'
import type { ArchiveListing } from '../src/node/archives.js'
import { type BenchFigure, figure, peerNet, round, spread, until } from './common.js'
import { twoDevicesInConversation } from './two-devices.js'

const PEER = join(process.cwd(), 'dist', 'bench', 'recovery-peer.js')
/** Transcript bytes of messages to post before archiving. */
const TARGET_BYTES = 1e6
const TEXT = 200
const BATCH = 100
const GOAL_MS = 100

/** The crypto of a two-device open with both secret keys in this process, `runs` times (ms each). */
function cryptoOpen(transcript: Buffer, runs: number): { ms: number[]; sealMs: number } {
  const a = xwingKeyPairFromSeed(Buffer.alloc(32, 0xa1))
  const b = xwingKeyPairFromSeed(Buffer.alloc(32, 0xb2))
  const indexKey = Buffer.alloc(32, 0x1d)
  const title = 'Archive open bench (conv)'
  const holders: [Buffer, Buffer] = [a.publicKey, b.publicKey]
  const t0 = performance.now()
  const archive = sealArchive({ archiveId: archiveIdFor(indexKey, title), transcript, holders })
  const entry = sealIndexEntry({
    indexKey,
    title,
    archive,
    holders,
    createdAt: Date.now(),
    conversationId: 'conv'
  })
  const sealMs = performance.now() - t0
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    const ctx = archiveContext(archive)
    const inner = peelOuter(envelopeFor(archive.envelopes, ctx, a.publicKey), b.secretKey, ctx)
    const plain = openBody(peelInner(inner, a.secretKey, ctx), archive, archive.body)
    const indexCtx = indexEntryContext(entry)
    const titleInner = peelOuter(envelopeFor(entry.envelopes, indexCtx, a.publicKey), b.secretKey, indexCtx)
    const opened = openIndexEntry(entry, titleInner, a.secretKey, indexKey)
    ms.push(performance.now() - start)
    if (!plain.equals(transcript) || opened.title !== title) throw new Error('the baseline did not open')
  }
  return { ms, sealMs }
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, BenchFigure>> {
  const runs = quick ? 3 : 10
  const net = await peerNet<'node'>('archive-open', PEER)
  const log = (s: string) => process.stderr.write(`bench: archive-open: ${s}\n`)
  try {
    const { a, b, id } = await twoDevicesInConversation(net.dir, (mode) => net.start(mode))
    log(`posting ≈ ${TARGET_BYTES / 1e6} MB of messages on A…`)
    const filled = await a.call<{ n: number; bytes: number }>('fill', {
      id,
      bytes: TARGET_BYTES,
      size: TEXT,
      batch: BATCH
    })
    const archived = await a.call<{
      started: number
      ended: number
      id: string
      size: number
      blocks: number
    }>('archive', { id })
    log(
      `${filled.n} messages archived in ${Math.round(archived.ended - archived.started)} ms: ${archived.size} bytes, ${archived.blocks} blocks`
    )
    await until(
      'B holds the whole archive core',
      async () => {
        const listed = await b.call<ArchiveListing[]>('archives')
        const r = listed.find((x) => x.id === archived.id)
        return !!r && r.local === r.blocks
      },
      120_000
    )
    log(`B holds it; opening on A (1 + ${runs} runs)…`)
    const opened = await a.call<{
      firstMs: number
      ms: number[]
      fullMs: number[]
      verifyMs: number[]
      messageChecksMs: number[]
      messages: number
      transcript: string
    }>('openArchive', { id: archived.id, runs })
    const transcript = Buffer.from(opened.transcript, 'base64')
    const base = cryptoOpen(transcript, runs)

    const open = spread(opened.ms)
    const crypto = spread(base.ms)
    const verify = spread(opened.verifyMs)
    return {
      P4_open_two_devices: figure(
        open.p50,
        'ms p50, node.openArchive + its first page of 50 messages on A with B peeling over loopback',
        GOAL_MS,
        crypto.p50,
        {
          what: `a two-device open of a ${round(archived.size / 1e6)} MB archive (${opened.messages} messages) on A until its first page of 50 messages is readable: the archive core read, two peels asked of B over conclave/archive/v1, decryption, the header's signature and the messages' digest, the page's 50 message signatures; p50 of ${runs} runs after a first one`,
          goalOn: 'value (p50, ms)',
          baselineIs:
            'ms p50, the crypto of the same open in one process with both secret keys (sealArchive of the same transcript bytes, then peelOuter + peelInner + openBody and the index entry peeled the same way)',
          p50: open.p50,
          p99: open.p99,
          max: open.max,
          firstMs: round(opened.firstMs),
          runs,
          runsMs: opened.ms.map(round),
          archiveBytes: archived.size,
          transcriptBytes: transcript.length,
          blocks: archived.blocks,
          messages: opened.messages,
          baselineMs: crypto,
          /** the open of `archive open`: every message's signature checked before it answers */
          fullOpenMs: spread(opened.fullMs),
          /** decodeTranscript on A and every message checked (the checks of the full open) */
          verifyMs: verify,
          /** of which the messages' signatures (verifyMessageRecord for each) */
          messageChecksMs: spread(opened.messageChecksMs),
          /** what the full open adds to the crypto: reading the core, the round trips to B, the checks, the bookkeeping */
          fullRestP50Ms: round(spread(opened.fullMs).p50 - crypto.p50),
          sealBaselineMs: round(base.sealMs),
          archiveOnAMs: round(archived.ended - archived.started),
          textChars: TEXT,
          batch: BATCH
        }
      )
    }
  } finally {
    await net.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await run({ quick: process.argv.includes('--quick') })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
