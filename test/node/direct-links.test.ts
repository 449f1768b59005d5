import net from 'node:net'
import test, { type Test } from 'brittle'
import crypto from 'hypercore-crypto'
import { DIRECT_RETRY_MS, DirectLinks } from '../../src/node/direct-links.js'
import { unusedPort, until } from '../helpers/wait.js'

const hex = (b: Buffer): string => b.toString('hex')

function createLinks(t: Test, clock: { now: number }, admitted: Set<string>) {
  const keyPair = crypto.keyPair()
  const streams: string[] = []
  const links = new DirectLinks({
    keyPair,
    isAllowed: (key) => admitted.has(hex(key)),
    onStream: (stream) => streams.push(hex(stream.remotePublicKey!)),
    now: () => clock.now
  })
  t.teardown(() => links.close())
  return { links, keyPair, streams }
}

test('DirectLinks: one dial at a time per peer, a backoff per failing address, a new address at once', async (t) => {
  const clock = { now: 1_000_000 }
  const admitted = new Set<string>()
  const a = createLinks(t, clock, admitted)
  const b = createLinks(t, clock, admitted)
  admitted.add(hex(a.keyPair.publicKey)).add(hex(b.keyPair.publicKey))
  await a.links.ready()
  await b.links.ready()
  const bound = await b.links.listen(0, '127.0.0.1')
  const keyB = hex(b.keyPair.publicKey)

  const dead = `127.0.0.1:${await unusedPort()}`
  t.ok(a.links.dial(keyB, dead), 'the first dial starts')
  t.absent(a.links.dial(keyB, dead), 'a second one waits while the first is in flight')
  await until('a failed dial', () => a.links.state(keyB).lastError !== null)
  t.ok(a.links.state(keyB).lastError!.startsWith('NODE_DIAL_FAILED:'), a.links.state(keyB).lastError!)
  t.absent(a.links.dial(keyB, dead), 'the failed address is not dialled again at once')
  clock.now += DIRECT_RETRY_MS
  t.ok(a.links.dial(keyB, dead), 'but after the backoff')
  await until('the dial is over', () => !a.links.state(keyB).dialling)
  t.absent(a.links.dial(keyB, dead), 'and then waits twice as long')
  t.absent(a.links.connected(keyB), 'not connected')

  const good = `127.0.0.1:${bound.port}`
  t.ok(a.links.dial(keyB, good), 'a new address is dialled at once')
  await until('A linked to B', () => a.links.connected(keyB))
  t.is(a.links.state(keyB).lastError, null, 'the connection clears the error')
  t.absent(a.links.dial(keyB, good), 'a connected peer is not dialled')
  await until('B has one stream', () => b.streams.length === 1)
  t.alike(b.streams, [hex(a.keyPair.publicKey)], 'the listener got the stream')
  t.is(a.links.listenAddress, null, 'the dialer does not listen')
  t.is(b.links.listenAddress, good)

  t.absent(a.links.dial(keyB, 'not an address'), 'a malformed address is not dialled')
})

test('DirectLinks.listen: the preferred port when free, any port when it is taken', async (t) => {
  const clock = { now: 0 }
  const taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())))
  const busy = (taken.address() as net.AddressInfo).port
  const free = await unusedPort()

  const x = createLinks(t, clock, new Set())
  await x.links.ready()
  t.is((await x.links.listen(0, '127.0.0.1', free)).port, free, 'the preferred port')
  const y = createLinks(t, clock, new Set())
  await y.links.ready()
  const other = await y.links.listen(0, '127.0.0.1', busy)
  t.ok(other.port !== busy && other.port > 0, 'another port when the preferred one is taken')
  const z = createLinks(t, clock, new Set())
  await z.links.ready()
  const code = await z.links.listen(busy, '127.0.0.1').then(
    () => 'listened',
    (err: { code?: string }) => err.code
  )
  t.is(code, 'NODE_LISTEN_FAILED', 'an explicit busy port fails')
})
