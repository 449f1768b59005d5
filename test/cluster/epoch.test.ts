import test from 'brittle'
import { hex } from '../../src/kernel/encoding.js'
import { coreKeyFor, waitForWriter } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import {
  closeDevice,
  codeOf,
  converged,
  createAccount,
  joinSwarm,
  leaveSwarm,
  openDevice
} from './helpers.js'

test('writer epochs: a device re-certified at epoch 1 writes through its new writer, epoch 0 stays readable', async (t) => {
  const net = await createTestnet(t)
  const acct = createAccount()
  const certA = acct.certificate(0, 0, { indexer: true })
  const certB0 = acct.certificate(1, 0, { indexer: true, name: 'server' })
  const oldCore = coreKeyFor(acct.writer(1, 0).publicKey)
  const newCore = coreKeyFor(acct.writer(1, 1).publicKey)

  const a = await openDevice(t, acct, { index: 0, name: 'a' })
  await a.cluster.certify(certA)
  await a.cluster.certify(certB0)
  const b0 = await openDevice(t, acct, { index: 1, name: 'b-epoch0', trusted: [certA, certB0] })
  await joinSwarm(net, a, acct, { server: true, client: false })
  await joinSwarm(net, b0, acct)
  await waitForWriter(b0.cluster.base)

  // what B writes at epoch 0
  await b0.cluster.certify(acct.certificate(2, 0, { indexer: false, name: 'phone' }))
  await converged([a, b0], async () => (await a.cluster.getDevice('2')) !== null)

  // B loses its disk: the node recovers into a fresh store at the next epoch
  await leaveSwarm(b0)
  await closeDevice(b0)
  const certB1 = acct.certificate(1, 1, { indexer: true, name: 'server' })
  const b1 = await openDevice(t, acct, { index: 1, epoch: 1, name: 'b-epoch1', trusted: [certA, certB1] })
  t.is(hex(b1.cluster.base.localKey), hex(newCore), 'the fresh store writes through writer (1, 1)')
  t.absent(b1.cluster.writable, 'not a writer before its new certificate')
  await joinSwarm(net, b1, acct)
  await a.cluster.certify(certB1)

  const rec = await a.cluster.getDevice('1')
  t.is(rec?.epoch, 1, 'A records epoch 1')
  t.is(rec?.writerCoreKey, hex(newCore), 'with the new writer core')
  const oldWriter = await a.cluster.base.view.get(`writer/${hex(oldCore)}`)
  t.alike(
    oldWriter?.value,
    { device: 1, epoch: 0, indexer: true, state: 'retired', removed: true },
    'the epoch-0 writer is retired and removed'
  )
  t.ok(
    (await a.cluster.base.autobase.system?.get(oldCore))?.isRemoved,
    'autobase removed the old writer core'
  )
  t.is(
    await codeOf(a.cluster.certify(acct.certificate(1, 0, { indexer: true }))),
    'CLUSTER_CERT_CONFLICT',
    'an epoch-0 certificate cannot bring the old writer back'
  )

  await waitForWriter(b1.cluster.base)
  t.pass('the epoch-1 writer becomes writable')
  await b1.cluster.certify(acct.certificate(2, 0, { indexer: false, name: 'old phone' }))
  // B's epoch-0 writer was one of two indexers: the change of indexers needs its ack (a majority
  // of two is two), which a lost disk never gives, so this view stays tentative (docs/cluster.md)
  await converged([a, b1], async () => (await a.cluster.getDevice('2'))?.name === 'old phone', {
    final: false
  })
  t.pass("the epoch-1 writer's entry is applied on A, and B reads the same view")
  const devices = await b1.cluster.devices()
  t.alike(
    devices.map((d) => [d.device, d.epoch, d.name]),
    [
      [0, 0, null],
      [1, 1, 'server'],
      [2, 0, 'old phone']
    ],
    'the recovered device reads what epoch 0 wrote, and its own update'
  )
  t.alike(await b1.cluster.devices(), await a.cluster.devices(), 'both nodes agree')
  t.alike(await a.cluster.skipped(), [], 'nothing was skipped')
})
