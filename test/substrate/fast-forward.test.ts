import test from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { openBase, waitForIndexer } from '../../src/kernel/substrate/index.js'
import { eventually, withTimeout } from '../../src/kernel/wait.js'
import { createTestnet } from '../helpers/testnet.js'
import { tmpDir } from '../helpers/tmp.js'
import {
  apply,
  createPeer,
  dump,
  hex,
  joinSwarm,
  leaveSwarm,
  type Msg,
  type Peer,
  reopenPeer
} from './helpers.js'

const ENTRIES = 300

test('a node that caught up by fast-forward reopens and reads its whole view offline', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'a', { encryptionKey, keyPair: crypto.keyPair(), ackIntervalMs: 500 })
  // one append each: the system core grows per applied node, and a fast-forward needs it well ahead
  for (let i = 0; i < ENTRIES; i++) await a.base.append({ type: 'put', key: `k${i}`, value: 'x'.repeat(200) })
  await a.base.until(() => a.base.view.core.signedLength === a.base.view.core.length)

  // B arrives late: far behind the signed view, so autobase fast-forwards it — most times. Whether
  // it does races with plain apply catching up (autobase queues the fast-forward when it sees the
  // signed length); a B that caught up by applying is set aside and a fresh one tries again.
  await joinSwarm(net, a, { server: true, client: false })
  let forwardedPeer: { peer: Peer; keyPair: ReturnType<typeof crypto.keyPair> } | null = null
  for (let attempt = 1; attempt <= 3 && forwardedPeer === null; attempt++) {
    const keyPair = crypto.keyPair()
    const peer = await createPeer(t, `b${attempt}`, { encryptionKey, bootstrap: a.base.key, keyPair })
    let forwarded = false
    peer.base.autobase.on('fast-forward', () => (forwarded = true))
    await joinSwarm(net, peer)
    await peer.base.until(async () => (await peer.base.view.get(`data/k${ENTRIES - 1}`)) !== null)
    if (forwarded) forwardedPeer = { peer, keyPair }
    else {
      t.comment(`attempt ${attempt}: B caught up by applying, not by a fast-forward`)
      await leaveSwarm(peer)
    }
  }
  if (forwardedPeer === null) return t.fail('B caught up by a fast-forward (in 3 fresh tries)')
  t.pass('B caught up by a fast-forward')
  const { peer: b, keyPair } = forwardedPeer
  // the node is done when everything it needs is local; a bounded wait, then it goes offline
  const complete = (): boolean =>
    b.base.view.core.contiguousLength === b.base.view.core.length &&
    b.base.autobase.core.contiguousLength === b.base.autobase.core.length
  await eventually('the cores complete', async () => complete(), 10_000, 50).catch(() => {})
  t.ok(complete(), "B holds every block of its system and view cores (the fast-forward's are fetched)")
  // apply never read A's entries before the fast-forward point, yet B keeps A's writer core in full
  const aWriter = (): { length: number; contiguousLength: number } | undefined =>
    b.base.heldWriters().find((w) => w.key.equals(a.base.localKey))
  await eventually(
    'A’s writer core is held',
    async () => (aWriter()?.contiguousLength ?? 0) >= ENTRIES,
    10_000,
    50
  ).catch(() => {})
  t.ok((aWriter()?.contiguousLength ?? 0) >= ENTRIES, "B holds every block of A's writer core")

  await leaveSwarm(b)
  await b.base.close()
  await b.store.close()
  // with no peer, a read of a block B lacks waits for good: 10 s is a hang
  const offline = await withTimeout(
    reopenPeer(t, b, { encryptionKey, bootstrap: a.base.key, keyPair }),
    10_000
  )
  const view = await withTimeout(dump(offline), 10_000)
  t.alike(view, await dump(a), "B's view, read offline, is A's")
  // entries before the fast-forward point, which B's apply never read
  for (const length of [1, ENTRIES >> 1]) {
    const entry = await withTimeout(
      offline.base.entryAt(a.base.localKey, length, { timeoutMs: 1000 }),
      10_000
    )
    t.alike(
      entry,
      { type: 'put', key: `k${length - 1}`, value: 'x'.repeat(200) },
      `A's entry ${length}, read offline`
    )
  }
})

test('a node told the current system core fast-forwards to it at once and applies nothing of the signed log', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'a', { encryptionKey, keyPair: crypto.keyPair(), ackIntervalMs: 500 })
  const c = await createPeer(t, 'c', {
    encryptionKey,
    bootstrap: a.base.key,
    keyPair: crypto.keyPair(),
    ackIntervalMs: 500
  })
  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, c)
  const put = (i: number) => ({ type: 'put' as const, key: `k${i}`, value: 'x'.repeat(100) })
  for (let i = 0; i < 100; i++) await a.base.append(put(i))
  const first = Buffer.from(a.base.autobase.core.key)
  // a second indexer moves the system core to another key: a fresh node opening the base starts
  // from the first one and, unless told, learns the new key only by catching up through the first
  await a.base.append({ type: 'add', key: hex(c.base.localKey), indexer: true })
  await Promise.all([waitForIndexer(a.base), waitForIndexer(c.base)])
  for (let i = 100; i < 200; i++) await a.base.append(put(i))
  await a.base.until(() => a.base.view.core.signedLength === a.base.view.core.length)
  const system = Buffer.from(a.base.autobase.core.key)
  t.unlike(system, first, 'the system core moved when C became an indexer')

  const dir = await tmpDir(t, 'conclave-substrate-told-')
  const store = new Corestore(dir)
  let applied = 0
  const base = await openBase<Msg>({
    store: store.namespace('test-base'),
    encryptionKey,
    bootstrap: a.base.key,
    keyPair: crypto.keyPair(),
    fastForwardKey: system,
    apply: async (entry, view, host) => {
      applied++
      await apply(entry, view, host)
    }
  })
  const b: Peer = { name: 'b', dir, store, base, swarm: null, replicator: null }
  t.teardown(async () => {
    if (b.replicator) await b.replicator.close()
    await b.base.close()
    await b.store.close()
  })
  const forwardedTo: Buffer[] = []
  base.autobase.on('fast-forward', () => forwardedTo.push(Buffer.from(base.autobase.core.key)))
  await joinSwarm(net, b)
  await base.until(async () => (await base.view.get('data/k199')) !== null)
  t.alike(forwardedTo[0], system, 'its first fast-forward went to the current system core')
  t.is(applied, 0, 'it applied no entry: the signed view came whole')
  t.alike(await dump(b), await dump(a), 'its view is the signed view')
})
