import test from 'brittle'
import crypto from 'hypercore-crypto'
import { waitForWriter } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import { converged, createPeer, dump, hex, joinSwarm, type Msg } from './helpers.js'

// One writer batch reaches apply as one call, and its writes go to the view in
// one hyperbee batch. Entries of that call must still see each other's writes,
// a skipped entry's writes must vanish, and every node must end identical.
const batch: Msg[] = [
  { type: 'put', key: 'b-x', value: 1 },
  { type: 'copy', from: 'b-x', to: 'b-y' },
  { type: 'partial', key: 'b-x' },
  { type: 'copy', from: 'b-x', to: 'b-z' },
  { type: 'del', key: 'b-y' },
  { type: 'count', prefix: 'b-', to: 'first' },
  { type: 'put', key: 'b-x', value: 2 },
  { type: 'put', key: 'b-w', value: 3 },
  { type: 'count', prefix: 'b-', to: 'second' },
  { type: 'copy', from: 'b-x', to: 'b-v' }
]

test('the writes of one apply call reach the view once per key', async (t) => {
  const a = await createPeer(t, 'batch-solo', {
    encryptionKey: crypto.randomBytes(32),
    keyPair: crypto.keyPair()
  })
  await a.base.append({ type: 'put', key: 'before', value: 0 })
  const before = a.base.view.core.length
  await a.base.appendBatch(batch)
  // a sole indexer applies its own batch before append resolves
  t.ok(await a.base.view.get('count/second'), 'the batch is applied')
  // 10 entries made 9 writes (b-x twice, b-y put then deleted) and one skip record
  t.is(
    a.base.view.core.length - before,
    7,
    'one block per key the call left changed: b-w, b-x, b-z, b-v, 2 counts, 1 skip'
  )
})

test('entries of one apply call see each other, a skipped one leaves nothing, all nodes agree', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'batch-a', { encryptionKey, keyPair: crypto.keyPair() })
  const b = await createPeer(t, 'batch-b', { encryptionKey, bootstrap: a.base.key })
  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, b)
  await a.base.append({ type: 'add', key: hex(b.base.localKey), indexer: true })
  await waitForWriter(b.base)

  await b.base.appendBatch(batch)
  await a.base.appendBatch([
    { type: 'put', key: 'a-1', value: 'a' },
    { type: 'copy', from: 'a-1', to: 'a-2' }
  ])
  const peers = [a, b]
  const hash = await converged(peers, async () => {
    for (const p of peers)
      if (!(await p.base.view.get('data/a-2')) || !(await p.base.view.get('count/second'))) return false
    return true
  })

  for (const p of peers) {
    const view = await dump(p)
    const data = (k: string): unknown =>
      (view[JSON.stringify(`data/${k}`)] as { value: unknown } | undefined)?.value
    t.is(data('b-x'), 2, `${p.name}: the last write of a key wins`)
    t.is(data('b-y'), undefined, `${p.name}: a key put then deleted in the same call is gone`)
    t.is(data('b-z'), 1, `${p.name}: a read after a skipped entry does not see its write`)
    t.is(data('b-v'), 2, `${p.name}: a read sees the latest write of an earlier entry of the call`)
    t.alike(
      view['"count/first"'],
      ['data/b-x', 'data/b-z'],
      `${p.name}: a range read merges pending puts and deletes`
    )
    t.alike(
      view['"count/second"'],
      ['data/b-w', 'data/b-x', 'data/b-z'],
      `${p.name}: a later range read sees later puts, in key order`
    )
    t.is(data('a-2'), 'a', `${p.name}: the other writer's batch applied too`)
    const skipped = await p.base.skipped()
    t.alike(
      skipped.map((s) => [s.code, s.length]),
      [['TEST_HOSTILE', 3]],
      `${p.name}: the hostile entry is recorded by its position in the writer's log`
    )
    t.is((await p.base.viewHash()).toString('hex'), hash, `${p.name}: same view hash`)
  }
})
