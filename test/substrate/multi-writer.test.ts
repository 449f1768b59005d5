import test, { type Test } from 'brittle'
import crypto from 'hypercore-crypto'
import {
  finalityOf,
  isIndexed,
  waitForIndexed,
  waitForIndexer,
  waitForWriter
} from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import { converged, createPeer, dump, hex, joinSwarm, type Peer } from './helpers.js'

async function threeNodes(t: Test) {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'a', {
    encryptionKey,
    keyPair: crypto.keyPair(),
    ackIntervalMs: 1000
  })
  const b = await createPeer(t, 'b', {
    encryptionKey,
    bootstrap: a.base.key,
    keyPair: crypto.keyPair()
  })
  const c = await createPeer(t, 'c', {
    encryptionKey,
    bootstrap: a.base.key,
    keyPair: crypto.keyPair()
  })
  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, b)
  await joinSwarm(net, c)

  const started = Date.now()
  await a.base.append({
    type: 'add',
    key: hex(b.base.localKey),
    indexer: true
  })
  await a.base.append({
    type: 'add',
    key: hex(c.base.localKey),
    indexer: false
  })
  await Promise.all([waitForWriter(b.base), waitForWriter(c.base)])
  t.comment(`B and C writable after ${Date.now() - started} ms`)
  await Promise.all([waitForIndexer(a.base), waitForIndexer(b.base)])
  t.comment(`B an active indexer after ${Date.now() - started} ms`)
  return { net, a, b, c }
}

test('three writers in separate stores converge to the same view and view hash', async (t) => {
  const { a, b, c } = await threeNodes(t)
  t.ok(a.base.isIndexer && b.base.isIndexer, 'A and B are indexers')
  t.absent(c.base.isIndexer, 'C is a plain writer')

  await Promise.all([
    a.base.append({ type: 'put', key: 'from-a', value: 'a' }),
    b.base.append({ type: 'put', key: 'from-b', value: 'b' }),
    c.base.appendBatch([
      { type: 'put', key: 'from-c-1', value: 'c1' },
      { type: 'put', key: 'from-c-2', value: 'c2' }
    ])
  ])
  const peers: Peer[] = [a, b, c]
  const started = Date.now()
  const hash = await converged(peers, async () => {
    for (const p of peers)
      for (const k of ['from-a', 'from-b', 'from-c-2'])
        if (!(await p.base.view.get(`data/${k}`))) return false
    return true
  })
  t.comment(`converged and final on all three after ${Date.now() - started} ms`)

  const views = await Promise.all(peers.map(dump))
  t.alike(views[1], views[0], 'B has the same view as A')
  t.alike(views[2], views[0], 'C has the same view as A')
  t.is(Object.keys(views[0]!).filter((k) => k.startsWith('"data/')).length, 4, 'all four entries applied')
  for (const p of peers) t.is((await p.base.viewHash()).toString('hex'), hash, `${p.name}: same view hash`)
})

test('finality: an entry becomes indexed (signedLength covers it) on every node', async (t) => {
  const { a, b, c } = await threeNodes(t)
  await c.base.append({ type: 'put', key: 'decision', value: 'yes' })
  // Synchronously after the append: no indexer can have acked a block it has not received yet.
  const landed = c.base.view.core.length
  t.absent(isIndexed(c.base.view, landed), 'on the non-indexer writer the fresh entry is tentative')

  const started = Date.now()
  await Promise.all(
    [a, b].map((p) => p.base.until(async () => (await p.base.view.get('data/decision')) !== null))
  )
  t.comment(`visible on every node ${Date.now() - started} ms after the append`)
  for (const p of [a, b, c]) {
    const entry = await p.base.view.get('data/decision')
    await waitForIndexed(p.base, entry!.seq + 1)
    // re-read: a reorder before indexing could have moved it
    const final = await p.base.view.get('data/decision')
    t.is(
      finalityOf(p.base.view, final!.seq),
      'final',
      `${p.name}: final (view signedLength ${p.base.view.core.signedLength})`
    )
    t.ok(p.base.autobase.signedLength > 0, `${p.name}: system signedLength ${p.base.autobase.signedLength}`)
  }
  t.comment(`final on all three ${Date.now() - started} ms after the append (ackInterval 1000 ms)`)
  await converged([a, b, c])
  t.pass('and the views agree once final')
})
