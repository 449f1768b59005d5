import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import {
  CopiesTracker,
  holdersOf,
  openBase,
  waitForCopies,
  type SubstrateBase
} from '../../src/kernel/substrate/index.js'
import { tmpDir } from '../helpers/tmp.js'
import { apply, connectStores as connect, hex, type Msg } from './helpers.js'
import { until } from '../helpers/wait.js'

/** A real RocksDB corestore in a temp folder, closed at teardown. */
async function store(t: Test, name: string): Promise<Corestore> {
  const s = new Corestore(await tmpDir(t, `conclave-copies-${name}-`))
  await s.ready()
  t.teardown(() => s.close())
  return s
}

async function writer(s: Corestore, blocks: number): Promise<Hypercore> {
  const core = s.get({ name: 'writer' })
  await core.ready()
  for (let i = 0; i < blocks; i++) await core.append(Buffer.from(`block ${i}`))
  return core
}

async function reader(s: Corestore, key: Buffer): Promise<Hypercore> {
  const core = s.get({ key })
  await core.ready()
  return core
}

test('a peer counts once it stored the prefix; one copy is this node alone', async (t) => {
  const [sa, sb] = [await store(t, 'a'), await store(t, 'b')]
  const a = await writer(sa, 3)
  const b = await reader(sb, a.key)
  const kb = crypto.keyPair()
  t.teardown(connect(sa, sb, kb))
  await until('B connected for the core', () => a.peers.length === 1)

  const one = await waitForCopies(a, 3, { copies: 1, timeoutMs: 5000 })
  t.alike(
    { copies: one.copies, target: one.target, durable: one.durable, holders: one.holders },
    { copies: 1, target: 1, durable: true, holders: [] },
    'copies 1: held here, acknowledged at once'
  )

  const short = await waitForCopies(a, 3, { copies: 2, timeoutMs: 300 })
  t.is(short.durable, false, 'B has not downloaded anything: not durable')
  t.is(short.copies, 1)
  t.ok(short.waitedMs >= 250, `waited the whole timeout (${short.waitedMs} ms)`)

  const waiting = waitForCopies(a, 3, { copies: 2, timeoutMs: 10_000 })
  await b.download({ start: 0, end: 3 }).done()
  const two = await waiting
  t.is(two.durable, true, 'durable once B stored the three blocks')
  t.is(two.copies, 2)
  t.alike(two.holders, [hex(kb.publicKey)], 'B is named by the key it connected with')
  t.ok(two.waitedMs < 5000, `acknowledged in ${two.waitedMs} ms`)

  await a.append(Buffer.from('block 3'))
  const later = await waitForCopies(a, 4, { copies: 2, timeoutMs: 200 })
  t.is(later.copies, 1, 'a block B has not fetched is held by this node only')
  const earlier = await waitForCopies(a, 3, { copies: 2, timeoutMs: 0 })
  t.is(earlier.durable, true, 'the prefix B holds still counts two copies')
})

test('a node connected twice is one copy; a third copy needs a third node', async (t) => {
  const [sa, sb, sc] = [await store(t, 'a'), await store(t, 'b'), await store(t, 'c')]
  const a = await writer(sa, 2)
  const b = await reader(sb, a.key)
  const c = await reader(sc, a.key)
  const kb = crypto.keyPair()
  const kc = crypto.keyPair()
  t.teardown(connect(sa, sb, kb))
  t.teardown(connect(sa, sb, kb))
  await until('B connected twice', () => a.peers.length === 2)
  await b.download({ start: 0, end: 2 }).done()
  await until('both streams report B', () => a.peers.every((p) => p.remoteContiguousLength >= 2))
  t.alike(holdersOf(a.peers, 2), [hex(kb.publicKey)], 'two streams, one holder')

  const two = await waitForCopies(a, 2, { copies: 3, timeoutMs: 300 })
  t.alike([two.copies, two.durable], [2, false], 'this node and B: two copies, not three')

  t.teardown(connect(sa, sc, kc))
  const waiting = waitForCopies(a, 2, { copies: 3, timeoutMs: 10_000 })
  await c.download({ start: 0, end: 2 }).done()
  const three = await waiting
  t.alike([three.copies, three.durable], [3, true], 'C stored it: three copies (seen by the poll)')
  t.alike(three.holders, [hex(kb.publicKey), hex(kc.publicKey)].sort())
})

