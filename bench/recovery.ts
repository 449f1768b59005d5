// P5: recovery of a device that held a large conversation, against a bare
// hypercore download of the same bytes in the same run.
//
// Two devices of one account (A = device 0, B = device 1, both indexers), each
// a real ConclaveNode in its own process (bench/recovery-peer.ts) with a
// RocksDB store, on a loopback DHT testnet. A starts a discussion with a
// friend's account (a card of an account that never runs) and posts N
// messages in batches; B holds them all. A's home is then deleted and
// recovered from the words, as `conclave recover` + `conclave run` do:
// recoverDevice (search, new writer epoch, cluster download), the node starts,
// re-learns the conversation from B and downloads it. Timed from the recover
// call in an already started process until A lists all N messages with the
// same conversation view hash as B ("fully synced").
//
// Baseline: one plain hypercore with as many blocks and bytes as A's
// conversation writer core (the data a recovery must fetch), seeded by one
// process and downloaded in full by a fresh corestore in another over
// Hyperswarm on the same testnet; timed from the call in an already started
// process, like the recovery.
//
// Diagnostics: P5TRACE=1 prints every poll of the recovered device (its view and held writer
// cores); P5PROF=FILE writes a CPU profile of the recovering process, from the recover call
// until synced (open it in Chrome's DevTools).
//
// Then, with the Conclave processes gone, Syncthing (bench/syncthing.ts) re-syncs the same
// bytes between two local instances, twice: one file per block of A's writer core
// (`perMessage`: as many files as blocks, each of the mean block size, random bytes) and one
// file of all its bytes (`oneFile`). P5 carries both results (`syncthing`) and Conclave's
// recovery time over each (`ratioToSyncthing`); without syncthing installed each says
// `skipped` and why. `--no-syncthing` leaves it out.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { RecoveryResult } from '../src/node/recover.js'
import { type BenchFigure, figure, peerNet, round, until } from './common.js'
import { type SyncthingResult, syncthingResync } from './syncthing.js'
import { type Shown, twoDevicesInConversation } from './two-devices.js'

const PEER = join(process.cwd(), 'dist', 'bench', 'recovery-peer.js')
/** Characters of text per message: with the signature, the author and autobase's framing a block is ≈ 0.5 KB. */
const TEXT = 200
const BATCH = 500

/** The recovery step's phases: search, certify, download, then the wait for a final cluster view. */
function phaseTimes(rec: { started: number; recovered: number; phases: Record<string, number> }) {
  const p = rec.phases
  const at = (k: string) => p[k] ?? Number.NaN
  return {
    search: round(at('certifying') - rec.started),
    certify: round(at('downloading') - at('certifying')),
    download: round(at('downloaded') - at('downloading')),
    final: round(rec.recovered - at('downloaded'))
  }
}

export async function run({
  quick,
  n: nArg,
  syncthing = true
}: {
  quick: boolean
  n?: number
  syncthing?: boolean
}): Promise<Record<string, BenchFigure>> {
  // quick: 5,000 (was 10,000 before the Syncthing comparison; the quick run must stay within 5 min)
  const n = nArg ?? (quick ? 5_000 : 100_000)
  const log = (s: string) => process.stderr.write(`bench: recovery: ${s}\n`)
  const out = await recovery(n, log)
  const p5 = out.P5!
  if (!syncthing) return out
  // Syncthing re-syncing the same bytes between two local instances, once the Conclave processes are gone
  const blocks = p5.blocks as number
  const blockBytes = p5.blockBytes as number
  const bytes = p5.bytes as number
  const variants: Record<string, SyncthingResult> = {}
  for (const [name, files, fileBytes] of [
    ['perMessage', blocks, blockBytes],
    ['oneFile', 1, bytes]
  ] as const) {
    log(`syncthing (${name}): ${files} files of ${fileBytes} bytes…`)
    variants[name] = await syncthingResync({
      files,
      fileBytes,
      log: (s) => log(`syncthing (${name}): ${s}`)
    })
    log(`syncthing (${name}): ${JSON.stringify(variants[name])}`)
  }
  p5.syncthing = variants
  /** Conclave's recovery time over Syncthing's re-sync time, per variant (null when skipped or failed). */
  p5.ratioToSyncthing = Object.fromEntries(
    Object.entries(variants).map(([k, v]) => [
      k,
      'seconds' in v && v.seconds > 0 ? round(p5.value / 1000 / v.seconds) : null
    ])
  )
  return out
}

