import { join } from 'node:path'
import test from 'brittle'
import type { StatusReport } from '../../src/node/node-api.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import { eventually, type NodeProcess, startNode } from '../helpers/node-process.js'
import { createTestnet } from '../helpers/testnet.js'

async function statusOf(n: NodeProcess): Promise<StatusReport> {
  return (await n.api<StatusReport>('GET', '/api/status')).body
}

test(
  'two accounts become friends by exchanging cards; friends pass the firewall',
  { timeout: 240_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeX = join(tmpHome(t, 'x'), 'h')
    const a0 = JSON.parse((await conclave(['--home', homeA, 'init', '--json'])).stdout)
    const x0 = JSON.parse((await conclave(['--home', homeX, 'init', '--json'])).stdout)

    const offline = await conclave(['--home', homeA, 'card', '--json'])
    t.is(offline.code, 0, `card works without a node: ${offline.stderr}`)
    t.ok(JSON.parse(offline.stdout).card.startsWith('ccard1_'))

    const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const x = await startNode(t, homeX, { bootstrap: net.bootstrapFlag })
    const cardA = JSON.parse((await a.cli(['card', '--json'])).stdout)
    const cardX = JSON.parse((await x.cli(['card', '--json'])).stdout)
    t.is(cardA.accountId, a0.accountId)
    t.is(cardX.accountId, x0.accountId)

    // bad cards: tampered, cut off, own
    const body = cardX.card.slice('ccard1_'.length)
    const flipped = `ccard1_${body.slice(0, 200)}${body[200] === 'A' ? 'B' : 'A'}${body.slice(201)}`
    for (const [bad, code] of [
      [flipped, 'CLUSTER_CARD_INVALID'],
      [cardX.card.slice(0, cardX.card.length - 40), 'CLUSTER_CARD_INVALID'],
      ['hello', 'CLUSTER_CARD_INVALID'],
      [cardA.card, 'CLUSTER_FRIEND_SELF']
    ] as const) {
      const r = await a.cli(['friend', 'add', bad])
      t.is(r.code, 1)
      t.ok(r.stderr.startsWith(`${code}:`), `${code}: ${r.stderr.trim().slice(0, 100)}`)
    }
    t.alike(
      JSON.parse((await a.cli(['friend', 'list', '--json'])).stdout).friends,
      [],
      'no friend added by bad cards'
    )

    const addX = await a.cli(['friend', 'add', cardX.card, '--json'])
    t.is(addX.code, 0, addX.stderr)
    t.is(JSON.parse(addX.stdout).friend.accountId, x0.accountId)
    const addA = await x.cli(['friend', 'add', '-', '--json'], cardA.card)
    t.is(addA.code, 0, `friend add - reads stdin: ${addA.stderr}`)
    const again = await a.cli(['friend', 'add', cardX.card])
    t.ok(again.stderr.startsWith('CLUSTER_FRIEND_STALE:'), 'the same card twice is refused')

    const listA = JSON.parse((await a.cli(['friend', 'list', '--json'])).stdout)
    t.alike(
      listA.friends.map((f: { accountId: string }) => f.accountId),
      [x0.accountId],
      'A lists X'
    )
    const listX = JSON.parse((await x.cli(['friend', 'list', '--json'])).stdout)
    t.alike(
      listX.friends.map((f: { accountId: string }) => f.accountId),
      [a0.accountId],
      'X lists A'
    )

    await eventually(
      'A and X connected as friends',
      async () => {
        const [sa, sx] = await Promise.all([statusOf(a), statusOf(x)])
        return (
          sa.peers.some((p) => p.kind === 'friend-device' && p.accountId === x0.accountId) &&
          sx.peers.some((p) => p.kind === 'friend-device' && p.accountId === a0.accountId)
        )
      },
      90_000
    )
    t.pass("friends connect through each other's firewalls")

    await a.stop()
    const a2 = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const after = JSON.parse((await a2.cli(['friend', 'list', '--json'])).stdout)
    t.is(after.friends.length, 1, 'friends survive a restart')
  }
)
