// P7 and the cluster figures: a node's start → ready time and idle memory
// against the bare substrate (bench/bare-node.ts) in the same run; time from
// `join` to a writable, synced device; membership update latency A → C.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import { readRuntime, readToken } from '../src/node/runtime-file.js'
import type { StatusReport } from '../src/node/node-api.js'
import { type BenchFigure, figure, rssMb, sleep, tempDir } from './common.js'

const BIN = join(process.cwd(), 'dist', 'bin', 'conclave.js')
const BARE = join(process.cwd(), 'dist', 'bench', 'bare-node.js')

function startProcess(args: string[]): Promise<{ proc: ChildProcess; readyMs: number }> {
  const t0 = performance.now()
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CONCLAVE_LOG_LEVEL: 'error' }
  })
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (d) => {
      out += d
      if (/^ready$/m.test(out)) resolve({ proc, readyMs: performance.now() - t0 })
    })
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return
  const done = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGTERM')
  await done
}

/** Runs the CLI asynchronously: the DHT testnet lives in this process and must keep answering. */
function cli(home: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`conclave ${args.join(' ')}: ${err}`))
    )
  })
}

async function status(home: string): Promise<StatusReport> {
  const rt = readRuntime(home)!
  const res = await fetch(`http://127.0.0.1:${rt.port}/api/status`, {
    headers: { authorization: `Bearer ${readToken(home)}` }
  })
  return (await res.json()) as StatusReport
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000, stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await sleep(stepMs)
  }
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, BenchFigure>> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const tmp = tempDir('node')
  const procs: ChildProcess[] = []
  try {
    const rounds = quick ? 3 : 7
    const ours: number[] = []
    const bare: number[] = []
    const homeA = join(tmp.dir, 'a')
    await cli(homeA, ['init', '--json'])
    for (let i = 0; i < rounds; i++) {
      const b = await startProcess([BARE, join(tmp.dir, `bare-${i}`), bootstrap])
      bare.push(b.readyMs)
      await stop(b.proc)
      const a = await startProcess([BIN, '--home', homeA, 'run', '--port', '0', '--bootstrap', bootstrap])
      ours.push(a.readyMs)
      await stop(a.proc)
    }
    ours.sort((x, y) => x - y)
    bare.sort((x, y) => x - y)
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!

    // idle memory, both processes running side by side for the same time
    const a = await startProcess([BIN, '--home', homeA, 'run', '--port', '0', '--bootstrap', bootstrap])
    procs.push(a.proc)
    const b = await startProcess([BARE, join(tmp.dir, 'bare-idle'), bootstrap])
    procs.push(b.proc)
    await sleep(quick ? 3000 : 10_000)
    const rssOurs = rssMb(a.proc.pid!)
    const rssBare = rssMb(b.proc.pid!)
    await stop(b.proc)

    // join → writable and synced (B), then membership latency A → C
    const homeB = join(tmp.dir, 'b')
    const homeC = join(tmp.dir, 'c')
    const t0 = performance.now()
    const inviteB = JSON.parse(await cli(homeA, ['invite', '--json', '--indexer'])).invite
    await cli(homeB, ['join', inviteB, '--bootstrap', bootstrap])
    const nb = await startProcess([BIN, '--home', homeB, 'run', '--port', '0', '--bootstrap', bootstrap])
    procs.push(nb.proc)
    await until(async () => {
      const [sa, sb] = await Promise.all([status(homeA), status(homeB)])
      return sb.writable && sb.devices.length === sa.devices.length
    })
    const joinMs = performance.now() - t0
    const inviteC = JSON.parse(await cli(homeA, ['invite', '--json'])).invite
    await cli(homeC, ['join', inviteC, '--bootstrap', bootstrap])
    const nc = await startProcess([BIN, '--home', homeC, 'run', '--port', '0', '--bootstrap', bootstrap])
    procs.push(nc.proc)
    await until(
      async () => (await status(homeC)).devices.length === 3 && (await status(homeC)).peers.length >= 1
    )
    // a membership change on A (a new device certified by an invite) until C lists it
    const t1 = performance.now()
    const homeD = join(tmp.dir, 'd')
    const inviteD = JSON.parse(await cli(homeA, ['invite', '--json'])).invite
    const joinD = spawn(process.execPath, [BIN, '--home', homeD, 'join', inviteD, '--bootstrap', bootstrap], {
      stdio: 'ignore'
    })
    // listened for at once: the join may well have exited by the time C lists D
    const joinedD = new Promise((r) => joinD.once('exit', r))
    await until(async () => (await status(homeC)).devices.length === 4, 60_000, 5)
    const membershipMs = performance.now() - t1
    await joinedD

    return {
      P7: figure(median(ours), 'ms start→ready', 1500, median(bare), {
        what: 'conclave run until ready (process spawn included), median; baseline: bare corestore+autobase+hyperswarm process',
        rssMb: Math.round(rssOurs),
        rssGoalMb: 120,
        rssMet: rssOurs <= 120,
        rssBaselineMb: Math.round(rssBare),
        rssRatio: Math.round((rssOurs / rssBare) * 100) / 100,
        rounds
      }),
      cluster_join: figure(joinMs, 'ms invite→joined→writable and synced', null, null, {
        what: 'invite on A, join B, run B, until B is writable and lists as many devices as A'
      }),
      cluster_membership: figure(membershipMs, 'ms certify on A → visible on C', null, null, {
        what: 'includes pairing of the new device (certification happens during pairing)'
      })
    }
  } finally {
    for (const p of procs) await stop(p).catch(() => {})
    await net.destroy()
    tmp.remove()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await run({ quick: process.argv.includes('--quick') })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
