// npm run bench [-- --quick]: every benchmark, one JSON object on stdout. Besides the
// figures, `bench` says how long each suite took (wall and CPU seconds, the CPU of the
// processes it started included once they exited) and the machine's load average before and
// after, since the machine may be shared. A suite that has not finished after
// `--suite-timeout=S` seconds (quick: 400, otherwise 7200) is reported as
// `<suite>_error: timed out…`, the processes it started are killed, and the next one runs.
// `--only=SUITE,…` runs those suites alone (the other keys then say they have no figure).
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { run as archive } from './archive.js'
import { run as archiveOpen } from './archive-open.js'
import { run as consensus } from './consensus.js'
import { run as conversation } from './conversation.js'
import { run as http } from './http.js'
import { run as node } from './node.js'
import { run as recovery } from './recovery.js'

const quick = process.argv.includes('--quick')
const out: Record<string, unknown> = {}
const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100
/** CPU seconds of this process and of its children that have exited (/proc/self/stat). */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2)
  const [utime, stime, cutime, cstime] = f.split(' ').slice(11, 15).map(Number) as [
    number,
    number,
    number,
    number
  ]
  return (utime + stime + cutime + cstime) / tick
}
const onlyFlag = process.argv.find((x) => x.startsWith('--only='))
/** `--only=node,recovery`: those suites alone. */
const only = onlyFlag ? onlyFlag.slice('--only='.length).split(',') : null
const limitFlag = process.argv.find((x) => x.startsWith('--suite-timeout='))
const suiteLimitS = limitFlag ? Number(limitFlag.slice('--suite-timeout='.length)) : quick ? 400 : 7200

/** Kills this process's own child processes (a timed-out suite's peers). */
function killChildren(): number {
  let killed = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === process.pid) {
        process.kill(Number(pid), 'SIGKILL')
        killed++
      }
    } catch {
      // gone meanwhile
    }
  }
  return killed
}

const r1 = (x: number) => Math.round(x * 10) / 10
const suites: Record<string, { wallSeconds: number; cpuSeconds: number }> = {}
const load = { start: loadavg().map(r1), end: [] as number[] }
const t0 = performance.now()
const c0 = cpuSeconds()
for (const [name, fn] of [
  ['consensus', consensus],
  ['archive', archive],
  ['archive-open', archiveOpen],
  ['node', node],
  ['http', http],
  ['conversation', conversation],
  ['recovery', recovery]
] as const) {
  if (only && !only.includes(name)) continue
  process.stderr.write(`bench: ${name}…\n`)
  const [t, c] = [performance.now(), cpuSeconds()]
  let timer: NodeJS.Timeout | undefined
  const running = fn({ quick })
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${suiteLimitS} s`)), suiteLimitS * 1000)
  })
  try {
    Object.assign(out, await Promise.race([running, limit]))
  } catch (err) {
    out[`${name}_error`] = (err as Error).message
    if ((err as Error).message.startsWith('timed out after')) {
      const killed = killChildren()
      process.stderr.write(
        `bench: ${name} timed out after ${suiteLimitS} s; killed its ${killed} processes\n`
      )
      // let the suite's own clean-up (temp folders, testnet) run once its peers are gone
      await Promise.race([running.catch(() => {}), new Promise((r) => setTimeout(r, 15_000))])
    }
  } finally {
    clearTimeout(timer)
  }
  suites[name] = { wallSeconds: r1((performance.now() - t) / 1000), cpuSeconds: r1(cpuSeconds() - c) }
}
// every key P1–P7 is there: one whose suite failed or timed out says so instead of a value
const suiteOf: Record<string, string> = {
  P1: 'conversation',
  P2: 'conversation',
  P3: 'consensus',
  P4: 'archive',
  P5: 'recovery',
  P6: 'http',
  P7: 'node'
}
for (const [key, suite] of Object.entries(suiteOf)) {
  if (out[key] !== undefined) continue
  out[key] = {
    value: null,
    unit: null,
    goal: null,
    baseline: null,
    ratio: null,
    met: null,
    error: `no figure: the ${suite} suite ${String(out[`${suite}_error`] ?? (only && !only.includes(suite) ? 'was not run (--only)' : 'did not report it'))}`
  }
}
load.end = loadavg().map(r1)
out.bench = {
  quick,
  wallSeconds: r1((performance.now() - t0) / 1000),
  cpuSeconds: r1(cpuSeconds() - c0),
  cpus: cpus().length,
  suiteTimeoutSeconds: suiteLimitS,
  loadavg: load,
  suites
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
process.exit(0)
