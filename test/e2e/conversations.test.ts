import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'
import { eventually, type NodeProcess, startNode } from '../helpers/node-process.js'
import { createTestnet } from '../helpers/testnet.js'

interface Shown {
  id: string
  closed: boolean
  messages: unknown[]
  outcome: null | { state: string; winners: string[] }
}

async function show(n: NodeProcess, id: string): Promise<Shown | null> {
  const r = await n.api<Shown>('GET', `/api/conversations/${id}`)
  return r.status === 200 ? r.body : null
}

test(
  'two friends hold a vote to consensus; both see the same final outcome',
  { timeout: 300_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeX = join(tmpHome(t, 'x'), 'h')
    await conclave(['--home', homeA, 'init', '--json'])
    const x0 = JSON.parse((await conclave(['--home', homeX, 'init', '--json'])).stdout)
    const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const x = await startNode(t, homeX, { bootstrap: net.bootstrapFlag })
    const cardA = JSON.parse((await a.cli(['card', '--json'])).stdout).card
    const cardX = JSON.parse((await x.cli(['card', '--json'])).stdout).card
    t.is((await a.cli(['friend', 'add', cardX])).code, 0)
    t.is((await x.cli(['friend', 'add', cardA])).code, 0)

    const bad = await a.cli([
      'convo',
      'start',
      '--pattern',
      'vote',
      '--topic',
      'Lunch?',
      '--method',
      'no-such',
      '--option',
      'yes',
      '--option',
      'no'
    ])
    t.is(bad.code, 1)
    t.ok(bad.stderr.startsWith('CONSENSUS_METHOD_UNKNOWN:'), bad.stderr.trim())

    const started = await a.cli([
      'convo',
      'start',
      '--pattern',
      'vote',
      '--topic',
      'Lunch at noon?',
      '--method',
      'majority',
      '--option',
      'yes',
      '--option',
      'no',
      '--with',
      x0.accountId,
      '--json'
    ])
    t.is(started.code, 0, started.stderr)
    const { id } = JSON.parse(started.stdout)
    t.ok(id.startsWith('cnv_'))

    const listed = await eventually(
      'X learns the conversation',
      async () => {
        const r = JSON.parse((await x.cli(['convo', 'list', '--json'])).stdout)
        return r.conversations.find((c: { id: string }) => c.id === id)
      },
      90_000
    )
    t.is(listed.topic, 'Lunch at noon?')

    const unknownOption = await a.cli(['vote', id, 'maybe'])
    t.is(unknownOption.code, 1, 'a vote for an unknown option is refused')
    t.ok(unknownOption.stderr.startsWith('CONV_'), unknownOption.stderr.trim())

    t.is((await a.cli(['vote', id, 'yes'])).code, 0)
    await eventually(
      'X becomes a writer and votes',
      async () => (await x.cli(['vote', id, 'yes'])).code === 0,
      90_000,
      1000
    )

    for (const n of [a, x]) {
      const s = await eventually(
        `final outcome on ${n.home}`,
        async () => {
          const v = await show(n, id)
          return v?.outcome?.state === 'final' && v
        },
        120_000
      )
      t.alike(s.outcome!.winners, ['yes'], 'winner yes')
      t.ok(s.closed, 'closed')
    }
    const late = await x.cli(['vote', id, 'no'])
    t.is(late.code, 1, 'a ballot after the close is refused locally')
    t.ok(late.stderr.startsWith('CONV_CLOSED:'), late.stderr.trim())

    const human = await a.cli(['convo', 'show', id])
    t.ok(human.stdout.includes('outcome (final): yes'), human.stdout)
  }
)
