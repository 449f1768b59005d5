import test from 'brittle'
import crypto from 'hypercore-crypto'
import { isConclaveError } from '../../src/kernel/errors.js'
import { createPeer } from './helpers.js'

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return isConclaveError(err) ? err.code : `not a ConclaveError: ${String(err)}`
  }
}

test('entryAt reads an entry back by its name (writer, length) from the writer core', async (t) => {
  const a = await createPeer(t, 'a', { encryptionKey: crypto.randomBytes(32), keyPair: crypto.keyPair() })
  await a.base.appendBatch([
    { type: 'put', key: 'one', value: 1 },
    { type: 'put', key: 'two', value: { nested: [2] } }
  ])
  const length = await a.base.append({ type: 'put', key: 'three', value: 'x' })
  t.is(length, 3)
  t.alike(await a.base.entryAt(a.base.localKey, 2), { type: 'put', key: 'two', value: { nested: [2] } })
  t.alike(await a.base.entryAt(a.base.localKey, 3), { type: 'put', key: 'three', value: 'x' })
  // the stored block is encrypted: what comes back went through the writer encryption
  const raw = await a.store.get({ key: a.base.localKey }).get(2, { wait: false })
  t.ok(
    raw !== null && !(raw as Buffer).includes(Buffer.from('three')),
    'the block at rest is not the plain entry'
  )

  t.is(
    await codeOf(a.base.entryAt(a.base.localKey, 0)),
    'SUBSTRATE_ENTRY_UNAVAILABLE',
    'length 0 names no entry'
  )
  t.is(await codeOf(a.base.entryAt(a.base.localKey, 1.5)), 'SUBSTRATE_ENTRY_UNAVAILABLE', 'nor does 1.5')
  t.is(
    await codeOf(a.base.entryAt(crypto.randomBytes(32), 1, { timeoutMs: 200 })),
    'SUBSTRATE_ENTRY_UNAVAILABLE',
    'a core nobody serves: unavailable after the wait, no hang'
  )
  t.is(
    await codeOf(a.base.entryAt(a.base.localKey, 9, { timeoutMs: 200 })),
    'SUBSTRATE_ENTRY_UNAVAILABLE',
    'past the end of the own writer: unavailable'
  )
  // an ack (null node) is a block with no entry
  const ack = await a.base.autobase.append(null)
  t.is(
    await codeOf(a.base.entryAt(a.base.localKey, ack)),
    'SUBSTRATE_UNDECODABLE',
    'an ack block holds no entry'
  )
})
