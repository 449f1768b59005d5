import test from 'brittle'
import { hex } from '../../src/kernel/encoding.js'
import { coreKeyFor, waitForIndexer } from '../../src/kernel/substrate/index.js'
import { finalityBlocker } from '../../src/node/recover.js'
import { createTestnet } from '../helpers/testnet.js'
import { converged, createAccount, type DeviceNode, joinSwarm, leaveSwarm, openDevice } from './helpers.js'

/**
 * docs/recovery.md, "When the view cannot become final": an indexer core
 * whose writer record is retired never acks again, and when the live
 * indexers are no majority of the view's indexer set, recovery does not wait
 * for a final view. Real cluster logs of two or three indexing devices on a
 * loopback testnet; device 0 then moves to epoch 1, which retires the
 * bootstrap core but keeps it among autobase's indexers.
 */
for (const n of [2, 3]) {
  test(
    `${n} indexers, the bootstrap core retired: ${n === 2 ? 'finality cannot come, and the reason says why' : 'the two live ones are a majority'}`,
    { timeout: 90_000 },
    async (t) => {
      const net = await createTestnet(t)
      const acct = createAccount()
      const devices = Array.from({ length: n }, (_, i) => i)
      const certs = devices.map((i) => acct.certificate(i, 0, { indexer: true }))
      const d0 = await openDevice(t, acct, { index: 0 })
      for (const c of certs) await d0.cluster.certify(c)
      const nodes: DeviceNode[] = [d0]
      for (const i of devices.slice(1)) nodes.push(await openDevice(t, acct, { index: i, trusted: certs }))
      await joinSwarm(net, d0, acct, { server: true, client: false })
      for (const node of nodes.slice(1)) await joinSwarm(net, node, acct)
      for (const node of nodes.slice(1)) {
        await waitForIndexer(node.cluster.base)
        // an indexer counts once the entry adding it is final and it has written: each writes once
        await node.cluster.certify(acct.certificate(10 + node.index, 0, { indexer: false }))
      }
      const indexers = () => d0.cluster.base.autobase.system?.indexers.map((i) => hex(i.key)) ?? []
      await converged(nodes, () => indexers().length === n)
      t.is(await finalityBlocker(d0.cluster), null, 'every indexer current: finality can come')

      await d0.cluster.certify(acct.certificate(0, 1, { indexer: true }))
      const boot = hex(coreKeyFor(acct.writer(0, 0).publicKey))
      t.ok(indexers().includes(boot), 'the retired bootstrap core stays an indexer')
      const record = (await d0.cluster.base.view.get(`writer/${boot}`))?.value as
        { state?: string } | undefined
      t.is(record?.state, 'retired', 'its writer record says retired')
      const reason = await finalityBlocker(d0.cluster)
      if (n === 2) {
        t.ok(
          reason !== null &&
            /1 of its 2 indexer cores \(device 0 epoch 0 \(retired\)\) no longer ack, and a majority \(2 of 2\) must/.test(
              reason
            ),
          `one live indexer of two is no majority: ${reason}`
        )
      } else {
        t.is(reason, null, 'two live indexers of three are a majority: finality can come')
        // device 0's old core no longer runs: a new entry is final with the two live indexers alone
        await converged(nodes, async () => (await nodes[1]!.cluster.getDevice('0'))?.epoch === 1, {
          final: false
        })
        await leaveSwarm(d0)
        await nodes[1]!.cluster.certify(acct.certificate(20, 0, { indexer: false, name: 'later' }))
        await converged(nodes.slice(1), async () => (await nodes[2]!.cluster.getDevice('20')) !== null)
        t.pass('and it does: an entry after the loss is final on the two live devices')
      }
    }
  )
}
