import test from 'brittle'
import crypto from 'hypercore-crypto'
import { isConclaveError } from '../../src/kernel/errors.js'
import { waitForIndexer, waitForWriter } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import { converged, createPeer, dump, hex, joinSwarm, leaveSwarm } from './helpers.js'

test("a removed writer's later entries are not applied anywhere, its earlier ones stay", async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'rm-a', {
    encryptionKey,
    keyPair: crypto.keyPair()
  })
  const b = await createPeer(t, 'rm-b', {
    encryptionKey,
    bootstrap: a.base.key
  })
  const c = await createPeer(t, 'rm-c', {
    encryptionKey,
    bootstrap: a.base.key
  })
  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, b)
  await joinSwarm(net, c)
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
  await Promise.all([waitForWriter(b.base), waitForWriter(c.base), waitForIndexer(b.base)])
  await c.base.append({ type: 'put', key: 'c-before', value: 1 })
  await converged([a, b, c], async () => (await a.base.view.get('data/c-before')) !== null)

  // C is cut off, so it cannot learn of its removal before writing again
  await leaveSwarm(c)
  await a.base.append({ type: 'remove', key: hex(c.base.localKey) })
  t.ok(c.base.writable, 'C, partitioned, still believes it is a writer')
  await c.base.append({ type: 'put', key: 'c-late', value: 2 })
  t.ok(await c.base.view.get('data/c-late'), 'C applies its late entry locally (tentatively)')
  await a.base.append({ type: 'put', key: 'a-after', value: 3 })

  await joinSwarm(net, c)
  await c.base.until(() => !c.base.writable)
  t.pass('C learns it was removed')
  await converged([a, b, c], async () => (await c.base.view.get('data/a-after')) !== null)

  for (const p of [a, b, c]) {
    const view = await dump(p)
    t.ok(view['"data/c-before"'], `${p.name}: C's entry from before the removal stays`)
    t.absent(view['"data/c-late"'], `${p.name}: C's entry after the removal is not applied`)
    t.ok(view['"data/a-after"'], `${p.name}: later entries of others are`)
  }
  try {
    await c.base.append({ type: 'put', key: 'c-again', value: 4 })
    t.fail('a removed writer appended')
  } catch (err) {
    t.ok(isConclaveError(err, 'SUBSTRATE_NOT_WRITABLE'), 'C now gets SUBSTRATE_NOT_WRITABLE')
  }
})
