import test from 'brittle'
import { certifyEntry, revokeEntry } from '../../cluster/entries.js'
import { hex } from '../../src/kernel/encoding.js'
import { createTestnet } from '../helpers/testnet.js'
import {
  appendBytes,
  appendRaw,
  codeOf,
  converged,
  createAccount,
  forgedCertificate,
  openDevice,
  twoDevices
} from './helpers.js'

test('hostile entries are skipped and recorded identically on every node', async (t) => {
  const net = await createTestnet(t)
  const acct = createAccount()
  const other = createAccount()

  const { a, b } = await twoDevices(t, net, acct)
  const before = await converged([a, b])
  const devicesBefore = await a.cluster.devices()

  // each hostile entry and the code apply must record for it
  const expected = new Map<string, string>()
  const good = acct.certificate(3, 0, { indexer: false })

  // a certificate "for us" signed by another account's root
  const forged = forgedCertificate(other, acct, 3)
  t.is(await codeOf(a.cluster.certify(forged)), 'CLUSTER_CERT_INVALID', 'certify refuses it before appending')
  expected.set(await appendRaw(a, certifyEntry(forged)), 'CLUSTER_CERT_INVALID')

  // only one half valid: our Ed25519 signature, an ML-DSA signature by another key
  const mixed = { cert: good.cert, sig: good.sig.slice(0, 128) + forged.sig.slice(128) }
  t.is(await codeOf(a.cluster.certify(mixed)), 'CLUSTER_CERT_INVALID', 'a half-valid signature is invalid')
  expected.set(await appendRaw(a, certifyEntry(mixed)), 'CLUSTER_CERT_INVALID')
  // and the other way round
  const mixed2 = { cert: good.cert, sig: forged.sig.slice(0, 128) + good.sig.slice(128) }
  expected.set(await appendRaw(a, certifyEntry(mixed2)), 'CLUSTER_CERT_INVALID')

  // one flipped bit in the body
  const tampered = { cert: { ...good.cert, indexer: true }, sig: good.sig }
  expected.set(await appendRaw(a, certifyEntry(tampered)), 'CLUSTER_CERT_INVALID')

  // not JSON, JSON of the wrong shape, unknown kinds and versions
  expected.set(await appendBytes(a, Buffer.from('{"type":"cluster/certify",')), 'SUBSTRATE_UNDECODABLE')
  expected.set(await appendRaw(a, 42), 'CLUSTER_ENTRY_INVALID')
  expected.set(await appendRaw(a, null), 'CLUSTER_ENTRY_INVALID')
  expected.set(await appendRaw(a, { type: 'cluster/certify', v: 1 }), 'CLUSTER_ENTRY_INVALID')
  expected.set(
    await appendRaw(a, { type: 'cluster/certify', v: 1, signed: good, extra: true }),
    'CLUSTER_ENTRY_INVALID'
  )
  expected.set(
    await appendRaw(a, { type: 'cluster/certify', v: 1, signed: 'garbage' }),
    'CLUSTER_CERT_INVALID'
  )
  expected.set(await appendRaw(a, { type: 'cluster/frobnicate', v: 1 }), 'CLUSTER_ENTRY_UNSUPPORTED')
  expected.set(
    await appendRaw(a, { type: 'cluster/certify', v: 2, signed: good }),
    'CLUSTER_ENTRY_UNSUPPORTED'
  )

  // A is the only indexer: revoking it would leave the log without one
  t.is(await codeOf(a.cluster.revoke(acct.revocation(0))), 'CLUSTER_LAST_INDEXER', 'revoke refuses locally')
  expected.set(await appendRaw(a, revokeEntry(acct.revocation(0))), 'CLUSTER_LAST_INDEXER')

  // from the certified device B: another account's certificate, validly signed by that account
  const foreign = other.certificate(5, 0, { indexer: false })
  t.is(await codeOf(b.cluster.certify(foreign)), 'CLUSTER_CERT_INVALID', 'another account is refused locally')
  expected.set(await appendRaw(b, certifyEntry(foreign)), 'CLUSTER_CERT_INVALID')

  // root-signed but contradicting the view
  const unknownRevocation = acct.revocation(9)
  t.is(
    await codeOf(b.cluster.revoke(unknownRevocation)),
    'CLUSTER_DEVICE_UNKNOWN',
    'unknown device refused locally'
  )
  expected.set(await appendRaw(b, revokeEntry(unknownRevocation)), 'CLUSTER_DEVICE_UNKNOWN')
  const reusedWriter = acct.certificate(3, 0, { indexer: false, writerKey: hex(acct.writer(1, 0).publicKey) })
  t.is(
    await codeOf(b.cluster.certify(reusedWriter)),
    'CLUSTER_CERT_CONFLICT',
    'a reused writer key is refused locally'
  )
  expected.set(await appendRaw(b, certifyEntry(reusedWriter)), 'CLUSTER_CERT_CONFLICT')
  const otherWriterSameEpoch = acct.certificate(1, 0, {
    indexer: false,
    writerKey: hex(acct.writer(1, 5).publicKey)
  })
  expected.set(await appendRaw(b, certifyEntry(otherWriterSameEpoch)), 'CLUSTER_CERT_CONFLICT')
  const promoted = acct.certificate(1, 0, { indexer: true })
  expected.set(await appendRaw(b, certifyEntry(promoted)), 'CLUSTER_CERT_CONFLICT')
  const stolenKeys = acct.certificate(4, 0, {
    indexer: false,
    deviceId: acct.device(1).deviceId,
    signingKey: hex(acct.device(1).signing.publicKey)
  })
  expected.set(await appendRaw(b, certifyEntry(stolenKeys)), 'CLUSTER_CERT_CONFLICT')
  const bootstrapAsPhone = acct.certificate(0, 0, { indexer: false })
  expected.set(await appendRaw(b, certifyEntry(bootstrapAsPhone)), 'CLUSTER_CERT_CONFLICT')

  const hash = await converged([a, b], async () => (await b.cluster.skipped()).length === expected.size)
  t.not(hash, before, 'the skip records changed the view')
  const skippedA = await a.cluster.skipped()
  const skippedB = await b.cluster.skipped()
  t.alike(skippedA, skippedB, 'both nodes recorded the same skips')
  t.alike(
    Object.fromEntries(skippedA.map((r) => [`${r.writer}:${r.length}`, r.code])),
    Object.fromEntries(expected),
    'each hostile entry is skipped with its code'
  )
  t.alike(await a.cluster.devices(), devicesBefore, 'the device list is untouched')
  t.alike(await b.cluster.devices(), devicesBefore, 'on both nodes')
  t.absent(a.cluster.base.lastError || b.cluster.base.lastError, 'no base failed')

  // the log still works after all that
  await b.cluster.certify(good)
  await converged([a, b], async () => (await a.cluster.getDevice('3')) !== null)
  t.pass('a valid certificate after the hostile ones is applied everywhere')
})

