import { join } from 'node:path'
import test, { type Test } from 'brittle'
import type { PostAck, StatusReport } from '../../src/node/node-api.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import { show } from '../helpers/convo.js'
import { eventually, type NodeProcess, startNode, statusOf } from '../helpers/node-process.js'
import { inviteAndJoin } from '../helpers/pairing.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'

interface Pair {
  net: Testnet
  homeA: string
  homeB: string
  a: NodeProcess
  b: NodeProcess
  deviceB: string
  /** A discussion of this account only, which B has opened. */
  id: string
}

/** Two devices of one account, both online, and a conversation A started that B has. */
async function twoDevices(t: Test): Promise<Pair> {
  const net = await createTestnet(t, 3)
  const homeA = join(tmpHome(t, 'a'), 'h')
  const homeB = join(tmpHome(t, 'b'), 'h')
  t.is((await conclave(['--home', homeA, 'init', '--json'])).code, 0, 'init A')
  const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
  const deviceB = (await inviteAndJoin(t, a, homeB, net.bootstrapFlag)).deviceId
  const b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
  await bothOnline(a, b)

  const started = await a.cli([
    'convo',
    'start',
    '--pattern',
    'discussion',
    '--method',
    'announcement',
    '--topic',
    'Durable?',
    '--json'
  ])
  t.is(started.code, 0, started.stderr)
  const id = JSON.parse(started.stdout).id as string
  await eventually('B opens the conversation', async () => (await show(b, id)) !== null, 120_000)
  return { net, homeA, homeB, a, b, deviceB, id }
}

function bothOnline(a: NodeProcess, b: NodeProcess): Promise<unknown> {
  return Promise.all(
    [a, b].map((n) =>
      eventually(
        `both devices online on ${n.home}`,
        async () => {
          const s = await statusOf(n)
          return s.devices.length === 2 && s.devices.every((d) => d.online)
        },
        150_000
      )
    )
  )
}

/** Every message text of the conversation on `n` (up to 500). */
async function texts(n: NodeProcess, id: string): Promise<Set<string>> {
  const r = await n.api<{ messages: Array<{ body: { text?: string } }> }>(
    'GET',
    `/api/conversations/${id}?limit=500`
  )
  if (r.status !== 200) throw new Error(`show: ${r.status}`)
  return new Set(r.body.messages.map((m) => m.body.text ?? ''))
}

const missing = (acked: string[], have: Set<string>): string[] => acked.filter((x) => !have.has(x))

test(
  'kill -9 a node while it writes, restart it: every acknowledged entry is present there and on the other node',
  { timeout: 420_000 },
  async (t) => {
    const { net, homeA, a, b, deviceB, id } = await twoDevices(t)
    const url = `/api/conversations/${id}/messages`

    // three writers in parallel on A, each recording what A acknowledged (durable: held by two nodes)
    const acked: string[] = []
    let writerCore = ''
    let unanswered = 0
    let refused = 0
    let killed = false
    const KILL_AFTER = 30
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !killed && i < 10_000; i++) {
        const text = `w${w}-m${i}`
        try {
          const r = await a.api<PostAck & { code?: string }>('POST', url, { kind: 'post', body: { text } })
          if (r.status === 200 && r.body.durable && r.body.copies >= 2) {
            acked.push(text)
            writerCore = r.body.writer
          } else refused++
        } catch {
          unanswered++ // the connection died with the process: not acknowledged
          return
        }
      }
    }
    const writers = [0, 1, 2].map(writer)
    await eventually(`${KILL_AFTER} acknowledged posts`, async () => acked.length >= KILL_AFTER, 120_000, 20)
    // kill while the three writers have requests in flight
    a.proc.kill('SIGKILL')
    killed = true
    t.is(await a.exited, null, 'A was killed by a signal')
    await Promise.all(writers)
    const ackedAtKill = [...acked]
    t.comment(`${ackedAtKill.length} acknowledged, ${unanswered} cut by the kill, ${refused} not durable`)
    t.is(refused, 0, 'while B was online every post was held by two nodes')
    t.ok(ackedAtKill.length >= KILL_AFTER)

    // B stored each acknowledged post before A answered; its view applies them on its own
    await eventually(
      'B shows every acknowledged post while A is down',
      async () => missing(ackedAtKill, await texts(b, id)).length === 0,
      30_000
    )
    t.pass('B has every acknowledged post while A is down')

    const a2 = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const onA = await eventually(
      'the restarted A shows every acknowledged post',
      async () => {
        const have = await texts(a2, id)
        return missing(ackedAtKill, have).length === 0 && have
      },
      30_000
    )
    t.pass('the restarted A has every acknowledged post')
    const cut = [...onA].filter((x) => x.startsWith('w') && !ackedAtKill.includes(x))
    t.comment(`posts stored on A but not acknowledged before the kill: ${cut.length}`)

    // A writes again after the restart: no fork, and the acknowledgement works again. B may
    // first have to notice that the killed process's connection died: allow for that.
    await bothOnline(a2, b)
    const after = await a2.cli(['convo', 'post', id, 'after the restart', '--copies-timeout', '50', '--json'])
    if (after.code !== 0) {
      const [sa, sb] = await Promise.all([statusOf(a2), statusOf(b)])
      const pick = (s: StatusReport) => s.cores.find((x) => x.key === writerCore)
      t.comment(`A: ${JSON.stringify(pick(sa))}, peers ${JSON.stringify(sa.peers)}`)
      t.comment(`B: ${JSON.stringify(pick(sb))}, peers ${JSON.stringify(sb.peers)}`)
    }
    t.is(after.code, 0, after.stderr)
    const ack = JSON.parse(after.stdout) as PostAck
    t.alike([ack.durable, ack.copies, ack.holders], [true, 2, [deviceB]], 'durable, held by A and B')
    t.is(ack.writer, writerCore, 'the same writer core as before the kill')
    await eventually(
      "status: A's writer core held by two nodes",
      async () => {
        const c = (await statusOf(a2)).cores.find((x) => x.key === writerCore)
        return c && c.copies === 2 && !c.belowTarget
      },
      60_000
    )
    t.pass("status: A's writer core held by A and B")
    const all = [...ackedAtKill, 'after the restart']
    await eventually(
      'B has every acknowledged post',
      async () => missing(all, await texts(b, id)).length === 0,
      60_000
    )
    t.alike(missing(all, await texts(a2, id)), [], 'A has them all')
    const [va, vb] = await Promise.all([show(a2, id), show(b, id)])
    t.ok(va && vb && va.messages.length > 0, 'both show the conversation')
  }
)

