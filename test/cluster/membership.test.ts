import test from 'brittle'
import { hex } from '../../src/kernel/encoding.js'
import { coreKeyFor, waitForWriter } from '../../src/kernel/substrate/index.js'
import { linkNodes } from '../helpers/link.js'
import { createTestnet } from '../helpers/testnet.js'
import { codeOf, converged, createAccount, joinSwarm, leaveSwarm, openDevice } from './helpers.js'

test('three devices converge on one membership view; a revoked device is cut off', async (t) => {
  const net = await createTestnet(t)
  const acct = createAccount()
  const certA = acct.certificate(0, 0, { indexer: true, name: 'pc' })
  const certB = acct.certificate(1, 0, { indexer: true, name: 'server' })
  const certC = acct.certificate(2, 0, { indexer: false, name: 'phone', roles: ['access'] })
  const keyOf = (i: number): Buffer => acct.device(i).signing.publicKey

  const a = await openDevice(t, acct, { index: 0, name: 'a' })
  t.is(
    hex(a.cluster.base.key),
    hex(coreKeyFor(acct.cluster.bootstrap.publicKey)),
    'base key = coreKeyFor(writer 0,0)'
  )
  t.ok(a.cluster.writable, 'the bootstrap writer can append before any certificate')
  t.is(await a.cluster.nextDeviceIndex(), 1, 'index 0 is the bootstrap device even before genesis')
  await a.cluster.certify(certA)
  t.ok(
    a.cluster.isMemberSigningKey(keyOf(0)),
    'genesis: device 0 certified itself through the bootstrap writer'
  )
  await a.cluster.certify(certB)
  await a.cluster.certify(certC)
  t.is(await a.cluster.nextDeviceIndex(), 3)
  t.ok(a.cluster.isMemberSigningKey(keyOf(2)), 'the firewall cache follows certify at once')
  t.absent(a.cluster.isMemberSigningKey(acct.device(3).signing.publicKey), 'an uncertified key does not pass')

  // B and C start empty: the certificates a pairing package carries let them admit their peers
  const trusted = [certA, certB, certC]
  const b = await openDevice(t, acct, { index: 1, name: 'b', trusted })
  const c = await openDevice(t, acct, { index: 2, name: 'c', trusted })
  t.absent(b.cluster.writable, 'B cannot write before its certificate reaches it')
  t.is(await codeOf(b.cluster.certify(certC)), 'CLUSTER_NOT_WRITABLE', 'and certify says so')
  t.ok(b.cluster.isMemberSigningKey(keyOf(0)), 'B admits A from the trusted certificate')

  await joinSwarm(net, a, acct, { server: true, client: false })
  await joinSwarm(net, b, acct)
  await joinSwarm(net, c, acct)
  await Promise.all([waitForWriter(b.cluster.base), waitForWriter(c.cluster.base)])
  await converged([a, b, c])

  const listA = await a.cluster.devices()
  t.alike(
    listA.map((d) => [d.device, d.name, d.indexer, d.revoked]),
    [
      [0, 'pc', true, false],
      [1, 'server', true, false],
      [2, 'phone', false, false]
    ],
    'A lists all three devices in index order'
  )
  t.is(
    listA[1]!.writerCoreKey,
    hex(coreKeyFor(acct.writer(1, 0).publicKey)),
    'writerCoreKey = coreKeyFor(writerKey)'
  )
  t.is(
    listA[0]!.writerKey,
    hex(acct.cluster.bootstrap.publicKey),
    "device 0's epoch-0 writer is the bootstrap"
  )
  for (const n of [b, c]) t.alike(await n.cluster.devices(), listA, `${n.name} lists the same devices`)
  t.alike(await c.cluster.getDevice(acct.device(1).deviceId), listA[1], 'getDevice by device id')
  t.alike(await c.cluster.getDevice('1'), listA[1], 'getDevice by index')
  t.is(await c.cluster.getDevice('7'), null, 'an unknown index is null')
  t.alike(c.cluster.deviceBySigningKey(keyOf(1)), listA[1], 'deviceBySigningKey reads the view cache')

  // any certified device may append what the root signed
  await c.cluster.certify(acct.certificate(2, 0, { indexer: false, name: 'old phone', roles: ['access'] }))
  await converged([a, b, c], async () => (await a.cluster.getDevice('2'))?.name === 'old phone')
  t.pass('a metadata update appended by the non-indexer C reached every node')
  t.alike(await a.cluster.skipped(), [], 'nothing was skipped')

  // C is partitioned, then revoked; what it writes in the meantime must not count anywhere
  await leaveSwarm(c)
  await b.cluster.revoke(acct.revocation(2, { reason: 'lost' }))
  await converged([a, b], async () => (await a.cluster.getDevice('2'))?.revoked === true)
  for (const n of [a, b]) {
    const rec = await n.cluster.getDevice('2')
    t.ok(rec?.revoked && rec.revokedAt !== null, `${n.name}: C is revoked`)
    t.absent(
      n.cluster.isMemberSigningKey(keyOf(2)),
      `${n.name}: C's signing key no longer passes the firewall`
    )
    const member = await n.cluster.base.autobase.system?.get(coreKeyFor(acct.writer(2, 0).publicKey))
    t.ok(member?.isRemoved, `${n.name}: C's writer is removed from autobase`)
  }
  t.is(
    await codeOf(a.cluster.revoke(acct.revocation(2))),
    'CLUSTER_DEVICE_REVOKED',
    'revoking it again is refused locally'
  )
  t.is(
    await codeOf(a.cluster.certify(acct.certificate(2, 1, { indexer: false }))),
    'CLUSTER_DEVICE_REVOKED',
    'a revoked device cannot be certified again, not even at a new epoch'
  )

  t.ok(c.cluster.writable, 'C, partitioned, still believes it is a writer')
  await c.cluster.certify(acct.certificate(3, 0, { indexer: false, name: 'smuggled' }))
  t.ok(await c.cluster.getDevice('3'), 'C applies its late entry locally (tentatively)')

  // the firewall now keeps C out; connect its store to B directly, as a hostile relay could
  t.teardown(linkNodes({ store: b.store, base: b.cluster.base }, { store: c.store, base: c.cluster.base }))
  await c.cluster.base.until(() => !c.cluster.writable)
  t.pass('C learns it was removed')
  await converged([b, c])
  for (const n of [a, b, c]) {
    t.is(await n.cluster.getDevice('3'), null, `${n.name}: C's entry after its revocation is not applied`)
  }
  t.is(
    await codeOf(c.cluster.certify(acct.certificate(4, 0, { indexer: false }))),
    'CLUSTER_NOT_WRITABLE',
    'C can no longer append'
  )
})
