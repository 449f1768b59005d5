/**
 * Fuzz suite, cluster apply (issue 10, part 3): three real devices of one
 * account (RocksDB corestores, one cluster base, replicating in-process).
 * Device 1 appends seeded mutations of real entries of that cluster —
 * certificates, a revocation, a friend's card, an address, an archive record —
 * straight to autobase, while device 2 keeps recording its address
 * (fuzz-apply-loop.ts). Device 0 is the indexer.
 */
import type { Test } from 'brittle'
import { issueCard } from '../../cluster/contact-card.js'
import { addressEntry, archiveEntry, certifyEntry, friendEntry, revokeEntry } from '../../cluster/entries.js'
import { hex } from '../../src/kernel/encoding.js'
import { waitForWriter } from '../../src/kernel/substrate/index.js'
import type { SubstrateBase } from '../../src/kernel/substrate/open-base.js'
import { type Account, createAccount, type DeviceNode, openDevice } from '../cluster/helpers.js'
import { linkNodes } from '../helpers/link.js'
import { type Figures, figures } from './figures.js'
import { type ApplyFuzzOptions, fuzzApply } from './fuzz-apply-loop.js'
import { withScope } from './scope.js'

/** Replicates two devices' stores in-process until the scope closes. */
function link(t: Test, a: DeviceNode, b: DeviceNode): void {
  const cut = linkNodes({ store: a.store, base: a.cluster.base }, { store: b.store, base: b.cluster.base })
  t.teardown(cut, { order: -1 })
}

/**
 * Real entries of this cluster. The certificate of a new device is not an
 * indexer and the revocation names that device: a valid certificate of an
 * indexer nobody runs would stall finality for good, a member's own doing
 * (docs/reliability.md, "Known findings"), not a fuzzed input.
 */
function realEntries(acct: Account, friend: Account, certs: ReturnType<Account['certificate']>[]): unknown[] {
  const d0 = acct.device(0).deviceId
  const card = issueCard(friend.root.signing, {
    type: 'contact-card',
    v: 1,
    accountId: friend.accountId,
    rootPublic: { ed25519: hex(friend.root.publicKey.ed25519), mldsa: hex(friend.root.publicKey.mldsa) },
    topic: hex(Buffer.alloc(32, 7)),
    devices: [friend.certificate(0, 0)],
    addresses: [{ deviceId: friend.device(0).deviceId, address: '127.0.0.1:4100' }],
    issuedAt: 1_700_000_000_000
  })
  return [
    ...certs.map((c) => certifyEntry(c)),
    certifyEntry(acct.certificate(3, 0, { indexer: false })),
    revokeEntry(acct.revocation(3)),
    friendEntry(card),
    addressEntry(d0, '127.0.0.1:4000', 1_700_000_000_000),
    archiveEntry({
      id: hex(Buffer.alloc(32, 1)),
      conversationId: hex(Buffer.alloc(32, 3)),
      core: hex(Buffer.alloc(32, 2)),
      blocks: 3,
      size: 1234,
      holders: [d0, acct.device(1).deviceId],
      index: 'ab'.repeat(40),
      createdAt: 1_700_000_000_000,
      by: d0
    })
  ]
}

export async function runClusterApplyFuzz(opts: ApplyFuzzOptions): Promise<Figures> {
  const started = Date.now()
  const f = figures('fuzz-cluster-apply', opts.seed)
  await withScope(async (t: Test, scope) => {
    const acct = createAccount()
    const friend = createAccount()
    const certs = [
      acct.certificate(0, 0, { indexer: true }),
      acct.certificate(1, 0, { indexer: false }),
      acct.certificate(2, 0, { indexer: false })
    ]
    const d0 = await openDevice(t, acct, { index: 0, name: 'd0', ackIntervalMs: 200 })
    for (const c of certs) await d0.cluster.certify(c)
    const d1 = await openDevice(t, acct, { index: 1, name: 'd1', ackIntervalMs: 200, trusted: certs })
    const d2 = await openDevice(t, acct, { index: 2, name: 'd2', ackIntervalMs: 200, trusted: certs })
    const nodes = [d0, d1, d2]
    for (let i = 0; i < nodes.length; i++)
      for (let j = i + 1; j < nodes.length; j++) link(t, nodes[i]!, nodes[j]!)
    await Promise.all([waitForWriter(d1.cluster.base), waitForWriter(d2.cluster.base)])
    const d2Id = acct.device(2).deviceId
    await fuzzApply(
      {
        bases: nodes.map((n) => n.cluster.base as SubstrateBase<unknown>),
        hostile: d1.cluster.base as SubstrateBase<unknown>,
        seeds: realEntries(acct, friend, certs),
        async honest(round) {
          await d2.cluster.setAddress(d2Id, `127.0.0.1:${4001 + (round % 60000)}`, 1_700_000_000_001 + round)
          return true
        },
        failures: () => scope.failures
      },
      opts,
      f
    )
  })
  f.ms = Date.now() - started
  return f
}
