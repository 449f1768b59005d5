import test from 'brittle'
import crypto from 'hypercore-crypto'
import { isIndexed, waitForIndexed, waitForIndexer, waitForWriter } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import { createPeer, hex, joinSwarm, leaveSwarm, type Peer } from './helpers.js'

// ackInterval 250 ms: the nudge window is max(1 s, 4 × 250 ms) = 1 s.
const ACK_MS = 250

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function countNudges(peer: Peer): { count: number } {
  const seen = { count: 0 }
  peer.base.on('nudge', () => seen.count++)
  return seen
}

test('finality nudge: a single-indexer base is always final, so nothing is nudged', async (t) => {
  const a = await createPeer(t, 'a', { encryptionKey: crypto.randomBytes(32), ackIntervalMs: ACK_MS })
  const nudges = countNudges(a)
  await a.base.appendBatch([
    { type: 'put', key: 'one', value: 1 },
    { type: 'put', key: 'two', value: 2 }
  ])
  await waitForIndexed(a.base, a.base.view.core.length)
  await sleep(2500)
  t.is(nudges.count, 0, 'no nudge')
  // (autobase's own background ack may still add a null node here: that is not ours)
  t.ok(isIndexed(a.base.view, a.base.view.core.length), 'the view is fully signed')
})

test('finality nudge: a stuck state is nudged, then again after a doubling gap (an offline indexer)', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'a', { encryptionKey, keyPair: crypto.keyPair(), ackIntervalMs: ACK_MS })
  const b = await createPeer(t, 'b', {
    encryptionKey,
    bootstrap: a.base.key,
    keyPair: crypto.keyPair(),
    ackIntervalMs: ACK_MS
  })
  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, b)
  await a.base.append({ type: 'add', key: hex(b.base.localKey), indexer: true })
  await waitForWriter(b.base)
  await Promise.all([waitForIndexer(a.base), waitForIndexer(b.base)])
  await a.base.until(() => isIndexed(a.base.view, a.base.view.core.length))

  // With B gone, nothing A appends can become final (2 of 2 indexers needed): a real stuck tail.
  await leaveSwarm(b)
  const nudges = countNudges(a)
  const before = a.base.autobase.local.length
  await a.base.append({ type: 'put', key: 'stuck-1', value: 1 })
  const afterFirst = a.base.autobase.local.length
  await sleep(2500)
  t.absent(isIndexed(a.base.view, a.base.view.core.length), 'the tail is still tentative')
  t.is(nudges.count, 1, 'one nudge for the stuck state, not one per window')
  t.is(a.base.autobase.local.length, afterFirst + 1, 'exactly one null node appended')

  await a.base.append({ type: 'put', key: 'stuck-2', value: 2 })
  const afterSecond = a.base.autobase.local.length
  await sleep(2500)
  t.is(nudges.count, 2, 'a new stuck state gets one more nudge')
  t.is(a.base.autobase.local.length, afterSecond + 1, 'and one more null node')
  t.is(afterSecond, before + 3, 'two entries and one nudge before that')
  await sleep(3000)
  t.is(nudges.count, 3, 'the same stuck state is nudged again once the doubled gap (2 s) passed')
  t.ok(await a.base.view.get('data/stuck-2'), 'entries still apply on the tentative tail')
})
