/**
 * Crash suite (issue 10, part 2): a worker process appends acknowledged
 * entries to a real RocksDB-backed Conversation; this parent kills it with
 * SIGKILL after a seeded-random delay, `kills` times, restarting it on the
 * same folder each time. On every start the worker reports what its view
 * holds; every entry it acknowledged before any earlier kill must be there
 * (`lost`), and every start must open the store (`failedOpens`).
 *
 *   node dist/test/proof/crash.js --seed=1 --kills=200
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { WorkerMessage } from './crash-worker.js'
import { type Figures, figures, flag, prng } from './figures.js'

export interface CrashOptions {
  seed: number
  kills: number
  /** Kill delays are drawn from [0, maxDelayMs) after the spawn (default 2500). */
  maxDelayMs?: number
  /** Kill delays are at least this (default 0). */
  minDelayMs?: number
  /** A start that does not report within this is a failed open (default 60 s). */
  openTimeoutMs?: number
  /**
   * Blocks this process for so many ms just before each kill (default 0):
   * the worker's reports pile up unheard, as on a loaded machine, and are
   * heard only after the kill.
   */
  stallMs?: number
  /** The worker acknowledges every tenth entry without appending it: the suite must count them lost. */
  lie?: boolean
  log?: (line: string) => void
}

const WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url))

interface Run {
  child: ChildProcess
  opened: Promise<{ present: number[]; openMs: number } | { error: string }>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Settles once the worker is gone and its channel closed: every report it sent has been heard. */
  done: Promise<void>
}

/**
 * Starts the worker; its acknowledgements go into `acked` (this run's own
 * set). They must not be checked against this run's opening report: the
 * worker acknowledged them after it read its view, and after a kill the
 * parent may hear `opened` and the acks behind it only then.
 */
function start(dir: string, acked: Set<number>, timeoutMs: number, lie: boolean): Run {
  const child = fork(WORKER, lie ? [dir, '--lie'] : [dir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  const disconnected = new Promise<void>((resolve) => {
    if (!child.connected) resolve()
    else child.once('disconnect', () => resolve())
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  const opened = new Promise<{ present: number[]; openMs: number } | { error: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ error: `no report within ${timeoutMs} ms` }), timeoutMs)
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'opened') {
        clearTimeout(timer)
        resolve({ present: m.present, openMs: m.openMs })
      } else if (m.type === 'ack') acked.add(m.n)
      else if (m.type === 'error') {
        clearTimeout(timer)
        resolve({ error: `${m.code ?? 'no code'}: ${m.message}` })
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      resolve({
        error: `exited (${code ?? signal}) before opening: ${stderr.trim().split('\n').pop() ?? ''}`
      })
    })
  })
  const done = exited.then(() =>
    Promise.race([disconnected, new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref())])
  )
  return { child, opened, exited, done }
}

export async function runCrash(opts: CrashOptions): Promise<Figures> {
  const started = Date.now()
  const f = figures('crash', opts.seed)
  const rand = prng(opts.seed)
  const maxDelayMs = opts.maxDelayMs ?? 2500
  const minDelayMs = Math.min(opts.minDelayMs ?? 0, maxDelayMs)
  const stallMs = opts.stallMs ?? 0
  const openTimeoutMs = opts.openTimeoutMs ?? 60_000
  const log = opts.log ?? (() => {})
  const dir = await mkdtemp(join(tmpdir(), 'conclave-crash-'))
  // acknowledged entries of the runs that are over: the worker reported them before a kill
  const acked = new Set<number>()
  const lost = new Set<number>()
  const failures: string[] = []
  let killsBeforeOpen = 0
  let killedWhileWriting = 0
  const openMs: number[] = []

  const check = (present: number[]): void => {
    const have = new Set(present)
    for (const n of acked) if (!have.has(n)) lost.add(n)
  }

  try {
    for (let i = 0; i <= opts.kills; i++) {
      const last = i === opts.kills
      const delay = minDelayMs + Math.floor(rand() * (maxDelayMs - minDelayMs))
      // this run's acknowledgements join `acked` once it is over
      const runAcked = new Set<number>()
      const run = start(dir, runAcked, openTimeoutMs, opts.lie === true)
      f.runs++
      if (last) {
        // the closing start only checks, then stops cleanly
        const r = await run.opened
        if ('error' in r) {
          f.failedOpens++
          failures.push(`final start: ${r.error}`)
        } else {
          check(r.present)
          openMs.push(r.openMs)
        }
        run.child.send('stop')
        const exit = await Promise.race([
          run.exited,
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000).unref())
        ])
        if (exit === null) run.child.kill('SIGKILL')
        await run.done
        break
      }
      let openedAt: number | null = null
      if (stallMs > 0) {
        setTimeout(
          () => {
            const until = Date.now() + stallMs
            while (Date.now() < until);
          },
          Math.max(0, delay - 5)
        ).unref()
      }
      const outcome = await Promise.race([
        run.opened.then((r) => {
          openedAt = Date.now()
          return r
        }),
        new Promise<'timer'>((resolve) => setTimeout(() => resolve('timer'), delay).unref())
      ])
      if (outcome !== 'timer' && 'error' in outcome) {
        f.failedOpens++
        failures.push(`start ${i}: ${outcome.error}`)
        run.child.kill('SIGKILL')
        await run.done
        for (const n of runAcked) acked.add(n)
        continue
      }
      if (outcome !== 'timer') {
        check(outcome.present)
        openMs.push(outcome.openMs)
        // the rest of the delay is spent writing
        const left = delay - (Date.now() - (openedAt ?? Date.now()))
        if (left > 0) await new Promise((resolve) => setTimeout(resolve, left))
        killedWhileWriting++
      } else {
        killsBeforeOpen++
      }
      run.child.kill('SIGKILL')
      await run.done
      // a report of the run that arrived after opened settled still counts (it came before the kill)
      if (outcome === 'timer') {
        const r = await run.opened
        if (!('error' in r)) {
          check(r.present)
          openMs.push(r.openMs)
        }
      }
      for (const n of runAcked) acked.add(n)
      if ((i + 1) % 10 === 0)
        log(`crash: ${i + 1}/${opts.kills} kills, ${acked.size} acknowledged, ${lost.size} lost`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  openMs.sort((a, b) => a - b)
  f.lost = lost.size
  f.kills = opts.kills
  f.acknowledged = acked.size
  f.killsBeforeOpen = killsBeforeOpen
  f.killsWhileWriting = killedWhileWriting
  f.openMsP50 = openMs[Math.floor(openMs.length / 2)] ?? null
  f.openMsMax = openMs[openMs.length - 1] ?? null
  f.failures = failures.slice(0, 10)
  f.ms = Date.now() - started
  return f
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const result = await runCrash({
    seed: flag(argv, 'seed', 1),
    kills: flag(argv, 'kills', 200),
    maxDelayMs: flag(argv, 'max-delay', 2500),
    minDelayMs: flag(argv, 'min-delay', 0),
    stallMs: flag(argv, 'stall', 0),
    lie: argv.includes('--lie'),
    log: (line) => console.error(line)
  })
  console.log(JSON.stringify(result))
}
