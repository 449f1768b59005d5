import { resolveHome } from '../../src/kernel/config.js'
import { KernelErrors } from '../../src/kernel/errors.js'
import { offlineCard } from '../../src/node/card.js'
import type { FriendSummary } from '../../src/node/node-api.js'
import { renderQr } from '../../src/node/qr.js'
import { readRuntime } from '../../src/node/runtime-file.js'
import { apiRequest } from '../client.js'
import { type Command, type CommandContext, parse, printJson, println } from '../cli.js'

export const card: Command = {
  name: 'card',
  summary: "print this account's contact card (text, and a QR of the account id to compare in person)",
  usage: 'conclave card [--json]',
  help: `Prints the contact card to give a friend in person: account id, root public keys, device
certificates and the cluster topic, signed by both root keys. The card is long (post-quantum keys):
pass it as text (file, message); the QR code shows the account id, which you compare face to face.
Works without a running node (the card the node last wrote, or a card naming this device).
  --json   print { card, accountId }`,
  async run(ctx) {
    const { values } = parse(ctx.argv, { json: { type: 'boolean' } })
    const home = resolveHome(ctx.home, ctx.env)
    const r = readRuntime(home)
      ? await apiRequest<{ card: string; accountId: string }>(home, 'GET', '/api/card').catch(() =>
          offlineCard(home, Date.now())
        )
      : offlineCard(home, Date.now())
    if (values.json) {
      printJson(ctx, r)
      return 0
    }
    println(ctx, r.card)
    println(ctx)
    println(ctx, renderQr(r.accountId))
    println(ctx, `account ${r.accountId} — compare it with your friend's screen`)
    return 0
  }
}

async function readCardArg(ctx: CommandContext, arg: string): Promise<string> {
  if (arg !== '-') return arg
  const chunks: Buffer[] = []
  for await (const c of ctx.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer))
  return Buffer.concat(chunks).toString('utf8').trim()
}

export const friend: Command = {
  name: 'friend',
  summary: 'friend add CARD (or - for stdin) / friend list: contact cards exchanged in person',
  usage: 'conclave friend add CARD|- [--json] | conclave friend list [--json]',
  async run(ctx) {
    const [sub, ...rest] = ctx.argv
    const home = resolveHome(ctx.home, ctx.env)
    if (sub === 'add') {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, true)
      if (positionals.length !== 1)
        throw KernelErrors.CLI_USAGE('friend add takes one CARD (or - to read it from stdin)')
      const text = await readCardArg(ctx, positionals[0]!)
      const r = await apiRequest<{ friend: FriendSummary }>(home, 'POST', '/api/friends', { card: text })
      if (values.json) printJson(ctx, r)
      else
        println(
          ctx,
          `added friend ${r.friend.accountId} (${r.friend.devices.length} devices); they must add your card too`
        )
      return 0
    }
    if (sub === 'list') {
      const { values } = parse(rest, { json: { type: 'boolean' } })
      const r = await apiRequest<{ friends: FriendSummary[] }>(home, 'GET', '/api/friends')
      if (values.json) printJson(ctx, r)
      else {
        if (r.friends.length === 0)
          println(ctx, 'no friends yet: exchange cards with "conclave card" and "conclave friend add"')
        for (const f of r.friends)
          println(ctx, `${f.accountId}${f.name ? ` ${f.name}` : ''}: ${f.devices.length} devices`)
      }
      return 0
    }
    throw KernelErrors.CLI_USAGE('usage: conclave friend add CARD | conclave friend list')
  }
}
