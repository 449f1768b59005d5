import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { unhex } from '../../src/kernel/encoding.js'
import type { DeviceStatus, StatusReport } from '../../src/node/node-api.js'
import { currentOrNextWindow, type PortWindow, windowKey, windowOf } from '../../src/node/windows.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import {
  type ApiCall,
  apiIn,
  createGatewayNet,
  cutTcp,
  forwardedPorts,
  netnsUnavailable,
  refuseInbound,
  skipWhen,
  startMiniupnpd,
  tcpConnect
} from '../helpers/netns.js'
import { eventually, type NodeProcess, startNode, statusOf } from '../helpers/node-process.js'
import { inviteAndJoin, strangerCard } from '../helpers/pairing.js'
import { createTestnet } from '../helpers/testnet.js'

const W = 4
const S = 10
const SLOT_MS = S * 1000
const WIN_MS = W * 1000
/** No DHT in the namespaces: nothing listens there. */
const NO_DHT = '127.0.0.1:9'

async function statusIn(n: NodeProcess): Promise<StatusReport> {
  const r = await n.cli(['status', '--json'])
  if (r.code !== 0) throw new Error(`status: ${r.stderr}`)
  return JSON.parse(r.stdout) as StatusReport
}

function deviceIn(s: StatusReport, id: string): DeviceStatus | undefined {
  return s.devices.find((d) => d.deviceId === id)
}

async function friendIds(api: ApiCall): Promise<string[]> {
  const r = await api<{ friends: Array<{ accountId: string }> }>('GET', '/api/friends')
  return r.friends.map((f) => f.accountId)
}

function windowKeyOf(home: string): Buffer {
  const secrets = JSON.parse(readFileSync(join(home, 'secrets.json'), 'utf8')) as {
    cluster: { encryptionKey: string }
  }
  return windowKey(unhex(secrets.cluster.encryptionKey))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))
const iso = (ms: number) => new Date(ms).toISOString().slice(11, 23)

const skip = skipWhen('e2e/port-windows-reach', netnsUnavailable(['miniupnpd', 'nft', 'ss']))

