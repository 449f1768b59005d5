// npm run bench [-- --quick]: every benchmark, one JSON object on stdout. Besides the
// figures, `bench` says how long each suite took (wall and CPU seconds, the CPU of the
// processes it started included once they exited) and the machine's load average before and
// after, since the machine may be shared.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
  process.stderr.write(`bench: ${name}…\n`)
  const [t, c] = [performance.now(), cpuSeconds()]
  try {
    Object.assign(out, await fn({ quick }))
  } catch (err) {
    out[`${name}_error`] = (err as Error).message
  }
  suites[name] = { wallSeconds: r1((performance.now() - t) / 1000), cpuSeconds: r1(cpuSeconds() - c) }
}
load.end = loadavg().map(r1)
out.bench = {
  quick,
  wallSeconds: r1((performance.now() - t0) / 1000),
  cpuSeconds: r1(cpuSeconds() - c0),
  cpus: cpus().length,
  loadavg: load,
  suites
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
process.exit(0)
