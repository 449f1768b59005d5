import test from 'brittle'
import Autobase from 'autobase'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { isConclaveError } from '../../src/kernel/errors.js'
import { openBase } from '../../src/kernel/substrate/index.js'
import { tmpDir } from '../helpers/tmp.js'
import { apply, createPeer, type Msg, reopenPeer, scan } from './helpers.js'

const marker = () => `PLAINTEXT-MARKER-${crypto.randomBytes(8).toString('hex')}`

/** A bare autobase (no substrate) appending `text`, closed, so the scan has a baseline. */
async function bareAutobase(dir: string, text: string, encryptionKey: Buffer | null): Promise<void> {
  const store = new Corestore(dir)
  const base = new Autobase<null>(store.namespace('bare'), null, {
    valueEncoding: 'binary',
    ...(encryptionKey ? { encryptionKey } : {}),
    apply: async () => {}
  })
  await base.ready()
  await base.append(Buffer.from(JSON.stringify({ text })))
  await base.close()
  await store.close()
}

test('control: the scan finds plaintext entries and a plain-stored key', async (t) => {
  const text = marker()
  const plainDir = await tmpDir(t)
  await bareAutobase(plainDir, text, null)
  t.ok(
    (await scan(plainDir, { text: Buffer.from(text) })).text,
    'an unencrypted autobase leaves the entry readable on disk'
  )

  const key = crypto.randomBytes(32)
  const keyDir = await tmpDir(t)
  await bareAutobase(keyDir, marker(), key)
  t.ok((await scan(keyDir, { key })).key, 'encryptionKey without blindEncryption stores the raw key on disk')
})

test('encryption at rest: no entry plaintext, no raw encryption key, no wrap key on disk', async (t) => {
  const encryptionKey = crypto.randomBytes(32)
  const wrapKey = crypto.randomBytes(32)
  const text = marker()
  const a = await createPeer(t, 'enc', { encryptionKey, wrapKey })
  await a.base.append({ type: 'put', key: 'secret', value: text })
  await a.base.appendBatch([
    { type: 'put', key: 'more', value: `${text}-batch` },
    { type: 'put', key: 'again', value: `${text}-again` }
  ])
  t.is(
    ((await a.base.view.get('data/secret'))?.value as { value: string }).value,
    text,
    'readable through the base'
  )
  await a.base.close()
  await a.store.close()

  const hits = await scan(a.dir, {
    text: Buffer.from(text),
    encryptionKey,
    encryptionKeyHex: Buffer.from(encryptionKey.toString('hex')),
    wrapKey
  })
  t.alike(hits, {}, 'nothing sensitive found in any file under the store folder')

  const again = await reopenPeer(t, a, { encryptionKey, wrapKey })
  t.is(
    ((await again.base.view.get('data/secret'))?.value as { value: string }).value,
    text,
    'reopens and reads'
  )
  await again.base.append({ type: 'put', key: 'after', value: 1 })
  t.ok(await again.base.view.get('data/after'), 'still writable after reopen')
})

test('reopening with another encryption key or wrap key is refused', async (t) => {
  const encryptionKey = crypto.randomBytes(32)
  const wrapKey = crypto.randomBytes(32)
  const a = await createPeer(t, 'mismatch', { encryptionKey, wrapKey })
  await a.base.append({ type: 'put', key: 'x', value: 1 })
  await a.base.close()
  await a.store.close()

  for (const [what, opts] of [
    ['wrong wrap key', { encryptionKey, wrapKey: crypto.randomBytes(32) }],
    ['wrong encryption key', { encryptionKey: crypto.randomBytes(32), wrapKey }]
  ] as const) {
    const store = new Corestore(a.dir)
    try {
      await openBase<Msg>({
        store: store.namespace('test-base'),
        apply,
        ...opts
      })
      t.fail(`${what}: opened`)
    } catch (err) {
      t.ok(isConclaveError(err, 'SUBSTRATE_KEY_MISMATCH'), `${what}: SUBSTRATE_KEY_MISMATCH`)
    } finally {
      await store.close()
    }
  }

  const ok = await reopenPeer(t, a, { encryptionKey, wrapKey })
  t.ok(await ok.base.view.get('data/x'), 'the right keys still open it')
})
