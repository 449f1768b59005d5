import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import type { Test } from 'brittle'
import test from 'brittle'
import c from 'compact-encoding'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import {
  type AddressEvent,
  addressEncoding,
  HEARTBEAT_PROTOCOL,
  Heartbeats,
  type HeartbeatsComponents,
  type HeartbeatsOptions,
  isAddress,
  type ObservedEvent,
  type PeerHeartbeatStats,
  type Pong,
  pingEncoding,
  pongEncoding
} from '../../src/node/heartbeat.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'
import { tmpDir } from '../helpers/tmp.js'
import { until as untilWithin } from '../helpers/wait.js'

const FAST: HeartbeatsOptions = { minMs: 20, maxMs: 50 }
const LOOPBACK = /^127\.0\.0\.1:\d+$/
const HONEST_SEQ = 0x7ffffff1

/** Heartbeats run on timers: up to 15 s, checked every 10 ms. */
const until = (what: string, check: () => boolean, ms = 15_000) => untilWithin(what, check, ms, 10)

interface Side {
  swarm: Hyperswarm
  conns: Hyperswarm.Connection[]
  hb: Heartbeats | null
  /** Every 'observed' event of `hb`, from its creation on. */
  observed: ObservedEvent[]
}

/**
 * `n` swarms on one topic: the first is the server, the others clients, so
 * each client is connected to the first. A side with heartbeats attaches them
 * to every connection (`null` options: no heartbeats, the test drives the
 * connection by hand).
 */
async function sides(
  t: Test,
  tn: Testnet,
  configs: Array<{ opts?: HeartbeatsOptions; components?: HeartbeatsComponents } | null>
): Promise<Side[]> {
  const topic = randomBytes(32)
  const out: Side[] = configs.map((cfg) => {
    const swarm = tn.createSwarm()
    const hb = cfg ? new Heartbeats(cfg.opts ?? FAST, cfg.components) : null
    if (hb) t.teardown(() => hb.close())
    const side: Side = { swarm, conns: [], hb, observed: [] }
    hb?.on('observed', (e: ObservedEvent) => side.observed.push(e))
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      side.conns.push(conn)
      hb?.attach(conn)
    })
    return side
  })
  await out[0]!.swarm.join(topic, { server: true, client: false }).flushed()
  for (const s of out.slice(1)) await s.swarm.join(topic, { server: false, client: true }).flushed()
  await until(
    'connections',
    () => out[0]!.conns.length === out.length - 1 && out.slice(1).every((s) => s.conns.length === 1)
  )
  return out
}

function statsOf(hb: Heartbeats, key: Buffer | null): PeerHeartbeatStats | undefined {
  return hb.stats().find((s) => key !== null && s.publicKey === key.toString('hex'))
}

test('two swarms exchange heartbeats: rtt, samples and the address each sees for the other', async (t) => {
  const tn = await createTestnet(t)
  const [a, b] = await sides(t, tn, [{}, {}])
  const observedByA = a!.observed
  const aKey = a!.swarm.keyPair.publicKey
  const bKey = b!.swarm.keyPair.publicKey

  await until('three samples each way', () => {
    const sa = statsOf(a!.hb!, bKey)
    const sb = statsOf(b!.hb!, aKey)
    return !!sa && !!sb && sa.samples >= 3 && sb.samples >= 3
  })
  const sa = statsOf(a!.hb!, bKey)!
  const sb = statsOf(b!.hb!, aKey)!
  for (const [name, s] of [
    ['a', sa],
    ['b', sb]
  ] as const) {
    t.ok(s.rttMs !== null && s.rttMs > 0 && s.rttMs < 1000, `${name}: rtt ${s.rttMs} ms`)
    t.ok(s.offsetMs !== null && Math.abs(s.offsetMs) < 200, `${name}: same clock, offset ${s.offsetMs} ms`)
    t.ok(s.lastSeen !== null && Math.abs(Date.now() - s.lastSeen) < 5000, `${name}: lastSeen is recent`)
    t.ok(LOOPBACK.test(s.observedAddress ?? ''), `${name}: observed as ${s.observedAddress}`)
    t.is(s.malformed, 0, `${name}: nothing dropped`)
  }
  t.is(sa.observedAddress, sb.remoteAddress, 'the address b reports for a is the one b’s socket sees')
  t.is(sb.observedAddress, sa.remoteAddress, 'and the other way round')
  t.not(sa.observedAddress, sb.observedAddress, 'two sockets, two ports')
  t.is(a!.hb!.observedAddress(), sa.observedAddress, 'observedAddress() is the reported one')
  t.is(observedByA.length, 1, "'observed' fired once: the address did not change")
  t.alike(observedByA[0], { address: sa.observedAddress, by: bKey }, 'naming the reporter')

  // detach stops the pings on that stream; the connection stays
  const samples = statsOf(b!.hb!, aKey)!.samples
  a!.hb!.detach(a!.conns[0]!)
  t.is(a!.hb!.stats().length, 0, 'a detached')
  await until('b sees the channel close', () => b!.hb!.stats().length === 0, 5000)
  await new Promise((r) => setTimeout(r, 150))
  t.ok(!a!.conns[0]!.destroyed, 'the connection itself is still up')
  t.is(statsOf(b!.hb!, aKey), undefined, 'b stopped pinging a')

  // attaching again: b, still attached, answers the new channel
  t.ok(a!.hb!.attach(a!.conns[0]!), 'a attaches again')
  await until('samples again', () => (statsOf(b!.hb!, aKey)?.samples ?? 0) >= 2, 5000)
  t.ok(samples >= 3 && statsOf(b!.hb!, aKey)!.samples < samples, 'a fresh channel, fresh stats')
})

