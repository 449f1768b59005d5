import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'
import { eventually, type NodeProcess, startNode } from '../helpers/node-process.js'
import { createTestnet } from '../helpers/testnet.js'
import { type Shown, show, startConvo } from '../helpers/convo.js'
import { unusedPort } from '../helpers/wait.js'

/** The conversation once its outcome is final on `n`; otherwise throws saying where it stands (for `eventually`). */
async function finalOn(n: NodeProcess, id: string): Promise<Shown> {
  const v = await show(n, id)
  if (v?.outcome?.state === 'final') return v
  const peers = (await n.api<{ peers: unknown[] }>('GET', '/api/status')).body.peers.length
  throw new Error(
    v === null
      ? 'not on this node'
      : `closed ${v.closed}, outcome ${v.outcome?.state ?? 'none'}, log ${JSON.stringify(v.log)}, node peers ${peers}`
  )
}

test(
  'two accounts, three devices: vote, lazy consensus by log time, CEL predicate',
  { timeout: 840_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeA2 = join(tmpHome(t, 'a2'), 'h')
    const homeX = join(tmpHome(t, 'x'), 'h')
    await conclave(['--home', homeA, 'init', '--json'])
    const x0 = JSON.parse((await conclave(['--home', homeX, 'init', '--json'])).stdout)
    const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const x = await startNode(t, homeX, { bootstrap: net.bootstrapFlag })

    // A's account has a second device, A2
    const invite = JSON.parse((await a.cli(['invite', '--json'])).stdout).invite
    t.is(
      (
        await conclave(
          ['--home', homeA2, 'join', invite, '--bootstrap', net.bootstrapFlag, '--timeout', '60'],
          { timeoutMs: 90_000 }
        )
      ).code,
      0,
      'A2 joined'
    )
    let a2 = await startNode(t, homeA2, { bootstrap: net.bootstrapFlag })
    await eventually(
      'A2 syncs the membership',
      async () => {
        return (await a2.api<{ devices: unknown[] }>('GET', '/api/status')).body.devices.length === 2
      },
      120_000
    )

    // friends by exchanging cards (A's card names both of its devices)
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
    const badExpr = await a.cli([
      'convo',
      'start',
      '--pattern',
      'vote',
      '--topic',
      'x',
      '--expr',
      '"a".matches("a+")',
      '--option',
      'y',
      '--option',
      'n'
    ])
    t.ok(badExpr.stderr.startsWith('CONSENSUS_PREDICATE_INVALID:'), badExpr.stderr.trim())

    // a vote with majority
    const id = await startConvo(
      t,
      a,
      [
        '--pattern',
        'vote',
        '--topic',
        'Lunch at noon?',
        '--method',
        'majority',
        '--option',
        'yes',
        '--option',
        'no'
      ],
      x0.accountId
    )
    t.ok(id.startsWith('cnv_'))
    for (const n of [x, a2]) {
      const listed = await eventually(
        `${n.home} learns the conversation`,
        async () => {
          const r = JSON.parse((await n.cli(['convo', 'list', '--json'])).stdout)
          return r.conversations.find((c: { id: string }) => c.id === id)
        },
        90_000
      )
      t.is(listed.topic, 'Lunch at noon?')
    }
    const unknownOption = await a.cli(['vote', id, 'maybe'])
    t.is(unknownOption.code, 1, 'a vote for an unknown option is refused')
    t.ok(unknownOption.stderr.startsWith('CONV_UNKNOWN_OPTION:'), unknownOption.stderr.trim())
    t.is((await a.cli(['vote', id, 'yes'])).code, 0)
    await eventually(
      'X becomes a writer and votes',
      async () => (await x.cli(['vote', id, 'yes'])).code === 0,
      90_000,
      1000
    )

    for (const n of [a, x, a2]) {
      const s = await eventually(`final outcome on ${n.home}`, () => finalOn(n, id), 120_000)
      t.alike(s.outcome!.winners, ['yes'], 'winner yes')
      t.ok(s.closed, 'closed')
    }
    await eventually(
      'the same view hash on A, A2 and X',
      async () => {
        const all = await Promise.all([a, x, a2].map((n) => show(n, id)))
        return all.every((v) => v !== null && v.viewHash === all[0]!.viewHash)
      },
      60_000
    )
    t.pass('A, A2 and X hold the same view')
    const late = await x.cli(['vote', id, 'no'])
    t.is(late.code, 1, 'a ballot after the close is refused locally')
    t.ok(late.stderr.startsWith('CONV_CLOSED:'), late.stderr.trim())
    const human = await a.cli(['convo', 'show', id])
    t.ok(human.stdout.includes('outcome (final): yes'), human.stdout)

    // lazy consensus: no objection by the deadline, which passes by log time (heartbeats)
    const lazyId = await startConvo(
      t,
      a,
      [
        '--pattern',
        'discussion',
        '--topic',
        'Adopt the new schedule unless someone objects',
        '--method',
        'lazy-consensus',
        '--deadline',
        '8s'
      ],
      x0.accountId
    )
    await eventually(
      'X posts in the discussion',
      async () => (await x.cli(['convo', 'post', lazyId, 'fine by me'])).code === 0,
      90_000,
      1000
    )
    for (const n of [a, x]) {
      const s = await eventually(
        `lazy consensus reached on ${n.home}`,
        async () => {
          const v = await show(n, lazyId)
          return v?.outcome && v
        },
        120_000
      )
      t.ok(s.closed, 'closed once the deadline passed in log time')
    }

    // a CEL predicate decides: every member voted
    const celId = await startConvo(
      t,
      a,
      [
        '--pattern',
        'vote',
        '--topic',
        'Everyone in?',
        '--expr',
        'voted == members',
        '--option',
        'in',
        '--option',
        'out'
      ],
      x0.accountId
    )
    t.is((await a.cli(['vote', celId, 'out'])).code, 0)
    t.absent((await show(a, celId))?.closed, 'one of two members voted: not yet')
    await eventually('X votes', async () => (await x.cli(['vote', celId, 'in'])).code === 0, 90_000, 1000)
    await eventually('the predicate closes it on A', async () => (await show(a, celId))?.closed, 60_000)
    t.pass('a CEL predicate decided the conversation')

    // a message posted while its device was away, after the conversation closed, is late on every node
    const lateId = await startConvo(
      t,
      a,
      [
        '--pattern',
        'vote',
        '--topic',
        'First answer wins',
        '--expr',
        'voted >= 1',
        '--option',
        'in',
        '--option',
        'out'
      ],
      x0.accountId
    )
    await eventually(
      'A2 is a writer there',
      async () => (await a2.cli(['ack', lateId])).code === 0,
      90_000,
      1000
    )
    await eventually('X learns it', async () => (await show(x, lateId)) !== null, 90_000)
    const a2Device = (await a2.api<{ deviceId: string }>('GET', '/api/status')).body.deviceId
    // A2 goes away: restarted on a DHT of its own, it reaches no other device: its direct dials
    // go to a SOCKS5 proxy that is not there, and it listens on a port the others do not know
    const away = await createTestnet(t, 2)
    await a2.stop()
    a2 = await startNode(t, homeA2, {
      bootstrap: away.bootstrapFlag,
      args: ['--socks5', `127.0.0.1:${await unusedPort()}`, '--direct-port', String(await unusedPort())]
    })
    t.is((await a.cli(['vote', lateId, 'in'])).code, 0, 'A answers: the predicate closes it')
    for (const n of [a, x]) {
      await eventually(`closed and final on ${n.home}`, () => finalOn(n, lateId), 120_000)
    }
    // away, no other node can hold the ballot: it is answered once stored on A2 (--copies 1)
    const offline = await a2.cli(['vote', lateId, 'out', '--copies', '1'])
    t.is(offline.code, 0, 'A2, away, still sees it open and votes')
    await a2.stop()
    a2 = await startNode(t, homeA2, { bootstrap: net.bootstrapFlag })
    await eventually(
      "A2's ballot is merged, late, on A, X and A2 with the same view",
      async () => {
        const all = await Promise.all([a, x, a2].map((n) => show(n, lateId)))
        return all.every(
          (v) =>
            v !== null &&
            v.viewHash === all[0]!.viewHash &&
            v.messages.some((m) => m.author.deviceId === a2Device && m.kind === 'ballot')
        )
          ? all
          : false
      },
      150_000
    ).then((all) => {
      for (const v of all) {
        const ballot = v!.messages.find((m) => m.author.deviceId === a2Device && m.kind === 'ballot')!
        t.ok(ballot.late, 'the late ballot is marked late')
        t.alike(v!.outcome!.winners, ['in'], 'and changes nothing')
      }
    })

    // a device certified after the conversations started is added to them by its own account and
    // offered them: it reads the outcome and holds the same view
    const invite3 = JSON.parse((await a.cli(['invite', '--json'])).stdout).invite
    const homeA3 = join(tmpHome(t, 'a3'), 'h')
    t.is(
      (
        await conclave(
          ['--home', homeA3, 'join', invite3, '--bootstrap', net.bootstrapFlag, '--timeout', '60'],
          { timeoutMs: 90_000 }
        )
      ).code,
      0,
      'A3 joined'
    )
    const a3 = await startNode(t, homeA3, { bootstrap: net.bootstrapFlag })
    const seenOnA3 = await eventually(
      'A3 learns the first vote and its final outcome',
      () => finalOn(a3, id),
      150_000
    )
    t.alike(seenOnA3.outcome!.winners, ['yes'], 'A3 shows the outcome')
    await eventually(
      'A3 holds the same view as A',
      async () => (await show(a3, id))?.viewHash === (await show(a, id))?.viewHash,
      60_000
    )
    t.pass('the new device holds the same view')
  }
)
