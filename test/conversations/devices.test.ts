import test from 'brittle'
import { openConversationKey } from '../../conversations/index.js'
import { codeOf, conversationKey, converged, link, members, openNode, trio } from './helpers.js'

test('writers and indexers; a member adds its new device through the log; a revoked device is cut off', async (t) => {
  const { A, B, a0, a1, b0 } = await trio(t, (A, B) => ({
    topic: 'Team name',
    pattern: 'vote',
    consensus: { method: 'majority' },
    options: ['owls', 'foxes'],
    members: members(A, B)
  }))
  const flags = async (): Promise<Record<string, [boolean, boolean, boolean]>> => {
    const out: Record<string, [boolean, boolean, boolean]> = {}
    for (const m of (await b0.conv.show()).members) {
      for (const d of m.devices) out[d.deviceId] = [d.writer, d.indexer, d.revoked]
    }
    return out
  }
  t.alike(
    await flags(),
    {
      [A.device(0).deviceId]: [true, true, false],
      [A.device(1).deviceId]: [true, false, false],
      [B.device(0).deviceId]: [true, true, false]
    },
    "the creator's writer and B's always-on device index; A's phone only writes"
  )

  // the cluster certified A's device 2 (always-on too); A's phone adds it to the conversation
  const cert = A.certificate(2, { indexer: true })
  t.is(await codeOf(b0.conv.addDevice(cert)), 'CONV_NOT_MEMBER', "B cannot add A's device")
  await a1.conv.addDevice(cert)
  const deviceId = A.device(2).deviceId
  await b0.conv.base.until(async () => (await b0.conv.sealedKeyFor(deviceId)) !== null)
  t.is(await codeOf(a1.conv.addDevice(cert)), 'CONV_DEVICE_EXISTS', 'added once')
  // any node can hand the sealed key over; only device 2 opens it
  const sealed = (await b0.conv.sealedKeyFor(deviceId))!
  const to = { conversationId: a0.conv.id, deviceId }
  const key = openConversationKey(sealed, A.device(2).xwing.secretKey, to)
  t.alike(key, conversationKey('c1'), 'device 2 recovers the conversation key')
  t.is(
    await codeOf(Promise.resolve().then(() => openConversationKey(sealed, A.device(1).xwing.secretKey, to))),
    'CRYPTO_DECRYPT_FAILED',
    'another device cannot open it'
  )

  const a2 = await openNode(t, 'a2', A, 2, { encryptionKey: key, tag: 'c1', bootstrap: a0.conv.key })
  const cuts = [link(a2, a0), link(a2, b0)]
  t.teardown(() => cuts.forEach((c) => c()), { order: -1 })
  await a2.conv.base.until(async () => (await a2.conv.sealedKeyFor(deviceId)) !== null)
  t.is(await codeOf(a2.conv.post('ballot', { choice: 'owls' })), 'CONV_NOT_WRITABLE', 'no writer yet')
  await b0.conv.addWriter(a2.conv.writerRequest())
  await a2.conv.base.until(() => a2.conv.writable)
  t.alike(
    (await flags())[deviceId],
    [true, false, false],
    'A already has an indexer: the new device only writes'
  )
  await b0.conv.addWriter(a2.conv.writerRequest())
  t.pass('the same request relayed twice changes nothing')

  // A's root revokes the phone; any writer relays the revocation
  await b0.conv.revokeDevice(A.accountId, A.revocation(1))
  await a1.conv.base.until(() => !a1.conv.writable)
  t.is(
    await codeOf(a1.conv.post('ballot', { choice: 'foxes' })),
    'CONV_NOT_WRITABLE',
    'the revoked phone cannot append'
  )
  t.is(
    await codeOf(b0.conv.revokeDevice(A.accountId, A.revocation(1))),
    'CONV_DEVICE_REVOKED',
    'revoked once'
  )

  await a2.conv.post('ballot', { choice: 'owls' })
  await b0.conv.post('ballot', { choice: 'owls' })
  const nodes = [a0, a1, a2, b0]
  await converged(nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')
  for (const n of nodes) t.alike((await n.conv.show()).outcome?.winners, ['owls'], `${n.name}: owls`)
  t.alike(
    (await flags())[A.device(1).deviceId],
    [false, false, true],
    'the phone is revoked and has no writer'
  )
  t.alike(await b0.conv.skipped(), [], 'nothing skipped')
})
