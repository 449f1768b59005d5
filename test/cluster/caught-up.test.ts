import test from 'brittle'
import { eventually } from '../../src/kernel/wait.js'
import { linkNodes } from '../helpers/link.js'
import { createAccount, openDevice } from './helpers.js'

/**
 * A recovering device reads its newest epoch from a read-only probe of the
 * cluster log once the probe's view stops changing; it may stop waiting
 * early only when the probe holds all its peers have of every core.
 */
test('a probe of the cluster log is caught up only when a peer serves every core and it holds all they have', async (t) => {
  const acct = createAccount()
  const d0 = await openDevice(t, acct, { index: 0, name: 'd0' })
  for (const i of [1, 2, 3]) await d0.cluster.certify(acct.certificate(i, 0, { indexer: false }))
  // the probe: a writer key nobody certified, as recovery opens it
  const probe = await openDevice(t, acct, { index: 9, name: 'probe' })
  t.absent(probe.cluster.base.caughtUp(), 'no peer yet: not caught up')

  const cut = linkNodes(
    { store: d0.store, base: d0.cluster.base },
    { store: probe.store, base: probe.cluster.base }
  )
  await probe.cluster.base.until(async () => (await probe.cluster.getDevice('3')) !== null)
  await eventually('the probe catches up', async () => probe.cluster.base.caughtUp(), 30_000, 50)
  const system = probe.cluster.base.autobase.core
  t.ok(system.peers.length > 0, 'the system core has a peer')
  t.ok(
    system.peers.every((p) => p.remoteLength <= system.contiguousLength),
    'and holds all that peer has of it'
  )
  t.ok(probe.cluster.base.caughtUp(), 'caught up once it holds the log')

  cut()
  await eventually(
    'the peer leaves',
    async () => probe.cluster.base.autobase.core.peers.length === 0,
    30_000,
    50
  )
  t.absent(probe.cluster.base.caughtUp(), 'its peer gone: no longer caught up')
})
