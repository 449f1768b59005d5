import type { Test } from 'brittle'
import type { NodeProcess } from './node-process.js'

/** What `GET /api/conversations/:id` returns, as far as the e2e tests read it. */
export interface Shown {
  id: string
  viewHash: string
  closed: boolean
  phase: string
  messages: Array<{
    kind: string
    late: boolean
    author: { deviceId: string }
    body: { choice?: string }
  }>
  tally: Record<string, unknown>
  outcome: null | ({ state: string; winners: string[] } & Record<string, unknown>)
  log: Record<string, unknown>
}

/** The conversation as node `n` shows it, or null when `n` does not have it (yet). */
export async function show(n: NodeProcess, id: string): Promise<Shown | null> {
  const r = await n.api<Shown>('GET', `/api/conversations/${id}`)
  return r.status === 200 ? r.body : null
}

/** `convo start ARGS --with ACCOUNT --json` on `n`: asserts it succeeded and returns the id. */
export async function startConvo(
  t: Test,
  n: NodeProcess,
  args: string[],
  withAccount: string
): Promise<string> {
  const r = await n.cli(['convo', 'start', ...args, '--with', withAccount, '--json'])
  t.is(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).id as string
}