test('the author check: a retired writer that autobase could not remove is refused by apply', async (t) => {
  const acct = createAccount()
  const a = await openDevice(t, acct, { index: 0, name: 'solo' })
  await a.cluster.certify(acct.certificate(0, 0, { indexer: true }))
  // device 0 moves to epoch 1 while its epoch-0 writer (the bootstrap) is the only indexer
  await a.cluster.certify(acct.certificate(0, 1, { indexer: true }))
  const rec = await a.cluster.getDevice('0')
  t.is(rec?.epoch, 1, 'device 0 is at epoch 1')
  const old = await a.cluster.base.view.get(`writer/${hex(a.cluster.base.localKey)}`)
  t.alike(
    old?.value,
    { device: 0, epoch: 0, indexer: true, state: 'retired', removed: false },
    'the old writer is retired, not removed'
  )
  t.ok(a.cluster.writable, 'autobase still lets the old core append')

  const late = acct.certificate(1, 0, { indexer: false })
  t.is(await codeOf(a.cluster.certify(late)), 'CLUSTER_NOT_MEMBER', 'certify refuses it locally')
  const name = await appendRaw(a, certifyEntry(late))
  const skipped = await a.cluster.skipped()
  t.alike(
    skipped.map((r) => [`${r.writer}:${r.length}`, r.code]),
    [[name, 'CLUSTER_NOT_MEMBER']],
    'apply skips what it appends with CLUSTER_NOT_MEMBER'
  )
  t.is(await a.cluster.getDevice('1'), null, 'and the device is not admitted')
})
