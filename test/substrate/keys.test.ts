import test from 'brittle'
import crypto from 'hypercore-crypto'
import { isConclaveError } from '../../src/kernel/errors.js'
import Corestore from 'corestore'
import { coreKeyFor, discoveryKeyFor, openBase, waitForWriter } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import {
  apply,
  converged,
  createPeer,
  dump,
  hex,
  joinSwarm,
  leaveSwarm,
  type Msg,
  reopenPeer
} from './helpers.js'

test('a chosen key pair is the local writer, and with no bootstrap it makes the base key', async (t) => {
  const encryptionKey = crypto.randomBytes(32)
  const kp = crypto.keyPair()
  const expected = coreKeyFor(kp.publicKey)
  t.not(hex(expected), hex(kp.publicKey), 'hypercore 11 keys are manifest hashes, not the public key')

  const a = await createPeer(t, 'keys-a', { encryptionKey, keyPair: kp })
  t.is(hex(a.base.localKey), hex(expected), 'local writer key = coreKeyFor(publicKey)')
  t.is(hex(a.base.key), hex(expected), 'base (bootstrap) key = coreKeyFor(publicKey)')
  t.is(hex(a.base.discoveryKey), hex(discoveryKeyFor(expected)), 'discovery key follows')
  const signer = a.base.autobase.local.manifest?.signers[0]
  t.is(
    signer && hex(signer.publicKey),
    hex(kp.publicKey),
    'the local core is signed by the chosen public key'
  )
  t.ok(a.base.writable, 'the bootstrap writer can write')

  // the seed alone must find the base again: a fresh, empty store with the same pair gives the same key
  const fresh = await createPeer(t, 'keys-fresh', {
    encryptionKey,
    keyPair: kp
  })
  t.is(hex(fresh.base.key), hex(expected), 'an empty store with the same key pair derives the same base key')

  await a.base.append({ type: 'put', key: 'x', value: 1 })
  await a.base.close()
  await a.store.close()
  const reopened = await reopenPeer(t, a, { encryptionKey, keyPair: kp })
  t.is(hex(reopened.base.key), hex(expected), 'reopening with the key pair keeps the key')
  t.ok(await reopened.base.view.get('data/x'), 'and the data')
})

test('writer epochs: rotate in place, refuse the old pair on reopen, recover into an empty folder', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const kA = crypto.keyPair()
  const kB0 = crypto.keyPair()
  const kB1 = crypto.keyPair()
  const kB2 = crypto.keyPair()

  const a = await createPeer(t, 'epoch-a', { encryptionKey, keyPair: kA })
  const b0 = await createPeer(t, 'epoch-b', {
    encryptionKey,
    keyPair: kB0,
    bootstrap: a.base.key
  })
  t.is(hex(b0.base.key), hex(a.base.key), 'joins the bootstrap base')
  t.is(hex(b0.base.localKey), hex(coreKeyFor(kB0.publicKey)), 'epoch 0 writer = coreKeyFor(kB0)')
  t.absent(b0.base.writable, 'not a writer before it is added')

  await joinSwarm(net, a, { server: true, client: false })
  await joinSwarm(net, b0)
  await a.base.append({
    type: 'add',
    key: hex(b0.base.localKey),
    indexer: false
  })
  await waitForWriter(b0.base)
  await b0.base.append({ type: 'put', key: 'from-epoch-0', value: 0 })
  await converged([a, b0])

  // a new writer epoch in place: the old writer core stays, a new one takes over
  await b0.base.rotateWriter(kB1)
  t.is(hex(b0.base.localKey), hex(coreKeyFor(kB1.publicKey)), 'epoch 1 writer = coreKeyFor(kB1)')
  t.absent(b0.base.writable, 'the new epoch writer is not a writer yet')
  try {
    await b0.base.append({ type: 'put', key: 'too-early', value: 1 })
    t.fail('appended before being added')
  } catch (err) {
    t.ok(isConclaveError(err, 'SUBSTRATE_NOT_WRITABLE'), 'SUBSTRATE_NOT_WRITABLE before the add')
  }

  // reopening must use the new pair: the old one is refused
  await leaveSwarm(b0)
  await b0.base.close()
  await b0.store.close()
  const store = new Corestore(b0.dir)
  try {
    await openBase<Msg>({
      store: store.namespace('test-base'),
      apply,
      encryptionKey,
      keyPair: kB0,
      bootstrap: a.base.key
    })
    t.fail('reopened with the old writer key pair')
  } catch (err) {
    t.ok(
      isConclaveError(err, 'SUBSTRATE_WRITER_MISMATCH'),
      'reopening with another writer key pair is refused'
    )
  } finally {
    await store.close()
  }
  const b1 = await reopenPeer(t, b0, {
    encryptionKey,
    keyPair: kB1,
    bootstrap: a.base.key
  })
  t.is(hex(b1.base.localKey), hex(coreKeyFor(kB1.publicKey)), 'reopens on the epoch 1 writer')

  await joinSwarm(net, b1)
  await a.base.append({ type: 'remove', key: hex(coreKeyFor(kB0.publicKey)) })
  await a.base.append({
    type: 'add',
    key: hex(b1.base.localKey),
    indexer: false
  })
  await waitForWriter(b1.base)
  await b1.base.append({ type: 'put', key: 'from-epoch-1', value: 1 })
  await converged([a, b1], async () => (await b1.base.view.get('data/from-epoch-1')) !== null)
  const view = await dump(a)
  t.ok(view['"data/from-epoch-0"'], 'epoch 0 data stays readable')
  t.ok(view['"data/from-epoch-1"'], 'epoch 1 data arrives')
  t.absent(view[`"member/${hex(coreKeyFor(kB0.publicKey))}"`], 'epoch 0 writer is no longer a member')

  // recovery from the seed into an empty folder: a fresh store, the next epoch's pair
  await leaveSwarm(b1)
  const b2 = await createPeer(t, 'epoch-b2', {
    encryptionKey,
    keyPair: kB2,
    bootstrap: a.base.key
  })
  await joinSwarm(net, b2)
  await a.base.append({ type: 'remove', key: hex(b1.base.localKey) })
  await a.base.append({
    type: 'add',
    key: hex(b2.base.localKey),
    indexer: false
  })
  await waitForWriter(b2.base)
  await b2.base.append({ type: 'put', key: 'from-epoch-2', value: 2 })
  await converged([a, b2], async () => (await a.base.view.get('data/from-epoch-2')) !== null)
  const recovered = await dump(b2)
  t.ok(
    recovered['"data/from-epoch-0"'] && recovered['"data/from-epoch-1"'],
    'the recovered device reads all epochs'
  )
  t.ok(recovered['"data/from-epoch-2"'], 'and writes as epoch 2, final on both')
})