test('clock offset: a peer whose clock is 5 s ahead is measured at +5000 ms, and we at −5000 ms by it', async (t) => {
  const tn = await createTestnet(t)
  const SKEW = 5000
  const [a, b] = await sides(t, tn, [{}, { components: { now: () => Date.now() + SKEW } }])
  const aKey = a!.swarm.keyPair.publicKey
  const bKey = b!.swarm.keyPair.publicKey
  await until('five samples each way', () => {
    const sa = statsOf(a!.hb!, bKey)
    const sb = statsOf(b!.hb!, aKey)
    return !!sa && !!sb && sa.samples >= 5 && sb.samples >= 5
  })
  const ahead = statsOf(a!.hb!, bKey)!.offsetMs!
  const behind = statsOf(b!.hb!, aKey)!.offsetMs!
  t.ok(Math.abs(ahead - SKEW) <= 200, `a sees b ahead by ${ahead} ms`)
  t.ok(Math.abs(behind + SKEW) <= 200, `b sees a behind by ${behind} ms`)
})

test('announce() reaches every connected peer at once, and later peers on connect', async (t) => {
  const tn = await createTestnet(t)
  const [a, b, c3] = await sides(t, tn, [{ opts: { ...FAST, deviceId: 'dev_a' } }, {}, {}])
  const aKey = a!.swarm.keyPair.publicKey
  await until('channels open', () => [b, c3].every((s) => (statsOf(s!.hb!, aKey)?.samples ?? 0) >= 1))
  const got: Array<AddressEvent & { on: string }> = []
  b!.hb!.on('address', (e: AddressEvent) => got.push({ ...e, on: 'b' }))
  c3!.hb!.on('address', (e: AddressEvent) => got.push({ ...e, on: 'c' }))

  const before = Date.now()
  t.is(a!.hb!.announce('203.0.113.7:49737'), 2, 'sent to both peers')
  await until('both got it', () => got.length === 2, 5000)
  for (const e of got) {
    t.is(e.address, '203.0.113.7:49737', `${e.on}: the address`)
    t.is(e.deviceId, 'dev_a', `${e.on}: the device id`)
    t.alike(e.from, aKey, `${e.on}: from a`)
    t.ok(e.at >= before && e.at <= Date.now(), `${e.on}: at is a's clock at announce`)
  }
  t.alike(got.map((e) => e.on).sort(), ['b', 'c'], 'each peer exactly once')

  t.is(a!.hb!.announce('[2001:db8::1]:443'), 2, 'IPv6 in brackets')
  await until('second announce', () => got.length === 4, 5000)
  t.ok(
    got.slice(2).every((e) => e.address === '[2001:db8::1]:443'),
    'both got the new one'
  )

  await t.exception(() => a!.hb!.announce('not an address'), /CONFIG_INVALID|host:port/)
  await t.exception(() => a!.hb!.announce('1.2.3.4:70000'), /host:port/)
})

