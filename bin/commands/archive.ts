import { writeFileSync, renameSync } from 'node:fs'
import { resolveHome } from '../../src/kernel/config.js'
import { KernelErrors } from '../../src/kernel/errors.js'
import type { ArchiveOpenProgress, ArchiveSummary } from '../../src/node/node-api.js'
import { apiRequest } from '../client.js'
import { type Command, parse, printJson, println } from '../cli.js'

export const archive: Command = {
  name: 'archive',
  summary: 'archive list / archive open ID [--out FILE]: closed conversations, sealed to two devices',
  usage: 'conclave archive list [--json] | conclave archive open ID [--out FILE] [--wait SECONDS] [--json]',
  help: `Closed conversations are sealed into archives held by two of your access devices
(docs/archive.md). Opening one takes both: this device asks the other holder to peel its
layer, which it does only for a current device of the account.
  list            every archive: id, conversation, holders, size, created
  open ID         decrypt and verify archive ID with the other holder's help; prints the
                  transcript (topic, members, messages, outcome) as JSON, or writes it to
  --out FILE      (written whole, only once verified)
  --wait SECONDS  how long to wait for the other holder (default 15)
  --json          list: { archives: [{ id, conversationId, holders, size, createdAt }] };
                  open: { id, title, transcript } (without --out)`,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv
    const home = resolveHome(ctx.home, ctx.env)
    if (sub === 'list') {
      const { values } = parse(rest, { json: { type: 'boolean' } })
      const r = await apiRequest<{ archives: ArchiveSummary[] }>(home, 'GET', '/api/archives')
      if (values.json) {
        printJson(ctx, r)
        return 0
      }
      if (r.archives.length === 0) println(ctx, 'no archives yet: a conversation is archived when it closes')
      for (const a of r.archives) {
        const held = a.local >= a.blocks ? 'here' : `${a.local}/${a.blocks} blocks here`
        println(
          ctx,
          `${a.id}  ${a.conversationId}  ${a.size} bytes  ${new Date(a.createdAt).toISOString()}  holders ${a.holders.join(', ')}  (${held})`
        )
      }
      return 0
    }
    if (sub === 'open') {
      const { values, positionals } = parse(
        rest,
        { json: { type: 'boolean' }, out: { type: 'string' }, wait: { type: 'string' } },
        true
      )
      if (positionals.length !== 1 || !/^[0-9a-f]{64}$/.test(positionals[0]!)) {
        throw KernelErrors.CLI_USAGE('archive open takes one archive id (64 hex digits, from "archive list")')
      }
      const body: { waitMs?: number; all: true } = { all: true }
      if (values.wait !== undefined) {
        const s = Number(values.wait)
        if (!Number.isFinite(s) || s < 0 || s > 120) throw KernelErrors.CLI_USAGE('--wait is 0..120 seconds')
        body.waitMs = Math.round(s * 1000)
      }
      const id = positionals[0]!
      const opening = apiRequest<{ id: string; title: string; transcript: unknown }>(
        home,
        'POST',
        `/api/archives/${id}/open`,
        body
      )
      const r = await withProgress(
        ctx.stderr,
        opening,
        async () =>
          (
            await apiRequest<{ progress: ArchiveOpenProgress | null }>(
              home,
              'GET',
              `/api/archives/${id}/progress`
            )
          ).progress
      )
      if (values.out) {
        const tmp = `${values.out}.tmp-${process.pid}`
        writeFileSync(tmp, `${JSON.stringify(r.transcript, null, 2)}\n`, { mode: 0o600 })
        renameSync(tmp, values.out)
        if (values.json) printJson(ctx, { id: r.id, title: r.title, out: values.out })
        else println(ctx, `archive "${r.title}" verified and written to ${values.out}`)
        return 0
      }
      if (values.json) printJson(ctx, r)
      else println(ctx, JSON.stringify(r.transcript, null, 2))
      return 0
    }
    throw KernelErrors.CLI_USAGE('usage: conclave archive list | conclave archive open ID [--out FILE]')
  }
}

const POLL_MS = 300
const BAR = 20

function mib(n: number): string {
  return n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`
}

/** One stderr line per change of an open's phase or tenth of its bytes: `opening: [####----] 40% …`. */
export function progressLine(p: ArchiveOpenProgress): string {
  const frac = p.bytes.total > 0 ? Math.min(1, p.bytes.done / p.bytes.total) : 0
  const filled = Math.round(frac * BAR)
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${Math.round(frac * 100)}%`
  const what =
    p.phase === 'waiting'
      ? `waiting for ${p.waitingFor ?? 'the other holder'} to peel its layer`
      : p.phase === 'reading'
        ? 'reading'
        : p.phase
  return `opening: ${bar} ${mib(p.bytes.done)} / ${mib(p.bytes.total)}, ${what}`
}

/** Polls the open's progress while `work` runs and prints each new state. */
async function withProgress<T>(
  out: NodeJS.WritableStream,
  work: Promise<T>,
  poll: () => Promise<ArchiveOpenProgress | null>
): Promise<T> {
  let done = false
  let last = ''
  const watcher = (async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      if (done) break
      const p = await poll().catch(() => null)
      if (!p || done) continue
      const key = `${p.phase} ${Math.floor((p.bytes.total ? p.bytes.done / p.bytes.total : 0) * 10)}`
      if (key === last) continue
      last = key
      out.write(`${progressLine(p)}\n`)
    }
  })()
  try {
    return await work
  } finally {
    done = true
    await watcher
  }
}
