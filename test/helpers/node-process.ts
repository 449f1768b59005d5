import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import type { Test } from 'brittle'
import type { StatusReport } from '../../src/node/node-api.js'
import { readRuntime, readToken } from '../../src/node/runtime-file.js'
import { CONCLAVE_BIN, type CliResult, conclave } from './cli.js'

export interface NodeProcess {
  home: string
  proc: ChildProcessWithoutNullStreams
  output: () => string
  /** Calls the node's local API with its token. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
  /** Runs `conclave --home HOME …` as a separate process. */
  cli(args: string[], input?: string): Promise<CliResult>
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
}

/**
 * Starts `conclave run` as a real, separate process on its own home and waits
 * for its "ready" line. Stopped (SIGTERM, then SIGKILL) when the test ends.
 */
export async function startNode(
  t: Test,
  home: string,
  opts: {
    bootstrap?: string
    args?: string[]
    env?: Record<string, string>
    readyTimeoutMs?: number
    /** A command the node runs under, e.g. ['ip', 'netns', 'exec', NS] (it must exec, not fork). */
    wrap?: string[]
  } = {}
): Promise<NodeProcess> {
  const args = [
    '--home',
    home,
    'run',
    '--port',
    '0',
    ...(opts.bootstrap ? ['--bootstrap', opts.bootstrap] : []),
    ...(opts.args ?? [])
  ]
  const wrap = opts.wrap ?? []
  const argv = [...wrap.slice(1), process.execPath, CONCLAVE_BIN, ...args]
  const proc = spawn(wrap[0] ?? argv.shift()!, argv, {
    env: { ...process.env, CONCLAVE_HOME: '', CONCLAVE_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  let stopped = false
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!stopped) {
      stopped = true
      proc.kill(signal)
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
    return exited
  }
  t.teardown(() => stop(), { order: -1 })

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000)
  while (!/^ready$/m.test(out)) {
    if (proc.exitCode !== null) throw new Error(`node on ${home} exited (${proc.exitCode}):\n${out}`)
    if (Date.now() > deadline) throw new Error(`node on ${home} not ready in time:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const runtime = readRuntime(home)
    const token = readToken(home)
    if (!runtime || !token) throw new Error('node has no runtime file')
    const res = await fetch(`http://127.0.0.1:${runtime.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: res.status, body: (await res.json()) as T }
  }
  return {
    home,
    proc,
    output: () => out,
    api,
    cli: (a, input) =>
      conclave(['--home', home, ...a], {
        ...(input === undefined ? {} : { input }),
        ...(opts.wrap ? { wrap: opts.wrap } : {})
      }),
    stop,
    exited
  }
}

export { eventually } from '../../src/kernel/wait.js'

/** The node's `GET /api/status`; throws on any other answer than 200. */
export async function statusOf(n: NodeProcess): Promise<StatusReport> {
  const r = await n.api<StatusReport>('GET', '/api/status')
  if (r.status !== 200) throw new Error(`status ${r.status}`)
  return r.body
}
