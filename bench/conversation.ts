// P1 and P2: conversations across three processes on loopback (a real DHT
// testnet, real RocksDB corestores), each figure against a bare autobase
// doing the same appends with the same batching in the same run
// (bench/conv-peer.ts holds both sides).
//
// P1: a message posted on A until it is in C's view: p50 and p99.
// P2: three writers post at once, in batches; messages merged, applied
//     (signature, pattern rules, tally evaluated) and listed in C's view per
//     second, from the first post until C lists them all.
//
// Both trios (bare and conversation) run at once on one testnet and take
// turns, round by round for P1 and run by run for P2 (bare, conv, conv,
// bare), so that the shared machine's load falls on both sides alike.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import type { ManifestInput } from '../conversations/index.js'
import { randomBytes } from '../src/kernel/crypto/hash.js'
import { hex } from '../src/kernel/encoding.js'
import { account } from '../test/conversations/helpers.js'
import { type BenchFigure, figure, forkPeer, type Peer, percentile, round, sleep, tempDir } from './common.js'

const PEER = join(process.cwd(), 'dist', 'bench', 'conv-peer.js')

function startPeer(mode: 'conv' | 'bare', dir: string, bootstrap: string): Promise<Peer> {
  return forkPeer(PEER, [mode, dir, bootstrap])
}

type Mode = 'bare' | 'conv'
const MODES: readonly Mode[] = ['bare', 'conv']

interface Trio {
  a: Peer
  b: Peer
  c: Peer
  close(): Promise<void>
}

/** Three peers of one log: A creates it, B and C become (indexing) writers, all connected. */
async function trio(mode: Mode, root: string, bootstrap: string): Promise<Trio> {
  const names = ['bench-a', 'bench-b', 'bench-c']
  const peers = await Promise.all(names.map((_, i) => startPeer(mode, join(root, `${mode}-${i}`), bootstrap)))
  const [a, b, c] = peers as [Peer, Peer, Peer]
  const encryptionKey = hex(randomBytes(32))
  const opened = await a.call<{ key: string }>('open', { name: names[0], key: null, encryptionKey })
  if (mode === 'conv') {
    const manifest: ManifestInput = {
      topic: 'bench',
      pattern: 'discussion',
      consensus: { method: 'announcement' },
      members: names.map((n) => account(n).member([0]))
    }
    await a.call('create', { manifest })
  }
  await a.call('flush')
  for (const [i, p] of [b, c].entries()) {
    const r = await p.call<{ request: unknown }>('open', {
      name: names[i + 1],
      key: opened.key,
      encryptionKey
    })
    await p.call('flush')
    await a.call('addWriter', { request: r.request })
    await p.call('writable')
  }
  return {
    a,
    b,
    c,
    async close() {
      for (const p of peers) await p.call('close').catch(() => p.proc.kill('SIGKILL'))
    }
  }
}

interface Latency {
  /** post on A → listed on C, sorted */
  total: number[]
  /** post on A → its append returned (signing, checks, local append), sorted */
  local: number[]
}

/**
 * P1 on both sides at once: the bare and the conversation trios are both up,
 * and their rounds alternate (bare, conv, conv, bare, …), so that a change in
 * the shared machine's load falls on both sides alike.
 */
async function latency(
  trios: Record<Mode, Trio>,
  rounds: number,
  gapMs: number
): Promise<Record<Mode, Latency>> {
  const out: Record<Mode, Latency> = { bare: { total: [], local: [] }, conv: { total: [], local: [] } }
  for (const mode of MODES) {
    // warm up: the connections and the first blocks
    const warm = Array.from({ length: 5 }, (_, i) => `${mode}-p1-warm-${i}`)
    await trios[mode].a.call('post', { texts: warm })
    await trios[mode].c.call('seen', { texts: warm })
  }
  for (let i = 0; i < rounds; i++) {
    for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse()) {
      const t = trios[mode]
      const text = `${mode}-p1-${i}`
      const seenOnC = t.c.call<number[]>('seen', { texts: [text] })
      const { started, ended } = await t.a.call<{ started: number; ended: number }>('post', { texts: [text] })
      const [at] = await seenOnC
      out[mode].total.push(at! - started)
      out[mode].local.push(ended - started)
      await sleep(gapMs)
    }
  }
  const sort = (xs: number[]) => xs.sort((x, y) => x - y)
  for (const mode of MODES) {
    sort(out[mode].total)
    sort(out[mode].local)
  }
  return out
}

