/**
 * The crash suite's worker: a real Conversation on a RocksDB corestore in
 * `dir`. On start it opens the store, reads every message in the view and
 * reports them ({ type: 'opened', present }); then it posts `m<n>` messages
 * one after another and reports each once `post` resolved ({ type: 'ack', n }):
 * an acknowledged entry (docs/durability.md, copies 1). The parent kills it
 * with SIGKILL at any point. `stop` closes it cleanly. With `--lie` it
 * acknowledges every tenth entry without appending it (the suite's own check).
 *
 *   node dist/test/proof/crash-worker.js DIR [--lie]
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Corestore from 'corestore'
import { Conversation } from '../../conversations/index.js'
import { codeOf } from './figures.js'
import { account, conversationKey, writerFor } from '../conversations/helpers.js'

export type WorkerMessage =
  | { type: 'opened'; present: number[]; openMs: number }
  | { type: 'ack'; n: number }
  | { type: 'error'; code: string | null; message: string }

const TAG = 'crash'

function send(m: WorkerMessage): void {
  process.send?.(m)
}

async function main(dir: string, lie: boolean): Promise<void> {
  const started = Date.now()
  const A = account('alice')
  const d = A.device(0)
  const keyFile = join(dir, 'conversation.key')
  const bootstrap = existsSync(keyFile) ? Buffer.from(readFileSync(keyFile, 'utf8'), 'hex') : null
  const store = new Corestore(join(dir, 'store'))
  const conv = new Conversation(
    { store: store.namespace(`conv-${TAG}`) },
    {
      bootstrap,
      writerKeyPair: writerFor(A, 0, TAG),
      encryptionKey: conversationKey(TAG),
      device: { accountId: A.accountId, deviceId: d.deviceId, signingKeyPair: d.signing }
    }
  )
  conv.on('fault', (err: Error) => send({ type: 'error', code: codeOf(err), message: err.message }))
  await conv.ready()
  if (!bootstrap) {
    writeFileSync(`${keyFile}.tmp`, conv.key.toString('hex'))
    renameSync(`${keyFile}.tmp`, keyFile)
  }
  await conv.base.update()

  let shown = await conv.show({ limit: 0 }).catch((err: unknown) => {
    if (codeOf(err) === 'CONV_NO_MANIFEST') return null
    throw err
  })
  if (shown === null) {
    await conv.create({
      topic: 'crash test',
      pattern: 'discussion',
      consensus: { method: 'announcement' },
      members: [A.member([0])]
    })
    shown = await conv.show({ limit: 0 })
  }
  const present: number[] = []
  for (let offset = 0; offset < shown.total; offset += 1000) {
    const page = await conv.show({ offset, limit: 1000 })
    for (const m of page.messages) {
      const text = (m.body as { text?: unknown }).text
      if (typeof text === 'string' && /^m\d+$/.test(text)) present.push(Number(text.slice(1)))
    }
  }
  send({ type: 'opened', present, openMs: Date.now() - started })

  let stopping = false
  process.on('message', (m) => {
    if (m === 'stop') stopping = true
  })
  let n = present.length === 0 ? 0 : Math.max(...present) + 1
  while (!stopping) {
    if (!(lie && n % 10 === 9)) await conv.post('post', { text: `m${n}` })
    send({ type: 'ack', n })
    n++
  }
  await conv.close()
  await store.close()
  process.disconnect?.()
}

const dir = process.argv[2]
if (!dir) {
  console.error('usage: crash-worker DIR')
  process.exit(2)
}
main(dir, process.argv.includes('--lie')).catch((err: unknown) => {
  send({ type: 'error', code: codeOf(err), message: (err as Error).stack ?? String(err) })
  setTimeout(() => process.exit(1), 100)
})
