import test from 'brittle'
import crypto from 'hypercore-crypto'
import { eventually, withTimeout } from '../../src/kernel/wait.js'
import { createTestnet } from '../helpers/testnet.js'
import { createPeer, dump, joinSwarm, leaveSwarm, type Peer, reopenPeer } from './helpers.js'

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
