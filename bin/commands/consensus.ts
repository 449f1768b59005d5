import { readFileSync } from 'node:fs'
import { KernelErrors } from '../../src/kernel/errors.js'
import { evalBallotsText, listMethods, parseParams } from '../../src/node/offline.js'
import { type Command, parse, printJson, println } from '../cli.js'

export const consensus: Command = {
  name: 'consensus',
  summary: 'evaluate a consensus method or CEL predicate offline over a ballots file',
  usage:
    'conclave consensus eval (--method M [--param k=v …] | --expr CEL) --ballots FILE.jsonl --members N [--option X …] [--deadline T] [--json]',
  help: `Try a rule before using it in a conversation. FILE.jsonl has one ballot per line:
  {"voter": ID, "choice": X}            single choice
  {"voter": ID, "choices": [X, …]}      approval
  {"voter": ID, "ranking": [X, …]}      ranked (schulze)
  {"voter": ID, "scores": {X: n, …}}    score / quadratic
  {"voter": ID, "objection": REASON}    consent / lazy-consensus
with an optional "t" (the voter's clock, ms). The first N distinct voters are the members.

methods: ${listMethods().join(', ')}
See docs/consensus.md for every method, its parameters and its exact predicate.`,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv
    if (sub !== 'eval') throw KernelErrors.CLI_USAGE('usage: conclave consensus eval … (see --help)')
    const { values } = parse(rest, {
      method: { type: 'string' },
      param: { type: 'string', multiple: true },
      expr: { type: 'string' },
      ballots: { type: 'string' },
      members: { type: 'string' },
      option: { type: 'string', multiple: true },
      deadline: { type: 'string' },
      json: { type: 'boolean' }
    })
    if ((values.method === undefined) === (values.expr === undefined)) {
      throw KernelErrors.CLI_USAGE('give exactly one of --method or --expr')
    }
    if (!values.ballots) throw KernelErrors.CLI_USAGE('--ballots FILE is required')
    if (!values.members || !/^\d+$/.test(values.members) || Number(values.members) < 1) {
      throw KernelErrors.CLI_USAGE('--members N (a whole number ≥ 1) is required')
    }
    if (values.deadline !== undefined && !/^\d+$/.test(values.deadline)) {
      throw KernelErrors.CLI_USAGE('--deadline takes a time in ms on the ballots clock')
    }
    let text: string
    try {
      text = readFileSync(values.ballots, 'utf8')
    } catch (err) {
      throw KernelErrors.CLI_INPUT(`cannot read ${values.ballots}: ${(err as Error).message}`)
    }
    const r = evalBallotsText(text, {
      ...(values.method !== undefined ? { method: values.method } : {}),
      ...(values.expr !== undefined ? { expr: values.expr } : {}),
      ...(values.param ? { params: parseParams(values.param) } : {}),
      ...(values.option ? { options: values.option } : {}),
      ...(values.deadline !== undefined ? { deadline: Number(values.deadline) } : {}),
      members: Number(values.members)
    })
    if (values.json) {
      printJson(ctx, r)
      return 0
    }
    if (r.unsupported) {
      println(ctx, `unsupported: ${r.reason ?? 'unknown method'}`)
      return 0
    }
    println(ctx, `reached: ${r.reached}`)
    println(ctx, `winners: ${r.winners.length ? r.winners.join(', ') : '(none)'}`)
    println(ctx, `voters: ${r.voters} of ${r.members} members, ${r.absent} absent`)
    for (const x of r.rejected)
      println(ctx, `line ${x.line}: rejected (${x.reason}${x.detail ? `: ${x.detail}` : ''})`)
    return 0
  }
}
