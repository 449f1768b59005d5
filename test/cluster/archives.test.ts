import test from 'brittle'
import type { ArchiveRecord } from '../../cluster/index.js'
import { appendRaw, codeOf, createAccount, openDevice } from './helpers.js'

const HEX = (c: string) => c.repeat(64)

test('archive records: the writing device, two access holders, one record per id; hostile entries are skipped', async (t) => {
  const acct = createAccount()
  const certs = [
    acct.certificate(0, 0, { indexer: true }),
    acct.certificate(1, 0, { indexer: false }),
    acct.certificate(2, 0, { indexer: false, roles: ['relay'] }),
    acct.certificate(3, 0, { indexer: false })
  ]
  const a = await openDevice(t, acct, { index: 0, name: 'a' })
  for (const c of certs) await a.cluster.certify(c)
  await a.cluster.revoke(acct.revocation(3))
  const id = (i: number) => acct.device(i).deviceId
  const record = (over: Partial<ArchiveRecord> = {}): ArchiveRecord => ({
    id: HEX('a'),
    conversationId: 'cnv_test',
    core: HEX('b'),
    blocks: 3,
    size: 9000,
    holders: [id(0), id(1)],
    index: 'ab'.repeat(100),
    createdAt: 1_700_000_000_000,
    by: id(0),
    ...over
  })

  t.is(
    await codeOf(a.cluster.recordArchive(record({ by: id(1) }))),
    'CLUSTER_ARCHIVE_NOT_OWN',
    'by another device'
  )
  t.is(
    await codeOf(a.cluster.recordArchive(record({ holders: [id(0), id(0)] }))),
    'CLUSTER_ARCHIVE_HOLDER',
    'the same holder twice'
  )
  t.is(
    await codeOf(a.cluster.recordArchive(record({ holders: [id(0), id(2)] }))),
    'CLUSTER_ARCHIVE_HOLDER',
    'a relay-only device holds no keys'
  )
  t.is(
    await codeOf(a.cluster.recordArchive(record({ holders: [id(0), id(3)] }))),
    'CLUSTER_ARCHIVE_HOLDER',
    'a revoked device'
  )
  t.is(
    await codeOf(a.cluster.recordArchive(record({ holders: [id(0), 'dev_nobody'], friend: 'acc_nobody' }))),
    'CLUSTER_ARCHIVE_HOLDER',
    'a friend whose card is not stored'
  )
  t.is(await codeOf(a.cluster.recordArchive(record())), null, 'a good record')
  t.alike(await a.cluster.getArchive(HEX('a')), record(), 'stored as given')
  t.is(
    await codeOf(a.cluster.recordArchive(record({ core: HEX('c') }))),
    'CLUSTER_ARCHIVE_EXISTS',
    'one per id'
  )

  // written past the local checks: skipped in apply, identically everywhere
  const before = (await a.cluster.skipped()).length
  await appendRaw(a, {
    type: 'cluster/archive',
    v: 1,
    record: record({ id: HEX('d'), holders: [id(0), id(2)] })
  })
  await appendRaw(a, { type: 'cluster/archive', v: 1, record: { ...record({ id: HEX('e') }), extra: 1 } })
  await appendRaw(a, { type: 'cluster/archive', v: 1, record: record({ id: 'not-hex' }) })
  await a.cluster.base.update()
  const skipped = (await a.cluster.skipped()).slice(before).map((s) => s.code)
  t.alike(
    skipped,
    ['CLUSTER_ARCHIVE_HOLDER', 'CLUSTER_ENTRY_INVALID', 'CLUSTER_ENTRY_INVALID'],
    'skipped with codes'
  )
  t.alike(
    (await a.cluster.archives()).map((r) => r.id),
    [HEX('a')],
    'only the good record is listed'
  )
})