test('garbage on the channel is dropped and counted; the connection, replication and honest pings go on', async (t) => {
  const tn = await createTestnet(t)
  const [v, h, x] = await sides(t, tn, [{}, {}, null])
  const vKey = v!.swarm.keyPair.publicKey
  const hKey = h!.swarm.keyPair.publicKey
  const xKey = x!.swarm.keyPair.publicKey

  // replication shares the mux with heartbeats: it must survive the garbage
  const vStore = new Corestore(await tmpDir(t))
  const xStore = new Corestore(await tmpDir(t))
  t.teardown(() => vStore.close())
  t.teardown(() => xStore.close())
  const vConnToX = v!.conns.find((conn) => conn.remotePublicKey?.equals(xKey))!
  vStore.replicate(vConnToX)
  xStore.replicate(x!.conns[0]!)
  const core = vStore.get({ name: 'log' })
  await core.ready()

  // the hostile side opens the protocol by hand and speaks raw bytes
  const pongs: Array<Pong | null> = []
  const mux = Protomux.from(x!.conns[0]!)
  const channel = mux.createChannel({ protocol: HEARTBEAT_PROTOCOL })!
  const raw = {
    ping: channel.addMessage({ encoding: c.raw }),
    pong: channel.addMessage({
      encoding: c.raw,
      onmessage: (b: Buffer) => {
        try {
          pongs.push(c.decode(pongEncoding, b))
        } catch {
          pongs.push(null)
        }
      }
    }),
    address: channel.addMessage({ encoding: c.raw }),
    unknown: channel.addMessage({ encoding: c.raw })
  }
  channel.open()
  await until('v opened the channel with x', () => !!statsOf(v!.hb!, xKey) && channel.opened, 5000)
  await until('v and h exchanged pings', () => (statsOf(v!.hb!, hKey)?.samples ?? 0) >= 2)
  const honestBefore = statsOf(v!.hb!, hKey)!.samples

  const long = 'a'.repeat(400)
  const crafted: Array<[keyof typeof raw, Buffer]> = [
    ['ping', Buffer.alloc(0)],
    ['ping', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])], // seq > 2^53
    ['ping', Buffer.alloc(4096, 7)], // oversized
    ['pong', c.encode(pongEncoding, { seq: 999, t0: 1, t1: 2, seen: '127.0.0.1:1' })], // unsolicited
    ['pong', c.encode(pongEncoding, { seq: 0, t0: 1, t1: 2, seen: `${long}:1` })], // long, unsolicited
    ['pong', Buffer.from([0x01, 0x01, 0x01, 0x05, 0x78])], // string runs past the end
    ['address', c.encode(addressEncoding, { address: 'not-an-address', at: 1 })],
    ['address', c.encode(addressEncoding, { address: '1.2.3.4:99999', at: 1 })],
    ['address', c.encode(addressEncoding, { address: '999.1.1.1:80', at: 1 })],
    ['address', c.encode(addressEncoding, { address: `${long}.example:80`, at: 1 })],
    ['address', c.encode(addressEncoding, { deviceId: 'd'.repeat(200), address: '1.2.3.4:80', at: 1 })],
    ['address', c.encode(addressEncoding, { deviceId: 'has space', address: '1.2.3.4:80', at: 1 })],
    ['address', Buffer.from([0x00, 0xfe, 0xff, 0xff, 0xff, 0x7f])] // a 2 GB string length
  ]
  for (const [type, bytes] of crafted) raw[type].send(bytes)
  raw.unknown.send(randomBytes(64)) // a message type v1 does not have: protomux ignores it
  await until(
    'every crafted message counted',
    () => statsOf(v!.hb!, xKey)!.malformed === crafted.length,
    5000
  )
  t.is(v!.hb!.malformed, crafted.length, 'each crafted message dropped and counted once')

  // then a burst of random bytes of every type: some happen to decode, none may crash
  for (let i = 0; i < 300; i++) {
    const type = (['ping', 'pong', 'address'] as const)[i % 3]!
    raw[type].send(randomBytes(1 + (i % 64)))
  }
  const addresses: AddressEvent[] = []
  v!.hb!.on('address', (e: AddressEvent) => addresses.push(e))
  // a well-formed message after all that is still answered, on the same connection
  raw.address.send(c.encode(addressEncoding, { address: 'relay.example.org:8443', at: 42 }))
  const t0 = Date.now()
  raw.ping.send(c.encode(pingEncoding, { seq: HONEST_SEQ, t0 }))
  await until('the pong to the honest ping', () => pongs.some((p) => p?.seq === HONEST_SEQ), 5000)
  const pong = pongs.find((p) => p?.seq === HONEST_SEQ)!
  t.is(pong.t0, t0, 't0 echoed')
  t.ok(Math.abs(pong.t1 - t0) < 2000, 't1 is v’s clock')
  t.ok(LOOPBACK.test(pong.seen) && isAddress(pong.seen), `v tells x its address: ${pong.seen}`)
  t.is(pong.seen, statsOf(v!.hb!, xKey)!.remoteAddress, 'the one v’s socket sees')
  await until('the honest address', () => addresses.some((e) => e.address === 'relay.example.org:8443'), 5000)
  t.is(addresses.find((e) => e.address === 'relay.example.org:8443')!.at, 42, 'with its at')
  t.ok(v!.hb!.malformed > crafted.length, `random bytes dropped too (${v!.hb!.malformed} in all)`)

  t.ok(!vConnToX.destroyed && !x!.conns[0]!.destroyed, 'the hostile connection is still up')
  await core.append(Buffer.from('still replicating'))
  const remote = xStore.get({ key: core.key })
  t.teardown(() => remote.close())
  t.alike(
    await remote.get(0, { timeout: 10000 }),
    Buffer.from('still replicating'),
    'replication on the same mux works'
  )

  await until('v and h go on', () => statsOf(v!.hb!, hKey)!.samples >= honestBefore + 3)
  const vh = statsOf(v!.hb!, hKey)!
  t.is(vh.malformed, 0, 'the honest peer has nothing dropped')
  t.ok(LOOPBACK.test(statsOf(h!.hb!, vKey)!.observedAddress ?? ''), 'h still learns its address from v')
})