async function recovery(n: number, log: (s: string) => void): Promise<Record<string, BenchFigure>> {
  const net = await peerNet<'node' | 'bare'>('recovery', PEER)
  const start = (mode: 'node' | 'bare') => net.start(mode)
  try {
    const devices = await twoDevicesInConversation(net.dir, start)
    const { b, id, mnemonic, homeA } = devices
    let a = devices.a
    log(`posting ${n} messages on A…`)
    const onB = b.call<{ at: number }>('until', { id, n, pollMs: 200 })
    const posted = await a.call<{ started: number; ended: number }>('post', {
      id,
      n,
      size: TEXT,
      batch: BATCH
    })
    await onB
    const writer = await a.call<{ length: number; byteLength: number }>('writerCore', { id })
    log(
      `posted in ${Math.round(posted.ended - posted.started)} ms; B holds them; A's writer core: ${writer.length} blocks, ${writer.byteLength} bytes`
    )

    // A's disk is lost
    await a.call('close')
    log('A closed; its home deleted')
    rmSync(homeA, { recursive: true, force: true })

    // the bare baseline: the same blocks and bytes in one plain hypercore
    const blockSize = Math.round(writer.byteLength / writer.length)
    const seeder = await start('bare')
    const fetcher = await start('bare')
    log(`seeding the bare core (${writer.length} blocks of ${blockSize} bytes)…`)
    const seeded = await seeder.call<{ key: string; length: number; byteLength: number }>('seed', {
      dir: join(net.dir, 'bare-seed'),
      blocks: writer.length,
      size: blockSize
    })
    const fetched = await fetcher.call<{ started: number; ended: number; wireRx: number }>('fetch', {
      dir: join(net.dir, 'bare-fetch'),
      key: seeded.key,
      length: seeded.length
    })
    const bareMs = fetched.ended - fetched.started
    log(`bare download: ${Math.round(bareMs)} ms`)
    await fetcher.call('close')
    await seeder.call('close')

    // recovery: a fresh process, then recover → run → all messages, same view as B
    const before = (await b.call<Shown>('show', { id })).log.viewLength
    a = await start('node')
    const rec = await a.call<{
      started: number
      recovered: number
      ready: number
      result: RecoveryResult
      phases: Record<string, number>
      steps: Record<string, number>
    }>('recover', { home: homeA, mnemonic })
    log(`recovery step done in ${Math.round(rec.recovered - rec.started)} ms; node ready`)
    const listed = await a.call<{
      at: number
      first: Record<string, number>
      trace: unknown[]
      viewHash: string
      viewLength: number
    }>('until', {
      id,
      n,
      minLength: before
    })
    log(`A lists all ${n} messages`)
    if (process.env.P5TRACE) log(JSON.stringify({ ready: rec.ready, trace: listed.trace }))
    // Both views keep growing by heartbeats (the deadline is pending), and hashing a view reads all
    // of it (≈ 1 s here), so polling both for one hash chases a moving target. Instead: A's view as
    // it stood when it first listed all n at a length of at least B's before the recovery (A's
    // fast-forward lands on B's indexed view, a few blocks shorter), hashed afterwards, against B's
    // view at the same length. Equal means A then held all B had.
    const atB = await b.call<{ viewHash: string | null }>('hashAt', { id, length: listed.viewLength })
    const sameWhenListed = listed.viewLength >= before && atB.viewHash === listed.viewHash
    const same = sameWhenListed
      ? { at: listed.at }
      : await until(
          'the same conversation view on A and B',
          async () => {
            const [sa, sb] = await Promise.all([a.call<Shown>('show', { id }), b.call<Shown>('show', { id })])
            return sa.viewHash === sb.viewHash && sa.total >= n && sa
          },
          120_000
        )
    const totalMs = same.at - rec.started
    const phases = phaseTimes(rec)
    type Cv = { view: { length: number; signedLength: number } }
    const clusterA = (await a.call<Cv>('status')).view
    const measured = await a.call<{ cores: number; blocks: number; bytes: number; wireRx: number }>('measure')

    return {
      P5: figure(totalMs, 'ms recover → all messages listed, same view as B', 20_000, bareMs, {
        what: `a device whose home is lost comes back from the words: recoverDevice (search, new writer epoch, cluster download), node start, the conversation re-learned from the other device and downloaded until it lists all ${n} messages with the other device's view hash; baseline: a fresh corestore downloads one plain hypercore of the same blocks and bytes over Hyperswarm`,
        ratioGoal: 1.5,
        ratioMet: bareMs > 0 ? totalMs / bareMs <= 1.5 : null,
        n,
        blocks: writer.length,
        bytes: writer.byteLength,
        blockBytes: blockSize,
        recoveryStepMs: round(rec.recovered - rec.started),
        recoveryPhasesMs: phases,
        /** when each step of the recovery began, ms after the recover call (docs/recovery.md) */
        recoveryStepsAtMs: Object.fromEntries(
          Object.entries(rec.steps).map(([step, at]) => [step, round(at - rec.started)])
        ),
        /** the same without the recovery step's wait for a final cluster view (up to 60 s, see docs/performance.md) */
        withoutFinalWaitMs: round(totalMs - (Number.isFinite(phases.final) ? phases.final : 0)),
        nodeStartMs: round(rec.ready - rec.recovered),
        untilListedMs: round(listed.at - rec.ready),
        /**
         * ms after the node was ready when each part of "synced" first held: the conversation
         * re-learned, all messages listed, the view's blocks stored, the messages' writer blocks stored
         */
        untilPartsMs: Object.fromEntries(
          Object.entries(listed.first).map(([part, at]) => [part, round(at - rec.ready)])
        ),
        untilSameViewMs: round(same.at - listed.at),
        /** Whether A's view, snapshotted when it first listed all messages, already hashed as B's. */
        sameViewWhenListed: sameWhenListed,
        viewLengthBefore: before,
        viewLengthWhenListed: listed.viewLength,
        /** the cluster view on A once synced: final when signedLength = length */
        clusterViewA: { length: clusterA.length, signedLength: clusterA.signedLength },
        clusterCores: rec.result.cores,
        clusterBytes: rec.result.bytes,
        messagesPerSecond: Math.round(n / (totalMs / 1000)),
        mbPerSecond: round(writer.byteLength / 1e6 / (totalMs / 1000)),
        bareMbPerSecond: round(writer.byteLength / 1e6 / (bareMs / 1000)),
        nodeWireRxBytes: measured.wireRx,
        bareWireRxBytes: fetched.wireRx,
        storeAfter: { cores: measured.cores, blocks: measured.blocks, bytes: measured.bytes },
        postedPerSecond: Math.round(n / ((posted.ended - posted.started) / 1000)),
        textChars: TEXT,
        batch: BATCH
      })
    }
  } finally {
    await net.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const nFlag = process.argv.find((x) => x.startsWith('--n='))
  const out = await run({
    quick: process.argv.includes('--quick'),
    syncthing: !process.argv.includes('--no-syncthing'),
    ...(nFlag ? { n: Number(nFlag.slice(4)) } : {})
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
