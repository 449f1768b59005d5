import test from 'brittle'
import crypto from 'hypercore-crypto'
import { waitForWriter } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import { converged, createPeer, dump, hex, joinSwarm } from './helpers.js'

test('entries that make apply throw are skipped and recorded identically on every node', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'hostile-a', {
    encryptionKey,
    keyPair: crypto.keyPair()
  })
  const b = await createPeer(t, 'hostile-b', {
    encryptionKey,
    bootstrap: a.base.key
  })
  const m = await createPeer(t, 'hostile-m', {
    encryptionKey,
    bootstrap: a.base.key
  })
  const outsider = crypto.keyPair()
  const skipsSeen: string[] = []
  a.base.on('skip', (record: { code: string }) => skipsSeen.push(record.code))
  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, b)
  await joinSwarm(net, m)
  await a.base.append({
    type: 'add',
    key: hex(b.base.localKey),
    indexer: true
  })
  await a.base.append({
    type: 'add',
    key: hex(m.base.localKey),
    indexer: false
  })
  await Promise.all([waitForWriter(b.base), waitForWriter(m.base)])

  // M is a writer gone bad: raw bytes that are not JSON, shapes the handler chokes on
  await m.base.autobase.append(Buffer.from([0xff, 0x7b, 0x6e, 0x6f, 0x74]))
  // an empty block: M's own apply gets an empty buffer, every other node none; it must leave no trace anywhere
  await m.base.autobase.append(Buffer.alloc(0))
  await m.base.append({ type: 'boom' })
  await m.base.append({ type: 'partial', key: 'half-written' })
  await m.base.append({ type: 'add-then-throw', key: hex(outsider.publicKey) })
  await m.base.append({ type: 'nonsense' } as never)
  await m.base.append({ type: 'put', key: 'm-still-fine', value: 1 })
  await b.base.append({ type: 'put', key: 'b-fine', value: 2 })

  const peers = [a, b, m]
  const hash = await converged(peers, async () => {
    for (const p of peers)
      if (!(await p.base.view.get('data/m-still-fine')) || !(await p.base.view.get('data/b-fine')))
        return false
    return true
  })
  t.pass('no node crashed or stalled; all converged and final')

  const expected = [
    'SUBSTRATE_UNDECODABLE',
    'SUBSTRATE_APPLY_FAILED',
    'TEST_HOSTILE',
    'TEST_HOSTILE',
    'TEST_UNKNOWN_TYPE'
  ]
  for (const p of peers) {
    const skipped = await p.base.skipped()
    t.alike(
      skipped.map((s) => s.code),
      expected,
      `${p.name}: the five hostile entries are recorded, in writer order, with codes only`
    )
    t.ok(
      skipped.every((s) => s.writer === hex(m.base.localKey)),
      `${p.name}: each record names the author`
    )
    t.is((await p.base.viewHash()).toString('hex'), hash, `${p.name}: same view hash`)
    const view = await dump(p)
    t.absent(view['"data/half-written"'], `${p.name}: a partial write of a rejected entry leaves no trace`)
    const system = p.base.autobase.system!
    t.absent(await system.get(outsider.publicKey), `${p.name}: nor does the writer add it asked for`)
    t.ok(await system.get(m.base.localKey), `${p.name}: (control: the writer set is readable and has M)`)
  }
  t.ok(
    skipsSeen.length >= expected.length,
    `the local 'skip' event fired (${skipsSeen.length} times, re-applies included)`
  )
  t.ok(a.base.lastError === null && b.base.lastError === null && m.base.lastError === null, 'no base faulted')
})

test('removing the last indexer is refused as a recorded skip, not a crash', async (t) => {
  const a = await createPeer(t, 'last-indexer', {
    encryptionKey: crypto.randomBytes(32),
    keyPair: crypto.keyPair()
  })
  await a.base.append({ type: 'remove', key: hex(a.base.localKey) })
  await a.base.append({ type: 'put', key: 'after', value: 1 })
  const skipped = await a.base.skipped()
  t.alike(
    skipped.map((s) => s.code),
    ['SUBSTRATE_MEMBERSHIP_REFUSED'],
    'recorded as SUBSTRATE_MEMBERSHIP_REFUSED'
  )
  t.ok(a.base.writable, 'the base keeps its writer')
  t.ok(await a.base.view.get('data/after'), 'and keeps applying')
})
