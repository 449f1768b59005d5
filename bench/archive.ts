// Archive sealing benchmark (not a test): prints one JSON object.
//   node dist/bench/archive.js [--quick]
// P4: sealing throughput of a 100 MB transcript (quick: 10 MB) into
// hypercore-sized blocks — fresh data key, four X-Wing seals, secretstream
// body with length frames — against bare libsodium secretstream push over the
// same 64 KiB chunks in the same run (goal: ratio ≥ 0.4). Also the opening
// throughput (block-by-block opener, two-device peel included) against bare
// secretstream pull.
import { pathToFileURL } from 'node:url'
import sodium from 'sodium-native'
import {
  ArchiveOpener,
  archiveIdFor,
  envelopeFor,
  peelInner,
  peelOuter,
  sealArchiveChunks
} from '../archive/index.js'
import { xwingKeyPairFromSeed } from '../src/kernel/crypto/xwing.js'
import { type BenchFigure, round } from './common.js'

const CHUNK = 65536
const MB = 1e6
const TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
const TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Bare secretstream over the same chunks, one fresh output buffer per chunk (as blocks need). */
function rawPush(key: Buffer, data: Buffer): { header: Buffer; chunks: Buffer[] } {
  const state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES)
  const header = Buffer.alloc(24)
  sodium.crypto_secretstream_xchacha20poly1305_init_push(state, header, key)
  const chunks: Buffer[] = []
  for (let at = 0; at < data.length; at += CHUNK) {
    const m = data.subarray(at, at + CHUNK)
    const c = Buffer.allocUnsafe(m.length + 17)
    const final = at + CHUNK >= data.length
    sodium.crypto_secretstream_xchacha20poly1305_push(state, c, m, null, final ? TAG_FINAL : TAG_MESSAGE)
    chunks.push(c)
  }
  return { header, chunks }
}

function rawPull(key: Buffer, sealed: { header: Buffer; chunks: Buffer[] }): number {
  const state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES)
  sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, sealed.header, key)
  const tag = Buffer.alloc(1)
  const out: Buffer[] = []
  let n = 0
  for (const c of sealed.chunks) {
    const m = Buffer.allocUnsafe(c.length - 17)
    sodium.crypto_secretstream_xchacha20poly1305_pull(state, m, tag, c, null)
    out.push(m)
    n += m.length
  }
  return Buffer.concat(out, n).length
}

function time<T>(fn: () => T): { ms: number; result: T } {
  const start = performance.now()
  const result = fn()
  return { ms: performance.now() - start, result }
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, BenchFigure>> {
  const bytes = (quick ? 10 : 100) * MB
  const transcript = Buffer.allocUnsafe(bytes)
  sodium.randombytes_buf(transcript)
  const a = xwingKeyPairFromSeed(Buffer.alloc(32, 0xa1))
  const b = xwingKeyPairFromSeed(Buffer.alloc(32, 0xb2))
  const archiveId = archiveIdFor(Buffer.alloc(32, 0x1d), 'bench')
  const key = Buffer.alloc(32, 7)

  const sealMs: number[] = []
  const rawMs: number[] = []
  const openMs: number[] = []
  const rawOpenMs: number[] = []
  const peelMs: number[] = []
  let blockCount = 0
  let encodedBytes = 0
  for (let round = 0; round < 3; round++) {
    const raw = time(() => rawPush(key, transcript))
    rawMs.push(raw.ms)
    rawOpenMs.push(time(() => rawPull(key, raw.result)).ms)

    const sealed = time(() => {
      const s = sealArchiveChunks({
        archiveId,
        transcript,
        holders: [a.publicKey, b.publicKey],
        chunkBytes: CHUNK
      })
      return [...s.chunks]
    })
    sealMs.push(sealed.ms)
    blockCount = sealed.result.length
    encodedBytes = sealed.result.reduce((n, x) => n + x.length, 0)

    const opened = time(() => {
      const opener = new ArchiveOpener({ archiveId })
      const blocks = sealed.result
      opener.push(blocks[0]!)
      const ctx = opener.context()
      const peel = time(() =>
        peelInner(
          peelOuter(envelopeFor(opener.header!.envelopes, ctx, a.publicKey), b.secretKey, ctx),
          a.secretKey,
          ctx
        )
      )
      peelMs.push(peel.ms)
      opener.unlock(peel.result)
      for (let i = 1; i < blocks.length; i++) opener.push(blocks[i]!)
      return opener.end()
    })
    if (!opened.result.equals(transcript))
      throw new Error('the sealed archive did not open to the transcript')
    openMs.push(opened.ms)
  }
  const mbps = (ms: number) => bytes / MB / (ms / 1000)
  const seal = mbps(median(sealMs))
  const rawSeal = mbps(median(rawMs))
  const open = mbps(median(openMs))
  const rawOpen = mbps(median(rawOpenMs))
  return {
    P4: {
      value: round(seal),
      unit: `MB/s sealing a ${bytes / MB} MB transcript into blocks (64 KiB chunks, 4 X-Wing seals)`,
      goal: 0.4,
      goalOn: 'ratio',
      baseline: round(rawSeal),
      baselineIs: 'MB/s of bare sodium secretstream push over the same 64 KiB chunks',
      ratio: round(seal / rawSeal),
      met: seal / rawSeal >= 0.4,
      sealMs: round(median(sealMs)),
      blocks: blockCount,
      overheadBytes: encodedBytes - bytes
    },
    P4_open: {
      value: round(open),
      unit: 'MB/s opening the same archive block by block (two-device peel included)',
      goal: null,
      baseline: round(rawOpen),
      baselineIs: 'MB/s of bare sodium secretstream pull over the same chunks',
      ratio: round(open / rawOpen),
      met: null,
      peelMs: round(median(peelMs))
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await run({ quick: process.argv.includes('--quick') })
  console.log(JSON.stringify(out, null, 2))
}
