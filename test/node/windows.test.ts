import { once } from 'node:events'
import net from 'node:net'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import test, { type Test } from 'brittle'
import { identityFromSeed } from '../../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../../src/kernel/identity/mnemonic.js'
import { unhex } from '../../src/kernel/encoding.js'
import { Heartbeats } from '../../src/node/heartbeat.js'
import {
  assessOffsets,
  currentOrNextWindow,
  upcomingWindows,
  WINDOW_MARGIN_MS,
  windowKey,
  windowOf
} from '../../src/node/windows.js'
import { until } from '../helpers/wait.js'

const SLOT = 600_000
const WIN = 30_000

/** The window key of device `device` of the account behind `seed`, from its own secrets file contents. */
function keyOfDevice(seed: Buffer, device: number): Buffer {
  const { secrets } = identityFromSeed(seed, { device, keepRoot: device === 0 })
  return windowKey(unhex(secrets.cluster.encryptionKey))
}

test('every device of a cluster computes the same windows; another cluster gets others', (t) => {
  const seed = mnemonicToSeed(generateMnemonic())
  const keys = [0, 1, 5].map((d) => keyOfDevice(seed, d))
  t.alike(keys[1], keys[0], 'device 1 derives the window key of device 0')
  t.alike(keys[2], keys[0], 'and so does device 5')
  const other = keyOfDevice(mnemonicToSeed(generateMnemonic()), 0)

  const now = Date.UTC(2026, 0, 1)
  const a = upcomingWindows(keys[0]!, now, SLOT, WIN, 200)
  const b = upcomingWindows(keys[1]!, now, SLOT, WIN, 200)
  const c = upcomingWindows(keys[2]!, now, SLOT, WIN, 200)
  t.alike(b, a, 'device 1: the same 200 windows')
  t.alike(c, a, 'device 5: the same 200 windows')
  const o = upcomingWindows(other, now, SLOT, WIN, 200)
  const same = o.filter((w, i) => w.start === a[i]!.start).length
  t.ok(same < 5, `another cluster shares ${same} of 200 window starts`)

  let inside = 0
  const offsets = new Set<number>()
  for (const w of a) {
    if (w.end - w.start === WIN && w.start >= w.slot * SLOT && w.end <= (w.slot + 1) * SLOT) inside++
    offsets.add(Math.floor((w.start - w.slot * SLOT) / 60_000))
  }
  t.is(inside, 200, 'each window is W long and lies inside its slot')
  t.ok(offsets.size >= 8, `offsets spread over the slot (${offsets.size} of 10 minutes used)`)
  t.is(
    a[0]!.slot,
    Math.floor(now / SLOT) + (a[0]!.start > now || a[0]!.end > now ? 0 : 1),
    'starts at the current slot'
  )
  for (let i = 1; i < a.length; i++) if (a[i]!.slot !== a[i - 1]!.slot + 1) t.fail('consecutive slots')

  // the window open at a moment inside it is that one; after it, the next slot's
  const w = windowOf(keys[0]!, 5_000_000, SLOT, WIN)
  t.alike(currentOrNextWindow(keys[0]!, w.start, SLOT, WIN), w, 'open at its first millisecond')
  t.alike(currentOrNextWindow(keys[0]!, w.end - 1, SLOT, WIN), w, 'open at its last millisecond')
  t.is(currentOrNextWindow(keys[0]!, w.end, SLOT, WIN).slot, w.slot + 1, 'closed at its end: the next slot')
  let refused = ''
  try {
    windowOf(keys[0]!, 1, 1000, 2000)
  } catch (err) {
    refused = (err as Error).message
  }
  t.ok(refused.includes('no longer than its slot'), `W > S is refused: ${refused}`)
})

test('offsets beyond the margin are flagged', (t) => {
  const ok = assessOffsets([120, -300, null], 2000)
  t.is(ok.maxOffsetMs, 300, 'the worst |offset|')
  t.is(ok.requiredWindowMs, 600 + WINDOW_MARGIN_MS, 'W must be 2 × 300 ms + the margin')
  t.ok(ok.ok, 'a 2 s window covers 300 ms offsets')
  t.is(ok.warning, null)

  const bad = assessOffsets([120, -700], 2000)
  t.absent(bad.ok, '700 ms offsets need 2.4 s: a 2 s window is flagged')
  t.ok(bad.warning?.includes('at least 2400 ms'), bad.warning ?? '')
  t.is(assessOffsets([], 2000).maxOffsetMs, null, 'nothing measured: nothing to flag')
})

async function noisePair(t: Test): Promise<[NoiseSecretStream, NoiseSecretStream]> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise((r) => server.close(r)), { order: 1 })
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(socket, 'connect')
  const [serverSocket] = await accepted
  const pair: [NoiseSecretStream, NoiseSecretStream] = [
    new NoiseSecretStream(true, socket),
    new NoiseSecretStream(false, serverSocket)
  ]
  for (const s of pair) {
    s.on('error', () => {})
    t.teardown(() => s.destroy())
  }
  await Promise.all(pair.map((s) => s.opened))
  return pair
}

test('offsets measured by heartbeats: a peer 3 s ahead is flagged for a 2 s window, a close one is not', async (t) => {
  for (const [skew, flagged] of [
    [3000, true],
    [0, false]
  ] as const) {
    const [a, b] = await noisePair(t)
    const ha = new Heartbeats({ minMs: 20, maxMs: 50 })
    const hb = new Heartbeats({ minMs: 20, maxMs: 50 }, { now: () => Date.now() + skew })
    t.teardown(() => ha.close())
    t.teardown(() => hb.close())
    ha.attach(a)
    hb.attach(b)
    await until('three samples', () => (ha.stats()[0]?.samples ?? 0) >= 3, 10_000, 10)
    const offsets = ha.stats().map((s) => s.offsetMs)
    const r = assessOffsets(offsets, 2000)
    t.is(
      !r.ok,
      flagged,
      `peer clock ${skew} ms ahead, measured ${offsets[0]} ms: ${r.warning ?? 'within the margin'}`
    )
  }
})