test(
  'two devices reach each other only through port windows: B outside dials A behind the gateway inside the windows, and again after the link is cut',
  { timeout: 240_000, ...skip },
  async (t) => {
    const t0 = Date.now()
    const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`
    // pairing needs the DHT: A and B pair on a loopback testnet, which then goes for good
    const dht = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'pwa'), 'h')
    const homeB = join(tmpHome(t, 'pwb'), 'h')
    t.is((await conclave(['--home', homeA, 'init', '--json'])).code, 0, 'A initialised')
    let a = await startNode(t, homeA, { bootstrap: dht.bootstrapFlag })
    const idA = (await statusOf(a)).deviceId
    const { deviceId: idB } = await inviteAndJoin(t, a, homeB, dht.bootstrapFlag)
    let b = await startNode(t, homeB, { bootstrap: dht.bootstrapFlag })
    t.comment(`B joined at ${elapsed()}`)
    let lastState = ''
    // B needs A's address in its view (to find A without the DHT) and its writer admitted
    await eventually(
      "B writable, with A's address in its view",
      async () => {
        const s = await statusOf(b)
        const d = deviceIn(s, idA)
        const state = `writable ${s.writable}, A online ${d?.online} direct ${d?.direct} at ${d?.lastAddress} (${d?.lastAddressFrom})`
        if (state !== lastState) t.comment(`${elapsed()}: ${(lastState = state)}`)
        return s.writable && d?.lastAddress && d.lastAddressFrom === 'view'
      },
      120_000,
      300
    )
    await Promise.all([a.stop(), b.stop()])
    await dht.destroy()
    t.comment(`paired and linked on the testnet at ${elapsed()}`)
    // two accounts to befriend later, one written on each side
    const [d, e] = await Promise.all([strangerCard(t, 'pwd'), strangerCard(t, 'pwe')])

    // the namespaces: A's LAN behind the gateway (miniupnpd), B's WAN host outside, which accepts no
    // incoming connection (a phone behind its carrier's NAT): A can never dial B, B can dial A only
    // at the gateway's public address, and only while A's window maps the port there
    const net = createGatewayNet(t)
    await startMiniupnpd(t, net, tmpHome(t, 'pwgw'))
    refuseInbound(net, net.wan)
    // listen on every interface of the namespace (no DHT to reach there)
    for (const home of [homeA, homeB])
      writeFileSync(join(home, 'config.json'), JSON.stringify({ dhtHost: '0.0.0.0' }))
    const windowArgs = (protocol: string) => [
      '--port-windows',
      '--window-seconds',
      String(W),
      '--slot-seconds',
      String(S),
      '--gateway-protocol',
      protocol
    ]

    // at home: both on the LAN; A maps its port in a window and publishes the gateway's public address
    a = await startNode(t, homeA, {
      wrap: net.exec(net.lan),
      bootstrap: NO_DHT,
      env: { CONCLAVE_LOG_LEVEL: 'debug' },
      args: windowArgs('upnp')
    })
    b = await startNode(t, homeB, { wrap: net.exec(net.lan), bootstrap: NO_DHT })
    const relays = tmpHome(t, 'pwapi')
    const apiA = await apiIn(t, net, net.lan, homeA, relays)
    const statusA = () => apiA<StatusReport>('GET', '/api/status')
    const portA = Number((await statusA()).direct.listen?.split(':').pop())
    const publicA = `${net.extIp}:${portA}`
    await eventually(
      "B (at home) holds A's public address in its view",
      async () => {
        const d = deviceIn(await statusIn(b), idA)
        return d?.lastAddress === publicA && d.lastAddressFrom === 'view'
      },
      3 * SLOT_MS,
      300
    )
    t.pass(`A published ${publicA} after a window, and B has it in its view (${elapsed()})`)
    await b.stop()
    // B leaves outside a window (unless the next opens while it starts)
    const open = currentOrNextWindow(windowKeyOf(homeA), Date.now(), SLOT_MS, WIN_MS)
    if (open.start <= Date.now()) await sleep(open.end + 300 - Date.now())
    const key = windowKeyOf(homeB)
    t.alike(windowKeyOf(homeA), key, 'A and B derive the same window key from their own secrets')
    // from here on, the gateway's table is read every 100 ms
    const mapSamples: Array<{ at: number; mapped: boolean }> = []
    const sampler = setInterval(
      () => mapSamples.push({ at: Date.now(), mapped: forwardedPorts(net).has(portA) }),
      100
    )
    t.teardown(() => clearInterval(sampler))
    /** Reads of the table inside `w` that showed A's port, after two more reads (the mapping can be ms old). */
    const mappedIn = async (w: PortWindow) => {
      const n = mapSamples.length
      await eventually('two more reads of the table', async () => mapSamples.length >= n + 2, 5000, 20)
      return mapSamples.filter((x) => x.mapped && x.at >= w.start && x.at < w.end).length
    }

    // B leaves home: outside, with the same windows (it has no gateway: NAT-PMP finds no route)
    const startedB = Date.now()
    b = await startNode(t, homeB, {
      wrap: net.exec(net.wan),
      bootstrap: NO_DHT,
      env: { CONCLAVE_LOG_LEVEL: 'debug' },
      args: windowArgs('natpmp')
    })
    const apiB = await apiIn(t, net, net.wan, homeB, relays)
    const statusB = () => apiB<StatusReport>('GET', '/api/status')
    const seen = new Map<string, PortWindow[]>([
      ['A', []],
      ['B', []]
    ])
    const note = (who: 'A' | 'B', s: StatusReport) => {
      const next = s.windows.next
      if (next) seen.get(who)!.push({ slot: Math.floor(next.start / SLOT_MS), ...next })
    }
    /**
     * Polls B until its link to A is up (`up`) or down: returns when B's status
     * said so, with the times the status was asked for (the change happened
     * after `after` of the sample before, and before `at` of this one).
     */
    const watchB = async (up: boolean, timeoutMs: number, since = Date.now()) => {
      const deadline = Date.now() + timeoutMs
      let prev = since
      let error: string | null = null
      for (;;) {
        const asked = Date.now()
        const s = await statusB()
        note('B', s)
        const answered = Date.now()
        const d = deviceIn(s, idA)
        if (Boolean(d?.online && d.direct) === up) return { s, after: prev, at: answered, error }
        error = d?.directError ?? error
        if (answered > deadline) throw new Error(`B's link to A not ${up ? 'up' : 'down'} in time`)
        prev = asked
        await sleep(150)
      }
    }
    const windowAround = (from: number, to: number): PortWindow | undefined => {
      for (let slot = Math.floor(from / SLOT_MS) - 1; slot <= Math.floor(to / SLOT_MS); slot++) {
        const w = windowOf(key, slot, SLOT_MS, WIN_MS)
        if (w.start < to && from < w.end) return w
      }
      return undefined
    }

    // 1. B reaches A inside a window
    const first = await watchB(true, 3 * SLOT_MS, startedB)
    const w1 = windowAround(first.after, first.at)
    t.ok(
      w1,
      `B's link to A came up between ${iso(first.after)} and ${iso(first.at)}, inside the window ${w1 ? `${iso(w1.start)}–${iso(w1.end)}` : '(none)'}`
    )
    if (first.error) t.comment(`B's last failed dial before it: ${first.error}`)
    t.ok(w1 && (await mappedIn(w1)) > 0, "the gateway's table held A's port in that window")
    if (!w1 || (await mappedIn(w1)) === 0) {
      const around = mapSamples.filter((x) => x.at > first.after - 3000 && x.at < first.at + 5000)
      const pick = (o: string) =>
        o
          .split('\n')
          .filter((l) => /direct|window|mapp/i.test(l))
          .slice(-30)
          .join('\n')
      t.comment(
        `samples ${around.map((x) => `${iso(x.at)}${x.mapped ? '+' : '-'}`).join(' ')}\n--- A\n${pick(a.output())}\n--- B\n${pick(b.output())}`
      )
    }
    const peersA = first.s.peers.filter((p) => p.deviceId === idA)
    t.ok(
      peersA.length > 0 && peersA.every((p) => p.transport === 'direct'),
      'B reaches A over direct links only'
    )
    t.is(first.s.swarm.dhtNodes, 0, 'B knows no DHT node: no other way to A')
    t.is(deviceIn(first.s, idA)?.lastAddress, publicA, "B dialled A's last address: the gateway's public one")

    // the two node processes compute the same windows
    const both = await eventually(
      'A and B report their windows within one window',
      async () => {
        const sa = await statusA()
        const sb = await statusB()
        note('A', sa)
        note('B', sb)
        return sa.windows.next?.start === sb.windows.next?.start && { sa, sb }
      },
      30_000,
      100
    )
    t.alike(both.sa.windows.next, both.sb.windows.next, 'the two node processes show the same next window')
    for (const s of [both.sa, both.sb]) {
      t.ok(s.windows.enabled && s.windows.windowSeconds === W && s.windows.slotSeconds === S, 'same W and S')
    }

    await apiB('POST', '/api/friends', { card: d.card })
    t.pass('B adds a friend')
    await eventually(
      'the friend reaches A',
      async () => (await friendIds(apiA)).includes(d.accountId),
      30_000,
      300
    )
    t.pass('a cluster entry made on B reached A through the link opened in the window')
    const sa = await statusA()
    note('A', sa)
    t.ok(deviceIn(sa, idB)?.online && deviceIn(sa, idB)?.direct, 'A shows B online over a direct link')
    t.ok(
      typeof sa.windows.maxOffsetMs === 'number',
      `A measured the clock offset of B: ${sa.windows.maxOffsetMs} ms`
    )
    t.is(sa.windows.offsetWarning, null, 'within the margin of the window')
    t.is(sa.windows.external, publicA, "A's status: its public address from the gateway")

    // 2. after the window: nothing is mapped, a new connection is refused; the link made inside stays up
    let w = w1 ?? currentOrNextWindow(key, first.at, SLOT_MS, WIN_MS)
    for (;;) {
      await sleep(w.end + 600 - Date.now())
      const next = currentOrNextWindow(key, Date.now(), SLOT_MS, WIN_MS)
      // the cut needs a few seconds before the next window opens; else wait that one out too
      if (next.start - Date.now() >= 4000) break
      w = next
    }
    const outside = currentOrNextWindow(key, Date.now(), SLOT_MS, WIN_MS)
    t.absent(
      forwardedPorts(net).has(portA),
      `outside the windows (${iso(Date.now())}) the gateway maps nothing`
    )
    t.is(
      tcpConnect(net, net.wan, net.extIp, portA),
      'ECONNREFUSED',
      `a new connection to ${publicA} is refused`
    )
    const still = deviceIn(await statusB(), idA)
    t.ok(still?.online && still.direct, 'the link made inside the window is still up (the gateway tracks it)')
    if (!(still?.online && still.direct)) {
      const pick = (o: string) =>
        o
          .split('\n')
          .filter((l) => /direct|window|peer|stream/i.test(l))
          .slice(-40)
          .join('\n')
      t.comment(`B: ${JSON.stringify(still)}\n--- A\n${pick(a.output())}\n--- B\n${pick(b.output())}`)
    }

    // 3. the link is cut; A writes meanwhile; B gets back to A only in the next window
    cutTcp(net, net.lan, net.wanIp)
    const down = await watchB(false, 5000)
    t.ok(
      down.at < outside.start,
      `the link is down (${iso(down.at)}), the next window opens at ${iso(outside.start)}`
    )
    await apiA('POST', '/api/friends', { card: e.card })
    t.pass('A adds a friend while cut off')
    if (outside.start - Date.now() > 800) {
      t.is(tcpConnect(net, net.wan, net.extIp, portA), 'ECONNREFUSED', 'still refused before the window')
      t.absent((await friendIds(apiB)).includes(e.accountId), "A's new friend has not reached B")
    } else t.comment('the next window is too close for the checks before it')
    const again = await watchB(true, 2 * SLOT_MS)
    const w2 = windowAround(again.after, again.at)
    t.ok(
      w2 && w2.start >= outside.start,
      `B linked to A again between ${iso(again.after)} and ${iso(again.at)}, inside the window ${w2 ? `${iso(w2.start)}–${iso(w2.end)}` : '(none)'}`
    )
    if (again.error) t.comment(`B's last failed dial before it: ${again.error}`)
    t.ok(w2 && (await mappedIn(w2)) > 0, "the gateway's table held A's port in that window")
    await eventually(
      'the friend reaches B',
      async () => (await friendIds(apiB)).includes(e.accountId),
      30_000,
      300
    )
    t.pass("A's entry made while cut off reached B over the link of the next window")

    clearInterval(sampler)
    const stray = mapSamples.filter((x) => x.mapped && !windowAround(x.at - 300, x.at + 300))
    t.is(
      stray.length,
      0,
      `in ${mapSamples.length} reads of the gateway's table, A's port was mapped only inside windows`
    )

    // 4. every window either node reported is the one the cluster key gives for its slot
    for (const [who, ws] of seen) {
      const wrong = ws.filter((x) => {
        const k = windowOf(key, x.slot, SLOT_MS, WIN_MS)
        return k.start !== x.start || k.end !== x.end
      })
      t.ok(
        ws.length > 0 && wrong.length === 0,
        `${who}: ${ws.length} status windows, all from the cluster key`
      )
    }

    const endA = await statusA()
    t.is(endA.windows.lastError, null, "A's gateway reported no error over these windows")
    t.ok(
      /"code":"NODE_GATEWAY_NOT_FOUND"/.test(b.output()) &&
        !/"code":"NODE_GATEWAY_(INVALID|REFUSED)"/.test(b.output()),
      'B, without a gateway, logs NODE_GATEWAY_NOT_FOUND and goes on'
    )
    t.is(await b.stop(), 0, 'B exits cleanly')
    t.is(await a.stop(), 0, 'A exits cleanly')
    t.absent(forwardedPorts(net).has(portA), 'no mapping is left at the gateway')
  }
)
