// Runs every compiled brittle test file under dist/test, each in its own
// process (so one file's leaked handles cannot hang or mask another), and
// prints a closing "N passed, N failed" line. Arguments filter files by
// substring of their path.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = 'dist/test'
const filters = process.argv.slice(2)
const FILE_TIMEOUT_MS = 10 * 60 * 1000

function walk(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}

/** The process groups of the files running now. */
const running = new Set()

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // nothing left in it
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const pid of running) killGroup(pid)
    process.exit(130)
  })
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now()
    // its own process group: whatever the file started and left behind (a test that died before
    // its teardown leaves its node processes running) is killed with it when it ends
    const child = spawn(process.execPath, ['node_modules/brittle/cmd.js', '--timeout', '180000', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    running.add(child.pid)
    child.on('exit', () => {
      killGroup(child.pid)
      running.delete(child.pid)
    })
    // with one file at a time its output streams; with several, each file's output is
    // printed whole when it ends, so two files' lines never interleave
    const stream = jobs === 1
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      if (stream) process.stdout.write(d)
    })
    let err = ''
    child.stderr.on('data', (d) => {
      err += d
      if (stream) process.stderr.write(d)
    })
    const timer = setTimeout(() => {
      console.error(`# ${file}: timed out after ${FILE_TIMEOUT_MS} ms, killing`)
      killGroup(child.pid)
    }, FILE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (!stream) {
        process.stdout.write(out)
        process.stderr.write(err)
      }
      const m = /# tests = (\d+)\/(\d+) pass/.exec(out)
      // brittle counts a skipped test as passed: count it as skipped instead, never as passed
      const skippedNames = [...out.matchAll(/^ok \d+ - (.*) # SKIP\s*$/gm)].map((x) => x[1])
      const total = m ? Number(m[2]) : 0
      const passed = (m ? Number(m[1]) : 0) - skippedNames.length
      const failed = code === 0 ? total - passed - skippedNames.length : Math.max(1, total - passed)
      resolve({ file, passed, failed, skippedNames, ms: Date.now() - started, out, err, code })
    })
  })
}

const files = walk(root).filter(
  (f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s))
)
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
let passed = 0
let failed = 0
const skipped = []
const slow = []
// Multi-process end-to-end files depend on a real DHT between processes on one
// loaded machine, where connection set-up times vary widely. A failed e2e file is
// run once more; it counts as passed only if that second run passes, and it is
// named at the end either way (docs/testing.md).
const RETRY_ONCE = /^e2e\//
// Files run `jobs` at a time (CONCLAVE_TEST_JOBS, default 2): most of a file's time is spent
// waiting on other processes, timers and the loopback network. The files that check a
// gateway's port windows against the clock (a rule must appear inside a window and be gone
// 0.5 s after it) run alone, after the others (docs/testing.md). End-to-end files start
// first: they are the longest.
const EXCLUSIVE = /^e2e\/(port-windows|port-windows-reach)\.test\.js$/
const jobs = Math.max(1, Number(process.env.CONCLAVE_TEST_JOBS ?? 2) || 1)
const flaky = []

async function runOne(f) {
  let r = await runFile(f)
  if (r.failed && RETRY_ONCE.test(relative(root, f))) {
    const reason = (/Error: [^\n]*/.exec(r.err) ?? /not ok [^\n]*/.exec(r.out) ?? ['(no message)'])[0]
    console.log(`# RETRY: ${relative(root, f)} failed (${reason}); running it once more`)
    const again = await runFile(f)
    flaky.push({ file: relative(root, f), reason, passedOnRetry: !again.failed })
    r = again
  }
  passed += r.passed
  failed += r.failed
  for (const name of r.skippedNames) skipped.push(`${relative(root, f)}: ${name}`)
  slow.push(r)
  console.log(`# time: ${relative(root, f)} ${r.ms}ms${r.failed ? ' (failed)' : ''}`)
  if (r.failed) console.error(`# FAILED: ${f}`)
}

async function pool(list, n) {
  const queue = [...list]
  const lane = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) await runOne(f)
  }
  await Promise.all(Array.from({ length: Math.min(n, list.length) }, lane))
}

const suiteStarted = Date.now()
const isE2e = (f) => RETRY_ONCE.test(relative(root, f))
const shared = files.filter((f) => !EXCLUSIVE.test(relative(root, f)))
await pool([...shared.filter(isE2e), ...shared.filter((f) => !isE2e(f))], jobs)
for (const f of files.filter((f) => EXCLUSIVE.test(relative(root, f)))) await runOne(f)
console.log(`# wall: ${Date.now() - suiteStarted}ms for ${files.length} files, ${jobs} at a time`)
slow.sort((a, b) => b.ms - a.ms)
console.log(
  '# slowest files:',
  slow
    .slice(0, 5)
    .map((r) => `${relative(root, r.file)} ${r.ms}ms`)
    .join(', ')
)
// Failures are repeated at the very end (on stdout), so a log that keeps only
// its tail still says which file and which assertion failed, and why.
for (const r of slow.filter((x) => x.failed)) {
  const lines = r.out.split('\n')
  const notOk = []
  lines.forEach((line, i) => {
    if (/^\s*not ok/.test(line)) notOk.push(...lines.slice(i, i + 12))
  })
  console.log(`# FAILED: ${relative(root, r.file)} (exit ${r.code})`)
  for (const line of notOk.slice(0, 80)) console.log(`#   ${line}`)
  const errTail = r.err.trim().split('\n').slice(-20)
  if (errTail[0]) for (const line of errTail) console.log(`#   stderr: ${line}`)
  if (notOk.length === 0) for (const line of lines.slice(-20)) console.log(`#   ${line}`)
}
for (const x of flaky) {
  console.log(
    `# flaky: ${x.file} failed once (${x.reason}); ${x.passedOnRetry ? 'passed' : 'failed'} on retry`
  )
}
for (const x of skipped) console.log(`# SKIPPED: ${x}`)
console.log(`${passed} passed, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}`)
process.exit(failed === 0 ? 0 : 1)
