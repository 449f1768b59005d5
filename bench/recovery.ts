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
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import { identityFromSeed, writeIdentity } from '../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../src/kernel/identity/mnemonic.js'
import { offlineCard } from '../src/node/card.js'
import type { RecoveryResult } from '../src/node/recover.js'
import { type BenchFigure, figure, forkPeer, type Peer, round, sleep, tempDir } from './common.js'

const PEER = join(process.cwd(), 'dist', 'bench', 'recovery-peer.js')
/** Characters of text per message: with the signature, the author and autobase's framing a block is ≈ 0.5 KB. */
const TEXT = 200
const BATCH = 500

async function until<T>(what: string, check: () => Promise<T | null | false>, ms: number): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await sleep(50)
  }
}

interface Shown {
  total: number
  viewHash: string
  at: number
  log: { writable: boolean; viewLength: number; viewSignedLength: number }
}

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
  n: nArg
}: {
  quick: boolean
  n?: number
}): Promise<Record<string, BenchFigure>> {
  const n = nArg ?? (quick ? 10_000 : 100_000)
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const tmp = tempDir('recovery')
  const peers: Peer[] = []
  const start = async (mode: 'node' | 'bare') => {
    const p = await forkPeer(PEER, [mode, bootstrap])
    peers.push(p)
    return p
  }
  const log = (s: string) => process.stderr.write(`bench: recovery: ${s}\n`)
  try {
    // a friend whose account never runs: its card is all a conversation needs
    const friendHome = join(tmp.dir, 'friend')
    const f = identityFromSeed(mnemonicToSeed(generateMnemonic()), { device: 0 })
    writeIdentity(friendHome, f.identity, f.secrets)
    const friend = offlineCard(friendHome, Date.now())

    const homeA = join(tmp.dir, 'a')
    const homeB = join(tmp.dir, 'b')
    const mnemonic = generateMnemonic()
    let a = await start('node')
    const b = await start('node')
    await a.call('create', { home: homeA, mnemonic })
    const { invite } = await a.call<{ invite: string }>('invite')
    await b.call('join', { home: homeB, invite })
    type St = { writable: boolean; devices: number }
    await until(
      'B writable, two devices on both',
      async () => {
        const [sa, sb] = await Promise.all([a.call<St>('status'), b.call<St>('status')])
        return sb.writable && sa.devices === 2 && sb.devices === 2
      },
      120_000
    )
    await a.call('addFriend', { card: friend.card })
    const { id } = await a.call<{ id: string }>('startConvo', { with: friend.accountId })
    await until(
      'B a writer of the conversation',
      async () => (await b.call<Shown>('show', { id }).catch(() => null))?.log.writable ?? false,
      120_000
    )
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
      dir: join(tmp.dir, 'bare-seed'),
      blocks: writer.length,
      size: blockSize
    })
    const fetched = await fetcher.call<{ started: number; ended: number; wireRx: number }>('fetch', {
      dir: join(tmp.dir, 'bare-fetch'),
      key: seeded.key,
      length: seeded.length
    })
    const bareMs = fetched.ended - fetched.started
    log(`bare download: ${Math.round(bareMs)} ms`)
    await fetcher.call('close')
    await seeder.call('close')

    // recovery: a fresh process, then recover → run → all messages, same view as B
    a = await start('node')
    const rec = await a.call<{
      started: number
      recovered: number
      ready: number
      result: RecoveryResult
      phases: Record<string, number>
    }>('recover', { home: homeA, mnemonic })
    log(`recovery step done in ${Math.round(rec.recovered - rec.started)} ms; node ready`)
    const listed = await a.call<{ at: number }>('until', { id, n })
    log(`A lists all ${n} messages`)
    const same = await until(
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
        /** the same without the recovery step's wait for a final cluster view (up to 60 s, see docs/performance.md) */
        withoutFinalWaitMs: round(totalMs - (Number.isFinite(phases.final) ? phases.final : 0)),
        nodeStartMs: round(rec.ready - rec.recovered),
        untilListedMs: round(listed.at - rec.ready),
        untilSameViewMs: round(same.at - listed.at),
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
    for (const p of peers) {
      if (p.proc.exitCode !== null) continue
      await Promise.race([p.call('close').catch(() => {}), sleep(10_000)])
      if (p.proc.exitCode === null) p.proc.kill('SIGKILL')
    }
    await net.destroy()
    tmp.remove()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const nFlag = process.argv.find((x) => x.startsWith('--n='))
  const out = await run({
    quick: process.argv.includes('--quick'),
    ...(nFlag ? { n: Number(nFlag.slice(4)) } : {})
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
