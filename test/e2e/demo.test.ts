import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import test from 'brittle'
import { CONCLAVE_BIN } from '../helpers/cli.js'
import { eventually } from '../helpers/node-process.js'

test(
  'conclave demo: three nodes, a vote archived, login links that work; Ctrl-C removes everything',
  { timeout: 240_000 },
  async (t) => {
    const proc = spawn(process.execPath, [CONCLAVE_BIN, 'demo', '--json'], {
      env: { ...process.env, CONCLAVE_HOME: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => (err += d))
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
    t.teardown(() => {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    })

    const ready = await eventually(
      'the demo is ready',
      async () => {
        if (proc.exitCode !== null) throw new Error(`demo exited ${proc.exitCode}: ${err}`)
        const line = out.split('\n').find((l) => l.trim().startsWith('{'))
        return line ? (JSON.parse(out) as Record<string, string>) : null
      },
      180_000,
      500
    ).catch((e: Error) => {
      throw new Error(`${e.message}; stdout: ${out}; stderr: ${err}`)
    })
    t.ok(existsSync(ready.folder!), 'its folder exists while it runs')
    t.ok(/^[0-9a-f]{64}$/.test(ready.archiveId!), 'the vote was archived')

    const login = await fetch(ready.alice!, { redirect: 'manual' })
    const cookie = login.headers.get('set-cookie')?.split(';')[0]
    t.ok(cookie, "Alice's login link sets the session")
    const base = new URL(ready.alice!).origin
    const archives = await fetch(`${base}/api/archives`, { headers: { cookie: cookie! } })
    t.is(archives.status, 200, 'the session reads the API')
    const list = (await archives.json()) as { archives: Array<{ id: string; conversationId: string }> }
    t.alike(
      list.archives.map((a) => [a.id, a.conversationId]),
      [[ready.archiveId, ready.conversationId]],
      "Alice's node lists the archived vote"
    )
    const page = await fetch(`${base}/`, { headers: { cookie: cookie! } })
    t.is(page.status, 200, 'and the page opens')

    proc.kill('SIGINT')
    t.is(await exited, 0, 'Ctrl-C stops it cleanly')
    t.absent(existsSync(ready.folder!), 'and removes its folder')
  }
)