test(
  'copies 2 with the only peer stopped: not acknowledged as durable, stored, replicated once the peer returns',
  { timeout: 420_000 },
  async (t) => {
    const { net, homeB, a, b, deviceB, id } = await twoDevices(t)

    const first = await a.cli(['convo', 'post', id, 'both online', '--json'])
    t.is(first.code, 0, first.stderr)
    const r1 = JSON.parse(first.stdout) as PostAck
    t.alike([r1.durable, r1.copies, r1.target, r1.holders], [true, 2, 2, [deviceB]], 'held by A and B')

    await b.stop()
    await eventually('A sees B offline', async () => (await statusOf(a)).peers.length === 0, 60_000)

    const lone = await a.cli(['convo', 'post', id, 'B is away', '--copies-timeout', '2', '--json'])
    t.is(lone.code, 1, 'not acknowledged: exit 1')
    t.ok(lone.stderr.startsWith('NODE_NOT_DURABLE:'), lone.stderr.trim())
    t.ok(/stored on this device/.test(lone.stderr) && /held by 1 of 2 nodes/.test(lone.stderr))
    const r2 = JSON.parse(lone.stdout) as PostAck & { stored: boolean }
    t.alike(
      [r2.durable, r2.copies, r2.target, r2.stored, r2.writer],
      [false, 1, 2, true, r1.writer],
      '--json still prints the entry, with durable: false'
    )

    const one = await a.cli(['convo', 'post', id, 'one copy is enough', '--copies', '1', '--json'])
    t.is(one.code, 0, one.stderr)
    const r3 = JSON.parse(one.stdout) as PostAck
    t.alike([r3.durable, r3.copies, r3.target], [true, 1, 1], '--copies 1: acknowledged once stored here')

    const shown = await texts(a, id)
    t.ok(shown.has('B is away') && shown.has('one copy is enough'), 'both are stored on A')

    const sa = await statusOf(a)
    const core = sa.cores.find((c) => c.key === r1.writer)
    t.alike(
      core && { kind: core.kind, copies: core.copies, belowTarget: core.belowTarget, length: core.length },
      { kind: 'writer', copies: 1, belowTarget: true, length: r3.length },
      "A's writer core is flagged: B does not hold the last two posts"
    )
    t.ok(sa.durability.belowTarget >= 1)
    // No core counts B online once it left. Which cores still count it as a holder depends on
    // timing (a core that grew after B left, by an autobase ack say, is no longer held by B in
    // full; in two of four runs every core had grown), so that part is shown here and checked
    // with real stores in test/node/durability.test.ts and test/substrate/copies.test.ts. A
    // core's peer list can keep B a moment after the connections are gone: waited for.
    let heldByB: Array<{ name: string; holders: unknown }> = []
    const offline = await eventually(
      'no core counts B online',
      async () => {
        const cores = (await statusOf(a)).cores.filter((c) => c.holders.some((h) => h.deviceId === deviceB))
        heldByB = cores.map((c) => ({ name: c.name, holders: c.holders }))
        return cores.every((c) => c.holders.every((h) => h.deviceId !== deviceB || !h.online))
      },
      30_000
    ).catch(() => false)
    t.ok(offline, 'no core counts B online once it left')
    t.comment(`cores that still count B, offline, for what it held: ${JSON.stringify(heldByB)}`)
    const text = await a.cli(['status'])
    t.ok(/writer core\(s\) held by fewer than 2 nodes/.test(text.stdout), 'status prints the flag')

    // B returns (with its own durability settings from run flags)
    const b2 = await startNode(t, homeB, {
      bootstrap: net.bootstrapFlag,
      args: ['--copies', '1', '--copies-timeout', '3']
    })
    const sb: StatusReport = await statusOf(b2)
    t.alike(sb.durability.copies === 1 && sb.durability.timeoutMs === 3000 && sb.durability.statusTarget, 2)
    const want = ['both online', 'B is away', 'one copy is enough']
    await eventually(
      'B gets the posts made while it was away',
      async () => {
        const have = await texts(b2, id)
        return want.every((x) => have.has(x))
      },
      150_000
    )
    t.pass('B has every post')
    await eventually(
      "A's writer core held by two nodes again",
      async () => {
        const c = (await statusOf(a)).cores.find((x) => x.key === r1.writer)
        return (
          c && c.copies === 2 && !c.belowTarget && c.holders.some((h) => h.deviceId === deviceB && h.online)
        )
      },
      60_000
    )
    t.pass('the flag clears once B holds the writer core')
  }
)
