import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'brittle'

export const CONCLAVE_BIN = join(process.cwd(), 'dist', 'bin', 'conclave.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built `conclave` binary as a separate process. */
export function conclave(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number; wrap?: string[] } = {}
): Promise<CliResult> {
  const wrap = opts.wrap ?? []
  return new Promise((resolve, reject) => {
    const argv = [...wrap.slice(1), process.execPath, CONCLAVE_BIN, ...args]
    const child = spawn(wrap[0] ?? argv.shift()!, argv, {
      env: { ...process.env, CONCLAVE_HOME: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}

/** A fresh temporary folder, removed when the test ends. */
export function tmpHome(t: Test, name = 'home'): string {
  const dir = mkdtempSync(join(tmpdir(), `conclave-${name}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
