import type { Test } from 'brittle'
import type { ArchiveSummary } from '../../src/node/node-api.js'
import { eventually, type NodeProcess } from './node-process.js'

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

/**
 * A majority vote between two own devices that closes at once: `a` starts
 * it with options `choice` and `other`, waits until `b` opened it (the ballot
 * is acknowledged once two nodes hold it), and votes `choice`. Returns its id.
 */
export async function closedVote(
  t: Test,
  a: NodeProcess,
  b: NodeProcess,
  v: { topic: string; choice: string; other: string; timeoutMs: number }
): Promise<string> {
  const args = ['--pattern', 'vote', '--topic', v.topic, '--method', 'majority']
  const started = await a.cli([
    'convo',
    'start',
    ...args,
    '--option',
    v.choice,
    '--option',
    v.other,
    '--json'
  ])
  t.is(started.code, 0, `convo start: ${started.stderr}`)
  const convo = JSON.parse(started.stdout).id as string
  await eventually('B opens the conversation', async () => (await show(b, convo)) !== null, v.timeoutMs)
  const voted = await a.cli(['vote', convo, v.choice])
  t.is(voted.code, 0, `A votes: ${voted.stderr}`)
  return convo
}

/** The archives node `n` lists (`GET /api/archives`). */
export async function archivesOf(n: NodeProcess): Promise<ArchiveSummary[]> {
  return (await n.api<{ archives: ArchiveSummary[] }>('GET', '/api/archives')).body.archives
}