test('a holder that disconnects during a wait still counts; the tracker remembers it offline', async (t) => {
  const [sa, sb, sc] = [await store(t, 'a'), await store(t, 'b'), await store(t, 'c')]
  const a = await writer(sa, 5)
  const b = await reader(sb, a.key)
  const c = await reader(sc, a.key)
  const kb = crypto.keyPair()
  const kc = crypto.keyPair()
  const cutB = connect(sa, sb, kb)
  await until('B connected', () => a.peers.length === 1)

  const tracker = new CopiesTracker()
  const waiting = waitForCopies(a, 5, { copies: 3, timeoutMs: 15_000 })
  await b.download({ start: 0, end: 5 }).done()
  await until('A hears that B has it', () => holdersOf(a.peers, 5).length === 1)
  tracker.observe(hex(a.key), a.peers)
  cutB()
  await until('B gone', () => a.peers.length === 0)
  tracker.observe(hex(a.key), a.peers)

  t.teardown(connect(sa, sc, kc))
  await c.download({ start: 0, end: 5 }).done()
  const r = await waiting
  t.is(r.durable, true, 'B (gone) and C (connected) make three copies with this node')
  t.alike(r.holders, [hex(kb.publicKey), hex(kc.publicKey)].sort())

  const known = tracker.holders(hex(a.key), 5)
  t.is(known.length, 1)
  t.alike(
    { publicKey: known[0]!.publicKey, length: known[0]!.length, online: known[0]!.online },
    { publicKey: hex(kb.publicKey), length: 5, online: false },
    'the tracker keeps what B held, marked offline'
  )
  await a.append(Buffer.from('block 5'))
  t.alike(tracker.holders(hex(a.key), 6), [], 'B does not count for blocks it never had')
  tracker.observe(hex(a.key), a.peers)
  t.alike(
    tracker.holders(hex(a.key), 5).map((h) => [h.publicKey, h.online]),
    [
      [hex(kb.publicKey), false],
      [hex(kc.publicKey), true]
    ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    'C is seen connected'
  )
})

test('waiting gives up at once when aborted or when the core closes', async (t) => {
  const sa = await store(t, 'a')
  const a = await writer(sa, 1)
  const ac = new AbortController()
  const started = Date.now()
  const waiting = waitForCopies(a, 1, { copies: 2, timeoutMs: 60_000, signal: ac.signal })
  setTimeout(() => ac.abort(), 100)
  const r = await waiting
  t.is(r.durable, false)
  t.ok(Date.now() - started < 5000, 'the abort ended the wait')

  const session = a.session()
  await session.ready()
  const onClose = waitForCopies(session, 1, { copies: 2, timeoutMs: 60_000 })
  setTimeout(() => void session.close(), 100)
  t.is((await onClose).durable, false, 'a closing core ends the wait')
})

test("an autobase writer's entry: durable once a reader's autobase replicated the writer core", async (t) => {
  const encryptionKey = crypto.randomBytes(32)
  const [sa, sb] = [await store(t, 'base-a'), await store(t, 'base-b')]
  const open = async (s: Corestore, bootstrap: Buffer | null): Promise<SubstrateBase<Msg>> => {
    const base = await openBase<Msg>({
      store: s.namespace('test-base'),
      bootstrap,
      keyPair: crypto.keyPair(),
      encryptionKey,
      apply
    })
    t.teardown(() => base.close(), { order: -1 })
    return base
  }
  const a = await open(sa, null)
  const b = await open(sb, a.key)
  const length = await a.append({ type: 'put', key: 'k', value: 'v' })
  const alone = await waitForCopies(a.autobase.local, length, { copies: 2, timeoutMs: 0 })
  t.alike([alone.copies, alone.durable], [1, false], 'not connected: held here only')

  const waiting = waitForCopies(a.autobase.local, length, { copies: 2, timeoutMs: 15_000 })
  const kb = crypto.keyPair()
  t.teardown(connect(sa, sb, kb))
  const r = await waiting
  t.is(r.durable, true, `held by B's store once connected (${r.waitedMs} ms)`)
  t.alike(r.holders, [hex(kb.publicKey)])
  await b.until(async () => (await b.view.get('data/k')) !== null)
  t.pass("B's view has the entry")
})
