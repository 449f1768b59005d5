// P1 and P2: conversations across three processes on loopback (a real DHT
// testnet, real RocksDB corestores), each figure against a bare autobase
// doing the same appends with the same batching in the same run
// (bench/conv-peer.ts holds both sides).
//
// P1: a message posted on A until it is in C's view: p50 and p99.
// P2: three writers post at once, in batches; messages merged, applied
//     (signature, pattern rules, tally evaluated) and listed in C's view per
//     second, from the first post until C lists them all.
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

interface Trio {
  a: Peer
  b: Peer
  c: Peer
  close(): Promise<void>
}

/** Three peers of one log: A creates it, B and C become (indexing) writers, all connected. */
async function trio(mode: 'conv' | 'bare', root: string, bootstrap: string): Promise<Trio> {
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

async function latency(t: Trio, tag: string, rounds: number, gapMs: number): Promise<Latency> {
  const out: number[] = []
  const local: number[] = []
  // warm up: the connections and the first blocks
  const warm = Array.from({ length: 5 }, (_, i) => `${tag}-warm-${i}`)
  await t.a.call('post', { texts: warm })
  await t.c.call('seen', { texts: warm })
  for (let i = 0; i < rounds; i++) {
    const text = `${tag}-${i}`
    const seenOnC = t.c.call<number[]>('seen', { texts: [text] })
    const { started, ended } = await t.a.call<{ started: number; ended: number }>('post', { texts: [text] })
    const [at] = await seenOnC
    out.push(at! - started)
    local.push(ended - started)
    await sleep(gapMs)
  }
  const sort = (xs: number[]) => xs.sort((x, y) => x - y)
  return { total: sort(out), local: sort(local) }
}

async function throughput(t: Trio, tag: string, perWriter: number, batch: number): Promise<number> {
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
  return (3 * perWriter) / ((at - started) / 1000)
}

export async function run({
  quick,
  only
}: {
  quick: boolean
  /** P1 alone (no throughput run): for iterating on latency */
  only?: 'P1'
}): Promise<Record<string, BenchFigure>> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const tmp = tempDir('conversation')
  const rounds = quick ? 40 : 200
  const perWriter = quick ? 2000 : 10_000
  const batch = 100
  try {
    const results: Record<string, { lat: Latency; rate: number }> = {}
    for (const mode of ['bare', 'conv'] as const) {
      const t = await trio(mode, tmp.dir, bootstrap)
      try {
        const lat = await latency(t, `${mode}-p1`, rounds, 20)
        const rate = only === 'P1' ? Number.NaN : await throughput(t, `${mode}-p2`, perWriter, batch)
        results[mode] = { lat, rate }
      } finally {
        await t.close()
      }
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
          what: 'three writers post at once in batches of 100; from the first post until C lists all; every message signed, validated, fed to the tally and evaluated; baseline: bare autobase, same batches',
          ratioGoal: 0.8,
          messages: 3 * perWriter,
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
    ...(process.argv.includes('--p1') ? { only: 'P1' as const } : {})
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
