import test from 'brittle'
import Corestore from 'corestore'
import { Cluster } from '../../cluster/cluster.js'
import { codeOf, createAccount, openDevice } from './helpers.js'

test('a restarted node rebuilds its membership cache from the view before anything syncs', async (t) => {
  const acct = createAccount()
  const a = await openDevice(t, acct, { index: 0, name: 'restart' })
  await a.cluster.certify(acct.certificate(0, 0, { indexer: true }))
  await a.cluster.certify(acct.certificate(1, 0, { indexer: false }))
  await a.cluster.revoke(acct.revocation(1))
  const before = await a.cluster.viewHash()
  await a.cluster.close()
  await a.store.close()

  const store = new Corestore(a.dir)
  const again = new Cluster(
    { store: store.namespace('cluster') },
    {
      accountId: acct.accountId,
      rootPublic: acct.root.publicKey,
      bootstrapPublicKey: acct.cluster.bootstrap.publicKey,
      writerKeyPair: acct.writer(0, 0),
      encryptionKey: acct.cluster.encryptionKey
    }
  )
  t.teardown(async () => {
    await again.close()
    await store.close()
  })
  let members = 0
  again.on('members', () => members++)
  await again.ready()
  t.ok(members >= 1, "ready() fills the cache and says so with 'members'")
  t.ok(again.isMemberSigningKey(acct.device(0).signing.publicKey), 'device 0 passes at once')
  t.absent(again.isMemberSigningKey(acct.device(1).signing.publicKey), 'the revoked device 1 does not')
  t.is(again.deviceBySigningKey(acct.device(1).signing.publicKey)?.revoked, true, 'but is known as revoked')
  t.alike(await again.viewHash(), before, 'the view is the one it left')
  t.is(await again.nextDeviceIndex(), 2, 'a revoked index is never handed out again')
  t.ok(again.writable, 'and it writes again through the same writer')
  t.is(
    await codeOf(again.certify(acct.certificate(1, 1, { indexer: false }))),
    'CLUSTER_DEVICE_REVOKED',
    'the revocation survived the restart'
  )

  const wrongAccount = createAccount()
  t.exception(
    () =>
      new Cluster(
        { store: store.namespace('other') },
        {
          accountId: wrongAccount.accountId,
          rootPublic: acct.root.publicKey,
          bootstrapPublicKey: acct.cluster.bootstrap.publicKey,
          writerKeyPair: acct.writer(0, 0),
          encryptionKey: acct.cluster.encryptionKey
        }
      ),
    /account id/,
    'root keys of another account are refused at construction'
  )
})
