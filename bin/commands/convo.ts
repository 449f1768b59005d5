import { MAX_COPIES_TIMEOUT_MS, resolveHome } from '../../src/kernel/config.js'
import { isConclaveError, KernelErrors } from '../../src/kernel/errors.js'
import { parseParams } from '../../src/node/offline.js'
import { apiRequest } from '../client.js'
import { type Command, type CommandContext, parse, printJson, println } from '../cli.js'

interface Summary {
  id: string
  topic: string
  pattern: string
  closed: boolean
  members: Array<{ accountId: string }>
  messages: Array<{ seq: number; kind: string; author: { accountId: string }; body: unknown; late?: boolean }>
  outcome: null | { state: string; winners: string[] }
}

/** "90s", "10m", "2h", "1d" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text)
  if (!m) throw KernelErrors.CLI_USAGE(`--deadline takes a duration like 90s, 10m, 2h or 1d, not "${text}"`)
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
}

const TEXT_KIND: Record<string, string> = {
  announcement: 'publish',
  discussion: 'post',
  vote: 'comment',
  debate: 'argument',
  invitation: 'invite'
}

function home(ctx: CommandContext): string {
  return resolveHome(ctx.home, ctx.env)
}

/** `--copies N` and `--copies-timeout S`, accepted by every command that posts. */
const COPIES_FLAGS = {
  copies: { type: 'string' },
  'copies-timeout': { type: 'string' }
} as const

export interface CopiesFlags {
  copies?: string | undefined
  'copies-timeout'?: string | undefined
}

/** The API's per-request copies options from the flags (CLI_USAGE when malformed). */
export function copiesOptions(values: CopiesFlags): { copies?: number; copiesTimeoutMs?: number } {
  const out: { copies?: number; copiesTimeoutMs?: number } = {}
  if (values.copies !== undefined) {
    if (!/^\d{1,2}$/.test(values.copies) || Number(values.copies) < 1 || Number(values.copies) > 16)
      throw KernelErrors.CLI_USAGE(`--copies takes a whole number from 1 to 16, not "${values.copies}"`)
    out.copies = Number(values.copies)
  }
  const timeout = values['copies-timeout']
  if (timeout !== undefined) {
    if (!/^\d{1,3}$/.test(timeout) || Number(timeout) > MAX_COPIES_TIMEOUT_MS / 1000)
      throw KernelErrors.CLI_USAGE(
        `--copies-timeout takes whole seconds from 0 to ${MAX_COPIES_TIMEOUT_MS / 1000}, not "${timeout}"`
      )
    out.copiesTimeoutMs = Number(timeout) * 1000
  }
  return out
}

interface PostAnswer {
  seq: number | null
  late: boolean
  copies: number
  target: number
  durable: boolean
}

/**
 * Posts and prints the acknowledgement. NODE_NOT_DURABLE (stored here, held
 * by too few nodes in time) exits 1 like any error, after printing, with
 * --json, the same object a durable post prints (with `durable: false`).
 */
async function send(
  ctx: CommandContext,
  id: string,
  kind: string,
  body: Record<string, unknown>,
  flags: CopiesFlags & { json?: boolean | undefined }
) {
  let r: PostAnswer
  try {
    r = await apiRequest<PostAnswer>(
      home(ctx),
      'POST',
      `/api/conversations/${encodeURIComponent(id)}/messages`,
      {
        kind,
        body,
        ...copiesOptions(flags)
      }
    )
  } catch (err) {
    if (flags.json && isConclaveError(err, 'NODE_NOT_DURABLE') && err.data) printJson(ctx, err.data)
    throw err
  }
  if (flags.json) printJson(ctx, r)
  else if (r.late) println(ctx, 'recorded as late: the conversation had already closed')
  else println(ctx, `sent (${kind}), held by ${r.copies} node${r.copies === 1 ? '' : 's'}`)
  return 0
}

