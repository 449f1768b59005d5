import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { Durability } from '../../src/node/durability.js'
import { tmpDir } from '../helpers/tmp.js'
import { until } from '../helpers/wait.js'
import { connectStores as connect } from '../substrate/helpers.js'

async function store(t: Test, name: string): Promise<Corestore> {
  const s = new Corestore(await tmpDir(t, `conclave-durability-${name}-`))
  await s.ready()
  t.teardown(() => s.close(), { order: 10 })
  return s
}

test('acknowledge waits for the node target, a request may ask otherwise; cores() counts this node too', async (t) => {
  const [sa, sb] = [await store(t, 'a'), await store(t, 'b')]
  const durability = new Durability({ store: sa }, { copies: 2, timeoutMs: 400 })
  await durability.ready()
  t.teardown(() => durability.close())
  t.is(durability.statusTarget, 2)

  const core = sa.get({ name: 'writer' })
  await core.ready()
  await core.append([Buffer.from('a'), Buffer.from('b')])
  const key = core.key.toString('hex')

  const alone = await durability.acknowledge(core, 2)
  t.alike([alone.copies, alone.target, alone.durable], [1, 2, false], 'alone: the node timeout runs out')
  t.ok(alone.waitedMs >= 350, `waited the configured ${alone.waitedMs} ms`)
  const one = await durability.acknowledge(core, 2, { copies: 1 })
  t.alike([one.copies, one.durable], [1, true], 'copies 1 per request: at once')

  const listed = durability.cores().find((c) => c.key === key)
  t.alike(
    listed && { length: listed.length, local: listed.local, copies: listed.copies, holders: listed.holders },
    { length: 2, local: true, copies: 1, holders: [] },
    'status: held by this node only'
  )

  const kb = crypto.keyPair()
  const cut = connect(sa, sb, kb)
  const remote = sb.get({ key: core.key })
  await remote.ready()
  const waiting = durability.acknowledge(core, 2, { timeoutMs: 10_000 })
  await remote.download({ start: 0, end: 2 }).done()
  const two = await waiting
  t.alike([two.copies, two.durable, two.holders], [2, true, [kb.publicKey.toString('hex')]], 'B holds it')

  const held = durability.cores().find((c) => c.key === key)!
  t.is(held.copies, 2, 'status: two nodes hold all of it')
  t.alike(
    held.holders.map((h) => [h.publicKey, h.online]),
    [[kb.publicKey.toString('hex'), true]]
  )

  cut()
  await until('B disconnected', () => core.peers.length === 0)
  const offline = durability.cores().find((c) => c.key === key)!
  t.is(offline.copies, 2, 'B still counts for what it held when it left')
  t.alike(
    offline.holders.map((h) => h.online),
    [false],
    '… marked offline'
  )

  await core.append(Buffer.from('c'))
  const grown = durability.cores().find((c) => c.key === key)!
  t.alike([grown.length, grown.copies], [3, 1], 'a block appended since: one copy')
})

test('the status target is never below two; closing gives up pending waits', async (t) => {
  const sa = await store(t, 'a')
  const one = new Durability({ store: sa }, { copies: 1, timeoutMs: 1000 })
  const three = new Durability({ store: sa }, { copies: 3, timeoutMs: 1000 })
  t.alike([one.statusTarget, three.statusTarget], [2, 3])

  const durability = new Durability({ store: sa }, { copies: 2, timeoutMs: 60_000 })
  await durability.ready()
  const core = sa.get({ name: 'writer' })
  await core.ready()
  await core.append(Buffer.from('x'))
  const started = Date.now()
  const pending = durability.acknowledge(core, 1)
  setTimeout(() => void durability.close(), 100)
  const r = await pending
  t.is(r.durable, false)
  t.ok(Date.now() - started < 5000, 'close ended the wait')
  await t.exception(() => durability.acknowledge(core, 1), /closed/, 'no new waits after close')
})