async function throughput(
  t: Trio,
  tag: string,
  perWriter: number,
  batch: number
): Promise<{ messages: number; seconds: number }> {
  const already = (await t.c.call<{ count: number }>('count', { count: 0 })).count
  const texts = (w: string) => Array.from({ length: perWriter }, (_, i) => `${tag}-${w}-${i}`)
  const done = t.c.call<{ at: number }>('count', { count: already + 3 * perWriter })
  const posts = await Promise.all([
    t.a.call<{ started: number }>('post', { texts: texts('a'), batch }),
    t.b.call<{ started: number }>('post', { texts: texts('b'), batch }),
    t.c.call<{ started: number }>('post', { texts: texts('c'), batch })
  ])
  const { at } = await done
  const started = Math.min(...posts.map((p) => p.started))
  return { messages: 3 * perWriter, seconds: (at - started) / 1000 }
}

export async function run({
  quick,
  only,
  batch = 100
}: {
  quick: boolean
  /** P1 alone (no throughput run): for iterating on latency */
  only?: 'P1'
  /** P2's messages per append on each writer (default 100) */
  batch?: number
}): Promise<Record<string, BenchFigure>> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const tmp = tempDir('conversation')
  const rounds = quick ? 40 : 200
  const perWriter = quick ? 2000 : 10_000
  try {
    const trios: Partial<Record<Mode, Trio>> = {}
    const results: Partial<Record<Mode, { lat: Latency; rate: number }>> = {}
    try {
      for (const mode of MODES) trios[mode] = await trio(mode, tmp.dir, bootstrap)
      const both = trios as Record<Mode, Trio>
      const lat = await latency(both, rounds, 20)
      // P2 in four runs of half the messages, bare, conv, conv, bare: the rate of each side is
      // its messages over its time, so a drift in the machine's load weighs on both alike
      const rate: Record<Mode, { messages: number; seconds: number }> = {
        bare: { messages: 0, seconds: 0 },
        conv: { messages: 0, seconds: 0 }
      }
      if (only !== 'P1') {
        for (const [i, mode] of (['bare', 'conv', 'conv', 'bare'] as const).entries()) {
          const r = await throughput(both[mode], `${mode}-p2-${i}`, perWriter / 2, batch)
          rate[mode].messages += r.messages
          rate[mode].seconds += r.seconds
        }
      }
      for (const mode of MODES) {
        results[mode] = { lat: lat[mode], rate: rate[mode].messages / rate[mode].seconds }
      }
    } finally {
      for (const mode of MODES) await trios[mode]?.close()
    }
    const ours = results.conv!
    const bare = results.bare!
    const p50 = percentile(ours.lat.total, 50)
    const p99 = percentile(ours.lat.total, 99)
    const bareP50 = percentile(bare.lat.total, 50)
    const bareP99 = percentile(bare.lat.total, 99)
    const p1 = {
      P1: figure(p50, 'ms post on A → in C’s view, p50', 15, bareP50, {
        what: 'three processes on loopback; a discussion post on A (signed, checked, appended) until C lists it; baseline: a bare encrypted autobase with a hyperbee view doing the same',
        p99: Math.round(p99 * 1000) / 1000,
        p99Goal: 60,
        p99Met: p99 <= 60,
        p99Baseline: Math.round(bareP99 * 1000) / 1000,
        p99Ratio: Math.round((p99 / bareP99) * 100) / 100,
        ratioGoal: 1.3,
        localP50: round(percentile(ours.lat.local, 50)),
        localP50Baseline: round(percentile(bare.lat.local, 50)),
        worst: ours.lat.total.slice(-5).map(round),
        worstBaseline: bare.lat.total.slice(-5).map(round),
        rounds
      })
    }
    if (only === 'P1') return p1
    return {
      ...p1,
      P2: figure(
        ours.rate,
        'msg/s merged, applied and listed on C',
        5000,
        bare.rate,
        {
          what: `three writers post at once in batches of ${batch}; from the first post until C lists all; every message signed, validated, fed to the tally and evaluated; baseline: bare autobase, same batches`,
          ratioGoal: 0.8,
          messages: 3 * perWriter,
          runs: 'four of half the messages each: bare, conv, conv, bare',
          batch
        },
        false
      )
    }
  } finally {
    await net.destroy()
    tmp.remove()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await run({
    quick: process.argv.includes('--quick'),
    batch: Number(process.argv.find((a) => a.startsWith('--batch='))?.slice('--batch='.length) ?? 100),
    ...(process.argv.includes('--p1') ? { only: 'P1' as const } : {})
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
