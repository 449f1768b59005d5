import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { eventually } from '../src/kernel/wait.js'

/** One benchmark figure as `npm run bench` prints it. */
export interface BenchFigure {
  value: number
  unit: string
  goal: number | null
  baseline: number | null
  ratio: number | null
  met: boolean | null
  [detail: string]: unknown
}

export function figure(
  value: number,
  unit: string,
  goal: number | null,
  baseline: number | null,
  extra: Record<string, unknown> = {},
  lowerIsBetter = true
): BenchFigure {
  const ratio = baseline ? round(value / baseline) : null
  const met = goal === null ? null : lowerIsBetter ? value <= goal : value >= goal
  return {
    value: round(value),
    unit,
    goal,
    baseline: baseline === null ? null : round(baseline),
    ratio,
    met,
    ...extra
  }
}

export function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

/** p50, p99 and max of `xs` (ms), rounded. */
export function spread(xs: number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1]!) }
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) / 1024 : Number.NaN
}

export function tempDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `conclave-bench-${name}-`))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A benchmark peer: a child process driven over IPC (`{ id, op, args }` → `{ id, result | error }`). */
export interface Peer {
  proc: ChildProcess
  /** The first message the peer sent (its ready message). */
  ready: unknown
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>
}

/** Forks `script` with `args` and resolves once it sent its first (ready) message. */
export function forkPeer(script: string, args: string[]): Promise<Peer> {
  const proc = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let next = 0
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  proc.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
    if (m.id === undefined) return
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    if (m.error) p.reject(new Error(m.error))
    else p.resolve(m.result)
  })
  proc.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error('peer exited'))
  })
  const peer: Peer = {
    proc,
    ready: null,
    call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
      const id = next++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        proc.send({ id, op, args })
      })
    }
  }
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => {
      peer.ready = m
      resolve(peer)
    })
    proc.once('exit', (code) => reject(new Error(`peer exited ${code}`)))
  })
}

/** Polls `check` every 50 ms until it returns a truthy value; throws `timed out: what` after `ms`. */
/** Polls `check` every 50 ms until it returns a value; throws `timed out waiting for WHAT` after `ms`. */
export function until<T>(what: string, check: () => Promise<T | null | false>, ms: number): Promise<T> {
  return eventually(what, check, ms, 50)
}

/** Closes every peer still running (10 s each at most), then kills what is left. */
export async function closePeers(peers: Peer[]): Promise<void> {
  for (const p of peers) {
    if (p.proc.exitCode !== null) continue
    await Promise.race([p.call('close').catch(() => {}), sleep(10_000)])
    if (p.proc.exitCode === null) p.proc.kill('SIGKILL')
  }
}

/**
 * A loopback DHT testnet (3 nodes on 127.0.0.1), a temp folder and the peers forked from
 * `script` (`[mode, bootstrap]` as arguments); `close` ends the peers, the testnet and the folder.
 */
export async function peerNet<M extends string>(name: string, script: string) {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const tmp = tempDir(name)
  const peers: Peer[] = []
  return {
    dir: tmp.dir,
    async start(mode: M): Promise<Peer> {
      const p = await forkPeer(script, [mode, bootstrap])
      peers.push(p)
      return p
    },
    async close(): Promise<void> {
      await closePeers(peers)
      await net.destroy()
      tmp.remove()
    }
  }
}
