import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'
import { eventually, startNode } from '../helpers/node-process.js'
import { createTestnet } from '../helpers/testnet.js'
import { show, startConvo } from '../helpers/convo.js'

test(
  'debate phases, announcement acks, and ballots cast while apart merge alike',
  { timeout: 420_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeX = join(tmpHome(t, 'x'), 'h')
    await conclave(['--home', homeA, 'init', '--json'])
    const x0 = JSON.parse((await conclave(['--home', homeX, 'init', '--json'])).stdout)
    const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    let x = await startNode(t, homeX, { bootstrap: net.bootstrapFlag })
    const cardA = JSON.parse((await a.cli(['card', '--json'])).stdout).card
    const cardX = JSON.parse((await x.cli(['card', '--json'])).stdout).card
    t.is((await a.cli(['friend', 'add', cardX])).code, 0)
    t.is((await x.cli(['friend', 'add', cardA])).code, 0)

    const start = async (args: string[]) => {
      const id = await startConvo(t, a, args, x0.accountId)
      await eventually('X is a writer', async () => (await show(x, id)) !== null, 90_000)
      return id
    }

    // debate: proposal → arguments → voting, in that order
    const debate = await start([
      '--pattern',
      'debate',
      '--topic',
      'Buy a shared boat',
      '--method',
      'majority'
    ])
    const early = await x.cli(['vote', debate, 'adopt'])
    t.ok(early.stderr.startsWith('CONV_'), `no ballot before voting opens: ${early.stderr.trim()}`)
    const notCreator = await x.cli(['convo', 'post', debate, 'My proposal', '--kind', 'proposal'])
    t.ok(notCreator.stderr.startsWith('CONV_'), `only the creator proposes: ${notCreator.stderr.trim()}`)
    t.is((await a.cli(['convo', 'post', debate, 'We buy it together', '--kind', 'proposal'])).code, 0)
    await eventually(
      'X argues for',
      async () => {
        return (await x.cli(['convo', 'post', debate, 'Summers on the lake', '--side', 'for'])).code === 0
      },
      60_000,
      1000
    )
    t.is((await a.cli(['convo', 'post', debate, 'Costs money', '--side', 'against'])).code, 0)
    t.is((await a.cli(['convo', 'post', debate, '--kind', 'open-voting'])).code, 0)
    t.is((await a.cli(['vote', debate, 'adopt'])).code, 0)
    await eventually(
      'X votes in the voting phase',
      async () => (await x.cli(['vote', debate, 'adopt'])).code === 0,
      60_000,
      1000
    )
    const d = await eventually(
      'debate decided on X',
      async () => {
        const v = await show(x, debate)
        return v?.outcome && v
      },
      90_000
    )
    t.alike(d.outcome!.winners, ['adopt'])
    t.ok(
      d.messages.some((m) => m.kind === 'argument'),
      'arguments are kept'
    )

    // announcement: closes on publish, acknowledgements are tracked after
    const ann = await start([
      '--pattern',
      'announcement',
      '--topic',
      'Moving on Friday',
      '--method',
      'announcement'
    ])
    t.is((await a.cli(['convo', 'post', ann, 'The van comes at nine'])).code, 0)
    await eventually('announcement closed on X', async () => (await show(x, ann))?.closed, 60_000)
    t.is((await x.cli(['ack', ann])).code, 0, 'X acknowledges')
    await eventually(
      'the ack is tracked on A',
      async () => {
        const v = await show(a, ann)
        return Number(v?.tally?.acks ?? 0) >= 1 && v!.messages.some((m) => m.kind === 'ack')
      },
      60_000
    )
    t.pass('acknowledgements are tracked after the announcement closed')

    // ballots cast while apart: X is stopped, A votes; X restarts and votes before it has synced
    const vote = await start([
      '--pattern',
      'vote',
      '--topic',
      'Pizza or pasta',
      '--method',
      'unanimity',
      '--option',
      'pizza',
      '--option',
      'pasta'
    ])
    // apart, no other node can hold a ballot at once: each is answered once stored (--copies 1)
    await x.stop()
    t.is((await a.cli(['vote', vote, 'pizza', '--copies', '1'])).code, 0)
    x = await startNode(t, homeX, { bootstrap: net.bootstrapFlag })
    t.is((await x.cli(['vote', vote, 'pizza', '--copies', '1'])).code, 0, 'X votes right after restarting')
    const [va, vx] = await Promise.all(
      [a, x].map((n) =>
        eventually(
          `merged result on ${n.home}`,
          async () => {
            const v = await show(n, vote)
            return v?.outcome && v
          },
          120_000
        )
      )
    )
    t.alike(va!.outcome!.winners, ['pizza'])
    t.alike(vx!.outcome!.winners, ['pizza'])
    await eventually(
      'same view hash after the merge',
      async () => {
        const [p, q] = await Promise.all([show(a, vote), show(x, vote)])
        return p !== null && q !== null && p.viewHash === q.viewHash
      },
      60_000
    )
    t.pass('both sides reach the same view')
  }
)
