import test from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { isConclaveError } from '../../src/kernel/errors.js'
import { openBase } from '../../src/kernel/substrate/index.js'
import { tmpDir } from '../helpers/tmp.js'
import { apply, createPeer, type Msg } from './helpers.js'

test('one open base per corestore namespace', async (t) => {
  const store = new Corestore(await tmpDir(t))
  t.teardown(() => store.close())
  const encryptionKey = crypto.randomBytes(32)
  const first = await openBase<Msg>({ store: store.namespace('one'), encryptionKey, apply })
  try {
    await openBase<Msg>({ store: store.namespace('one'), encryptionKey, apply })
    t.fail('a second base opened on the same namespace')
  } catch (err) {
    t.ok(isConclaveError(err, 'SUBSTRATE_NAMESPACE_IN_USE'), 'SUBSTRATE_NAMESPACE_IN_USE')
  }
  const other = await openBase<Msg>({ store: store.namespace('two'), encryptionKey, apply })
  t.not(other.key.toString('hex'), first.key.toString('hex'), 'another namespace holds another base')
  await first.close()
  const again = await openBase<Msg>({ store: store.namespace('one'), encryptionKey, apply })
  t.is(again.key.toString('hex'), first.key.toString('hex'), 'the namespace is free again after close')
  await again.append({ type: 'put', key: 'x', value: 1 })
  t.ok(await again.view.get('data/x'), 'and the reopened base works')
  await again.close()
  await other.close()
  t.absent(store.closed, "closing a base leaves the caller's store open")
})

test('until resolves on a predicate and rejects on abort or close', async (t) => {
  const a = await createPeer(t, 'until', { encryptionKey: crypto.randomBytes(32), keyPair: crypto.keyPair() })
  const seen = a.base.until(async () => (await a.base.view.get('data/later')) !== null)
  await a.base.append({ type: 'put', key: 'later', value: 1 })
  await seen
  t.pass('resolves once the predicate holds')

  const controller = new AbortController()
  const aborted = a.base.until(() => false, { signal: controller.signal })
  controller.abort(new Error('stop waiting'))
  await t.exception(aborted, /stop waiting/, 'rejects with the abort reason')

  const closing = a.base.until(() => false)
  await a.base.close()
  try {
    await closing
    t.fail('resolved on close')
  } catch (err) {
    t.ok(isConclaveError(err, 'KERNEL_CLOSED'), 'rejects with KERNEL_CLOSED when the base closes')
  }
})
