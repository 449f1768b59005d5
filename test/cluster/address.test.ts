import test from 'brittle'
import { addressEntry } from '../../cluster/entries.js'
import { createTestnet } from '../helpers/testnet.js'
import { appendRaw, codeOf, converged, createAccount, twoDevices } from './helpers.js'

test('cluster/address: a device writes its own address, newer wins, and bad entries are skipped alike on every node', async (t) => {
  const net = await createTestnet(t)
  const acct = createAccount()
  const idA = acct.device(0).deviceId
  const idB = acct.device(1).deviceId

  const { a, b } = await twoDevices(t, net, acct)

  await a.cluster.setAddress(idA, '192.0.2.10:40000', 1_000)
  t.alike(
    await a.cluster.getAddress(idA),
    { deviceId: idA, address: '192.0.2.10:40000', at: 1_000 },
    'the own address is in the view at once'
  )
  await b.cluster.setAddress(idB, 'abcdefghijklmnop.onion:7000', 500)
  await a.cluster.setAddress(idA, '[2001:db8::7]:40001', 2_000)
  await converged([a, b], async () => (await a.cluster.addresses()).length === 2)
  t.alike(await b.cluster.addresses(), await a.cluster.addresses(), 'both nodes hold the same address book')
  t.is(
    (await b.cluster.getAddress(idA))?.address,
    '[2001:db8::7]:40001',
    'the newer address replaced the older'
  )
  t.is(
    (await a.cluster.getAddress(idB))?.address,
    'abcdefghijklmnop.onion:7000',
    'an onion name is an address'
  )

  const expected = new Map<string, string>()
  // refused locally with the code apply records, then appended raw to see apply skip it
  t.is(
    await codeOf(a.cluster.setAddress(idB, '198.51.100.1:1', 9_000)),
    'CLUSTER_ADDRESS_NOT_OWN',
    "a device cannot write another device's address"
  )
  expected.set(await appendRaw(a, addressEntry(idB, '198.51.100.1:1', 9_000)), 'CLUSTER_ADDRESS_NOT_OWN')
  t.is(
    await codeOf(a.cluster.setAddress(idA, '192.0.2.10:40000', 2_000)),
    'CLUSTER_ADDRESS_STALE',
    'an address not newer than the recorded one is refused'
  )
  expected.set(await appendRaw(a, addressEntry(idA, '192.0.2.10:40000', 1_500)), 'CLUSTER_ADDRESS_STALE')
  t.is(
    await codeOf(b.cluster.setAddress('dev_nobody', '192.0.2.1:1', 9_000)),
    'CLUSTER_DEVICE_UNKNOWN',
    'an unknown device'
  )
  expected.set(await appendRaw(b, addressEntry('dev_nobody', '192.0.2.1:1', 9_000)), 'CLUSTER_DEVICE_UNKNOWN')
  for (const bad of ['192.0.2.1', '192.0.2.1:0', '192.0.2.1:065536', '1.2.3:80', 'a b:1', '[::1:80', '']) {
    t.is(
      await codeOf(b.cluster.setAddress(idB, bad, 9_000)),
      'CLUSTER_ENTRY_INVALID',
      `"${bad}" is malformed`
    )
    expected.set(await appendRaw(b, addressEntry(idB, bad, 9_000)), 'CLUSTER_ENTRY_INVALID')
  }
  expected.set(
    await appendRaw(b, { ...addressEntry(idB, '192.0.2.1:1', 9_000), extra: 1 }),
    'CLUSTER_ENTRY_INVALID'
  )
  expected.set(await appendRaw(b, addressEntry(idB, '192.0.2.1:1', -5)), 'CLUSTER_ENTRY_INVALID')
  expected.set(await appendRaw(b, addressEntry(idB, '192.0.2.1:1', 1.5)), 'CLUSTER_ENTRY_INVALID')
  expected.set(
    await appendRaw(b, { type: 'cluster/address', v: 2, deviceId: idB }),
    'CLUSTER_ENTRY_UNSUPPORTED'
  )

  await converged([a, b], async () => (await b.cluster.skipped()).length === expected.size)
  const skippedA = await a.cluster.skipped()
  t.alike(skippedA, await b.cluster.skipped(), 'both nodes recorded the same skips')
  t.alike(
    Object.fromEntries(skippedA.map((r) => [`${r.writer}:${r.length}`, r.code])),
    Object.fromEntries(expected),
    'each bad entry is skipped with its code'
  )
  t.alike(
    (await a.cluster.addresses()).map((r) => [r.deviceId, r.address, r.at]).sort(),
    [
      [idA, '[2001:db8::7]:40001', 2_000],
      [idB, 'abcdefghijklmnop.onion:7000', 500]
    ].sort(),
    'the address book is untouched by them'
  )
  t.alike(await b.cluster.addresses(), await a.cluster.addresses(), 'on both nodes')
})
