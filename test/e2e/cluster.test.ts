import { join } from 'node:path'
import test, { type Test } from 'brittle'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { createInvite, encodeInvite } from '../../cluster/invite.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import { eventually, type NodeProcess, startNode, statusOf } from '../helpers/node-process.js'
import { inviteAndJoin as pairDevice } from '../helpers/pairing.js'
import { createTestnet } from '../helpers/testnet.js'

async function inviteAndJoin(t: Test, a: NodeProcess, home: string, bootstrap: string, extra: string[] = []) {
  const joined = await pairDevice(t, a, home, bootstrap, extra)
  const again = await conclave([
    '--home',
    join(home, 'other'),
    'join',
    joined.invite,
    '--bootstrap',
    bootstrap,
    '--timeout',
    '8'
  ])
  t.is(again.code, 1, 'an invite works once')
  t.ok(/^CLUSTER_(INVITE_EXPIRED|PAIRING_FAILED):/.test(again.stderr), again.stderr.trim())
  return joined
}

test(
  'three devices of one account: invite, join, firewall, revoke, restart',
  { timeout: 300_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeB = join(tmpHome(t, 'b'), 'h')
    const homeC = join(tmpHome(t, 'c'), 'h')

    const init = JSON.parse((await conclave(['--home', homeA, 'init', '--json'])).stdout)
    let a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const locked = await conclave(['--home', homeA, 'run', '--bootstrap', net.bootstrapFlag])
    t.is(locked.code, 1, 'a second run on the same home refuses')
    t.ok(locked.stderr.startsWith('NODE_LOCKED:'), locked.stderr.trim())

    const jb = await inviteAndJoin(t, a, homeB, net.bootstrapFlag, ['--indexer'])
    t.is(jb.accountId, init.accountId, 'B joined the same account')
    let b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    const jc = await inviteAndJoin(t, a, homeC, net.bootstrapFlag)
    let c = await startNode(t, homeC, { bootstrap: net.bootstrapFlag })

    const threeOnline = (n: NodeProcess) =>
      eventually(
        `3 devices online on ${n.home}`,
        async () => {
          const s = await statusOf(n)
          return s.devices.length === 3 && s.devices.every((d) => d.online && !d.revoked) && s
        },
        150_000
      )
    const [sa, sb, sc] = await Promise.all([threeOnline(a), threeOnline(b), threeOnline(c)])
    t.alike(
      sa.devices.map((d) => d.deviceId),
      sb.devices.map((d) => d.deviceId),
      'A and B list the same devices'
    )
    t.alike(
      sa.devices.map((d) => d.deviceId),
      sc.devices.map((d) => d.deviceId),
      'A and C list the same devices'
    )
    t.ok(
      sa.devices.some((d) => d.deviceId === jc.deviceId),
      'C is listed'
    )
    await eventually('B writable', async () => (await statusOf(b)).writable, 30_000)
    t.ok(sa.cores.length > 0 && sa.cores.every((c0) => typeof c0.copies === 'number'), 'cores with copies')
    await eventually(
      'A has cores held by all three nodes',
      async () => (await statusOf(a)).cores.some((c0) => c0.copies >= 3 && c0.holders.length === 2),
      30_000
    )

    const cliStatus = JSON.parse((await a.cli(['status', '--json'])).stdout)
    t.is(cliStatus.accountId, init.accountId, 'status --json through the CLI')

    // an unrelated node with its own key cannot connect to A (firewall), even knowing the topic
    const intruder = new Hyperswarm({
      dht: new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1', firewalled: false })
    })
    t.teardown(() => intruder.destroy(), { order: 500 })
    let intruderConnections = 0
    intruder.on('connection', (conn) => {
      intruderConnections++
      conn.on('error', () => {})
    })
    const statusA = await statusOf(a)
    const clusterTopic = Buffer.from(statusA.swarm.topic, 'hex')
    intruder.join(clusterTopic, { server: false, client: true })
    await intruder.flush()
    await new Promise((r) => setTimeout(r, 3000))
    const afterIntrusion = await statusOf(a)
    t.absent(
      afterIntrusion.peers.some((p) => p.kind === 'unknown'),
      'A never lists the intruder as a peer'
    )
    t.is(intruderConnections, 0, 'the intruder got no connection')

    // a real node of another account that knows A's card (one-sided "friendship") looks for
    // A's devices on A's topic, and is refused: A has not added its card
    const homeD = join(tmpHome(t, 'd'), 'h')
    const initD = JSON.parse((await conclave(['--home', homeD, 'init', '--json'])).stdout)
    const d = await startNode(t, homeD, { bootstrap: net.bootstrapFlag })
    const cardA = JSON.parse((await a.cli(['card', '--json'])).stdout).card
    t.is((await d.cli(['friend', 'add', cardA])).code, 0, 'D adds A (one-sided)')
    await new Promise((r) => setTimeout(r, 5000))
    const [withD, dStatus] = await Promise.all([statusOf(a), statusOf(d)])
    t.absent(
      withD.peers.some((p) => p.accountId === initD.accountId || p.kind === 'unknown'),
      "A never admits D's device"
    )
    t.absent(
      dStatus.peers.some((p) => p.accountId === init.accountId),
      'D has no connection to any device of A'
    )
    await d.stop()

    // a guessed invite cannot join
    const guessed = await conclave([
      '--home',
      join(tmpHome(t, 'g'), 'h'),
      'join',
      encodeInvite(createInvite(600_000, Date.now())),
      '--bootstrap',
      net.bootstrapFlag,
      '--timeout',
      '5'
    ])
    t.is(guessed.code, 1)
    t.ok(
      /^CLUSTER_(INVITE_INVALID|PAIRING_FAILED):/.test(guessed.stderr),
      `guessed invite: ${guessed.stderr.trim()}`
    )

    // revoke C: A and B mark it revoked and drop its connections
    const rv = await a.cli(['revoke', String(jc.device), '--json'])
    t.is(rv.code, 0, rv.stderr)
    t.is(JSON.parse(rv.stdout).deviceId, jc.deviceId)
    for (const n of [a, b]) {
      await eventually(
        `C revoked and disconnected on ${n.home}`,
        async () => {
          const s = await statusOf(n)
          const dc = s.devices.find((d) => d.deviceId === jc.deviceId)
          return dc?.revoked && !s.peers.some((p) => p.deviceId === jc.deviceId)
        },
        60_000
      )
    }
    t.pass('C is revoked on A and B and no longer connected')
    const again = await a.cli(['revoke', jc.deviceId])
    t.ok(again.stderr.startsWith('CLUSTER_DEVICE_REVOKED:'), 'revoking twice is refused')
    const unknown = await a.cli(['revoke', '99'])
    t.ok(unknown.stderr.startsWith('CLUSTER_DEVICE_UNKNOWN:'), 'unknown device refused')

    // kill -9 leaves a home that opens again (stale lock taken over, store intact)
    t.is(await b.stop('SIGKILL'), null, 'B killed with SIGKILL')
    b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    t.is((await statusOf(b)).accountId, init.accountId, 'B opens again after kill -9')

    // restart every node: the state survives
    await Promise.all([a.stop(), b.stop(), c.stop()])
    a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    c = await startNode(t, homeC, { bootstrap: net.bootstrapFlag })
    for (const n of [a, b]) {
      const s = await eventually(`state after restart on ${n.home}`, async () => {
        const s0 = await statusOf(n)
        return s0.devices.length === 3 && s0
      })
      t.ok(s.devices.find((d) => d.deviceId === jc.deviceId)?.revoked, 'C still revoked after restart')
    }
    await eventually(
      'A and B reconnect after restart',
      async () => {
        const s = await statusOf(a)
        return s.peers.some((p) => p.deviceId === jb.deviceId)
      },
      150_000
    )
    await new Promise((r) => setTimeout(r, 2000))
    const sa2 = await statusOf(a)
    t.absent(
      sa2.peers.some((p) => p.deviceId === jc.deviceId),
      'revoked C cannot reconnect after restart'
    )
  }
)