async function noisePair(
  t: Test
): Promise<{ client: NoiseSecretStream; server: NoiseSecretStream; socket: net.Socket; serverPort: number }> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise((r) => server.close(r)), { order: 1 })
  const serverPort = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const socket = net.connect(serverPort, '127.0.0.1')
  await once(socket, 'connect')
  const [serverSocket] = await accepted
  const client = new NoiseSecretStream(true, socket)
  const serverSide = new NoiseSecretStream(false, serverSocket)
  for (const s of [client, serverSide]) {
    s.on('error', () => {})
    t.teardown(() => s.destroy())
  }
  await Promise.all([client.opened, serverSide.opened])
  return { client, server: serverSide, socket, serverPort }
}

test('a direct TCP + Noise connection reports the TCP address, whichever side attaches first', async (t) => {
  const { client, server, socket, serverPort } = await noisePair(t)
  const hc = new Heartbeats(FAST)
  const hs = new Heartbeats(FAST)
  t.teardown(() => hc.close())
  t.teardown(() => hs.close())
  t.ok(hc.attach(client), 'attached')
  t.absent(hc.attach(client), 'one channel per connection')
  // the server has not attached yet, so it rejects the client's open; the client stays paired
  await new Promise((r) => setTimeout(r, 100))
  t.is(hc.stats().length, 0, 'no channel while the other side has not attached')
  hs.attach(server)
  await until('observed', () => hc.observedAddress() !== null)
  t.is(hc.observedAddress(), `127.0.0.1:${socket.localPort}`, 'the client learns its own TCP address')
  await until('a sample on the server side', () => (hs.stats()[0]?.samples ?? 0) >= 1)
  t.is(hs.stats()[0]!.observedAddress, `127.0.0.1:${serverPort}`, 'and the server its own')

  // closing the stream cleans up
  client.destroy()
  await until('both detached', () => hc.stats().length === 0 && hs.stats().length === 0, 5000)
  t.pass('stats cleared on close')
})

test('the first ping goes out at once, the next only after minMs', async (t) => {
  const { client, server } = await noisePair(t)
  const slow = { minMs: 60_000, maxMs: 60_000 }
  const hc = new Heartbeats(slow)
  const hs = new Heartbeats(slow)
  t.teardown(() => hc.close())
  t.teardown(() => hs.close())
  hc.attach(client)
  hs.attach(server)
  await until('first samples', () => hc.stats()[0]?.samples === 1 && hs.stats()[0]?.samples === 1, 5000)
  await new Promise((r) => setTimeout(r, 300))
  t.is(hc.stats()[0]!.samples, 1, 'client: one ping so far')
  t.is(hs.stats()[0]!.samples, 1, 'server: one ping so far')
  await hc.close()
  t.is(hc.stats().length, 0, 'close() detaches everything')
  await until('the server sees the channel close', () => hs.stats().length === 0, 5000)
  t.ok(!client.destroyed, 'the connection stays')
})

test('options are validated; close() stops everything', async (t) => {
  await t.exception(() => new Heartbeats({ minMs: 100, maxMs: 50 }), /CONFIG_INVALID|minMs/)
  await t.exception(() => new Heartbeats({ minMs: 0 }), /minMs/)
  await t.exception(() => new Heartbeats({ deviceId: 'x'.repeat(500) }), /deviceId/)
  const hb = new Heartbeats()
  await hb.close()
  await t.exception(() => hb.announce('1.2.3.4:5'), /closed/)
  t.ok(['1.2.3.4:5', '[::1]:80', 'host.example:65535', 'abc.onion:9050'].every(isAddress), 'addresses')
  t.absent(['1.2.3.4', ':80', '[::1:80', 'a b:1', '1.2.3.4:0', '1.2.3.4:065', '-a.b:1'].some(isAddress))
})