export const convo: Command = {
  name: 'convo',
  summary: 'conversations: start, list, show, post',
  usage:
    'conclave convo start --pattern P --topic T [--method M --param k=v …] [--expr CEL] [--with ACCOUNT,…] [--deadline DURATION] [--option X …] [--json] | convo list [--json] | convo show ID [--offset N --limit N] [--json] | convo post ID [TEXT] [--kind K] [--side for|against] [--copies N] [--copies-timeout S] [--json]',
  help: `Patterns: announcement, discussion, vote, debate, invitation (docs/conversations.md).
Methods: see "conclave consensus eval --help" and docs/consensus.md.
  --with ACCOUNT,…   friends' account ids (exchange cards first); you are always a member
  --deadline 10m     a deadline in log time (s, m, h, d)

Posting (convo post, vote, ack, object) waits until the message is held by --copies N
nodes, this one included (default: the node's "copies", 2), for at most
--copies-timeout S seconds (default: the node's copiesTimeoutMs, 15 s). If fewer hold it in time the message is still
stored here and replicates later: NODE_NOT_DURABLE, exit 1 — do not send it again.
--copies 1 answers as soon as it is stored here. See docs/durability.md.`,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv
    if (sub === 'start') {
      const { values } = parse(rest, {
        pattern: { type: 'string' },
        topic: { type: 'string' },
        method: { type: 'string' },
        param: { type: 'string', multiple: true },
        expr: { type: 'string' },
        with: { type: 'string' },
        deadline: { type: 'string' },
        option: { type: 'string', multiple: true },
        json: { type: 'boolean' }
      })
      if (!values.pattern || !values.topic)
        throw KernelErrors.CLI_USAGE('convo start needs --pattern and --topic')
      if (values.method && values.expr) throw KernelErrors.CLI_USAGE('give --method or --expr, not both')
      const body = {
        pattern: values.pattern,
        topic: values.topic,
        ...(values.method ? { method: values.method } : {}),
        ...(values.param ? { params: parseParams(values.param) } : {}),
        ...(values.expr ? { expr: values.expr } : {}),
        ...(values.with ? { with: values.with.split(',').filter(Boolean) } : {}),
        ...(values.option ? { options: values.option } : {}),
        ...(values.deadline ? { deadline: Date.now() + parseDuration(values.deadline) } : {})
      }
      const r = await apiRequest<{ id: string }>(home(ctx), 'POST', '/api/conversations', body)
      if (values.json) printJson(ctx, r)
      else println(ctx, r.id)
      return 0
    }
    if (sub === 'list') {
      const { values } = parse(rest, { json: { type: 'boolean' } })
      const r = await apiRequest<{
        conversations: Array<{ id: string; topic: string; pattern: string; closed: boolean }>
      }>(home(ctx), 'GET', '/api/conversations')
      if (values.json) printJson(ctx, r)
      else
        for (const c of r.conversations)
          println(ctx, `${c.id} ${c.pattern} ${c.closed ? 'closed' : 'open'} ${c.topic}`)
      return 0
    }
    if (sub === 'show') {
      const { values, positionals } = parse(
        rest,
        { json: { type: 'boolean' }, offset: { type: 'string' }, limit: { type: 'string' } },
        true
      )
      if (positionals.length !== 1) throw KernelErrors.CLI_USAGE('convo show takes one ID')
      const q = new URLSearchParams()
      if (values.offset) q.set('offset', values.offset)
      if (values.limit) q.set('limit', values.limit)
      const s = await apiRequest<Summary>(
        home(ctx),
        'GET',
        `/api/conversations/${encodeURIComponent(positionals[0]!)}${q.size ? `?${q}` : ''}`
      )
      if (values.json) {
        printJson(ctx, s)
        return 0
      }
      println(ctx, `${s.topic} (${s.pattern}, ${s.closed ? 'closed' : 'open'})`)
      for (const m of s.messages) {
        println(
          ctx,
          `  #${m.seq} ${m.author.accountId} ${m.kind}${m.late ? ' (late)' : ''} ${JSON.stringify(m.body)}`
        )
      }
      println(
        ctx,
        s.outcome
          ? `outcome (${s.outcome.state}): ${s.outcome.winners.join(', ') || '(none)'}`
          : 'no outcome yet'
      )
      return 0
    }
    if (sub === 'post') {
      const { values, positionals } = parse(
        rest,
        { kind: { type: 'string' }, side: { type: 'string' }, json: { type: 'boolean' }, ...COPIES_FLAGS },
        true
      )
      if (positionals.length < 1 || positionals.length > 2) {
        throw KernelErrors.CLI_USAGE(
          'convo post takes ID and TEXT (TEXT may be left out for kinds without text)'
        )
      }
      const [id, text] = positionals as [string, string | undefined]
      let kind = values.kind
      if (!kind) {
        const s = await apiRequest<Summary>(
          home(ctx),
          'GET',
          `/api/conversations/${encodeURIComponent(id)}?limit=0`
        )
        kind = TEXT_KIND[s.pattern] ?? 'post'
      }
      const body = text === undefined ? {} : { text, ...(values.side ? { side: values.side } : {}) }
      return send(ctx, id, kind, body, values)
    }
    throw KernelErrors.CLI_USAGE('usage: conclave convo start|list|show|post … (see --help)')
  }
}

export const vote: Command = {
  name: 'vote',
  summary: 'cast (or replace) your ballot: vote ID CHOICE… (--ranked for a ranking)',
  usage: 'conclave vote ID CHOICE [CHOICE …] [--ranked] [--copies N] [--copies-timeout S] [--json]',
  async run(ctx) {
    const { values, positionals } = parse(
      ctx.argv,
      { ranked: { type: 'boolean' }, json: { type: 'boolean' }, ...COPIES_FLAGS },
      true
    )
    if (positionals.length < 2) throw KernelErrors.CLI_USAGE('vote takes ID and at least one CHOICE')
    const [id, ...choices] = positionals as [string, ...string[]]
    const body = values.ranked
      ? { ranking: choices }
      : choices.length === 1
        ? { choice: choices[0] }
        : { choices }
    return send(ctx, id, 'ballot', body, values)
  }
}

export const ack: Command = {
  name: 'ack',
  summary: 'acknowledge an announcement (or a conversation)',
  usage: 'conclave ack ID [--copies N] [--copies-timeout S] [--json]',
  async run(ctx) {
    const { values, positionals } = parse(ctx.argv, { json: { type: 'boolean' }, ...COPIES_FLAGS }, true)
    if (positionals.length !== 1) throw KernelErrors.CLI_USAGE('ack takes one ID')
    return send(ctx, positionals[0]!, 'ack', {}, values)
  }
}

export const object: Command = {
  name: 'object',
  summary: 'raise an objection (consent, lazy consensus)',
  usage: 'conclave object ID [REASON] [--copies N] [--copies-timeout S] [--json]',
  async run(ctx) {
    const { values, positionals } = parse(ctx.argv, { json: { type: 'boolean' }, ...COPIES_FLAGS }, true)
    if (positionals.length < 1 || positionals.length > 2)
      throw KernelErrors.CLI_USAGE('object takes ID and an optional REASON')
    return send(ctx, positionals[0]!, 'object', positionals[1] ? { reason: positionals[1] } : {}, values)
  }
}
