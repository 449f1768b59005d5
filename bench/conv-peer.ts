// One benchmark peer as its own process: a real RocksDB corestore holding one
// writer of a conversation (mode "conv": the Conversation class, signed and
// validated messages, the tally evaluated after each) or of a bare autobase
// with a hyperbee view (mode "bare": the substrate doing the same appends),
// replicating over Hyperswarm on the parent's DHT testnet. The parent
// (bench/conversation.ts) drives it over IPC; every time it reports is
// absolute (performance.timeOrigin + performance.now()), comparable across
// the processes of one machine.
import Autobase from 'autobase'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Conversation, type ManifestInput, type WriterRequest } from '../conversations/index.js'
import { hex, unhex } from '../src/kernel/encoding.js'
import { account, writerFor } from '../test/conversations/helpers.js'

const [mode, dir, bootstrapFlag] = process.argv.slice(2) as ['conv' | 'bare', string, string]
const bootstrap = bootstrapFlag.split(',').map((s) => {
  const [host, port] = s.split(':')
  return { host: host!, port: Number(port) }
})
const b4a = (v: unknown) => (v as Buffer).toString()
const now = () => performance.timeOrigin + performance.now()

const store = new Corestore(dir)
const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false }) })
swarm.on('connection', (conn) => {
  store.replicate(conn)
})

let conv: Conversation | null = null
let bare: Autobase | null = null
let bareView: Hyperbee<string, unknown> | null = null

/** Messages seen in this process's view: text → first time seen. */
const seen = new Map<string, number>()
let seenCount = 0
let scanning = false
let closing = false
let rescan = false
const waiters: Array<{ check: () => boolean; resolve: () => void }> = []

async function scan(): Promise<void> {
  if (closing) return
  if (scanning) {
    rescan = true
    return
  }
  scanning = true
  try {
    do {
      rescan = false
      const t = now()
      if (conv) {
        // the listed messages, as `show` reads them (the view's records, each entry from its writer core)
        for (;;) {
          const page = await conv.messagesFrom(seenCount, 1000)
          for (const m of page) seen.set(String(m.body.text), t)
          seenCount += page.length
          if (page.length < 1000) break
        }
      } else if (bareView) {
        const from = `m/${String(seenCount).padStart(10, '0')}`
        for await (const { value } of bareView.createReadStream({ gte: from, lt: 'm0' })) {
          seen.set(String((value as { text: string }).text), t)
          seenCount++
        }
      }
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.check()) {
          waiters[i]!.resolve()
          waiters.splice(i, 1)
        }
      }
    } while (rescan && !closing)
  } catch (err) {
    if (!closing) throw err
  } finally {
    scanning = false
  }
}

function waitFor(check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve) => waiters.push({ check, resolve }))
}

interface OpenArgs {
  name: string
  key: string | null
  encryptionKey: string
}

async function open({ name, key, encryptionKey }: OpenArgs) {
  if (mode === 'conv') {
    const acct = account(name)
    const d = acct.device(0)
    conv = new Conversation(
      { store: store.namespace('bench-conv') },
      {
        bootstrap: key ? unhex(key) : null,
        writerKeyPair: writerFor(acct, 0, 'bench'),
        encryptionKey: unhex(encryptionKey),
        device: { accountId: acct.accountId, deviceId: d.deviceId, signingKeyPair: d.signing }
      }
    )
    await conv.ready()
    conv.on('update', () => void scan())
    swarm.join(conv.base.autobase.discoveryKey, { server: true, client: true })
    return { key: hex(conv.key), request: conv.writerRequest() }
  }
  bare = new Autobase(store.namespace('bench-bare'), key ? unhex(key) : null, {
    open: (s) =>
      new Hyperbee(s.get('view'), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false }),
    apply: async (nodes, view, host) => {
      const bee = view as unknown as Hyperbee<string, unknown>
      let n = (((await bee.get('count'))?.value as number | undefined) ?? 0) as number
      for (const node of nodes) {
        const v = JSON.parse(b4a(node.value)) as { add?: string; text?: string }
        if (v.add) {
          await host.addWriter(unhex(v.add), { indexer: true })
          continue
        }
        await bee.put(`m/${String(n++).padStart(10, '0')}`, v)
      }
      await bee.put('count', n)
    },
    encryptionKey: unhex(encryptionKey),
    ackInterval: 1000
  })
  await bare.ready()
  bareView = bare.view as unknown as Hyperbee<string, unknown>
  bare.on('update', () => void scan())
  swarm.join(bare.discoveryKey, { server: true, client: true })
  return { key: hex(bare.key), request: hex(bare.local.key) }
}

const ops: Record<string, (a: Record<string, unknown>) => Promise<unknown>> = {
  open: (a) => open(a as unknown as OpenArgs),
  async flush() {
    await swarm.flush()
    return null
  },
  async create(a) {
    await conv!.create(a.manifest as ManifestInput)
    return null
  },
  async addWriter(a) {
    if (conv) await conv.addWriter(a.request as WriterRequest)
    else await bare!.append(Buffer.from(JSON.stringify({ add: a.request as string })))
    return null
  },
  async writable() {
    for (;;) {
      if (conv ? conv.writable : bare!.writable) return null
      await new Promise((r) => setTimeout(r, 20))
    }
  },
  /** Posts `texts` in batches of `batch`; returns when each batch's append returned. */
  async post(a) {
    const texts = a.texts as string[]
    const batch = Math.max(1, Number(a.batch ?? 1))
    const started = now()
    for (let i = 0; i < texts.length; i += batch) {
      const chunk = texts.slice(i, i + batch)
      if (conv) {
        const r = await conv.postBatch(chunk.map((text) => ({ kind: 'post', body: { text } })))
        const skipped = r.find((x) => x.skipped)
        if (skipped) throw new Error(`skipped: ${skipped.skipped}`)
      } else {
        await bare!.append(chunk.map((text) => Buffer.from(JSON.stringify({ text }))))
      }
    }
    return { started, ended: now() }
  },
  /** Resolves when every text is in this view; returns when each was first seen. */
  async seen(a) {
    const texts = a.texts as string[]
    await waitFor(() => texts.every((x) => seen.has(x)))
    return texts.map((x) => seen.get(x)!)
  },
  /** Resolves when the view lists at least `count` messages. */
  async count(a) {
    const count = Number(a.count)
    await waitFor(() => seenCount >= count)
    return { at: now(), count: seenCount }
  },
  async close() {
    closing = true
    await swarm.destroy()
    if (conv) await conv.close()
    if (bare) await bare.close()
    await store.close()
    setImmediate(() => process.exit(0))
    return null
  }
}

process.on('message', (m: { id: number; op: string; args?: Record<string, unknown> }) => {
  const fn = ops[m.op]
  if (!fn) {
    process.send!({ id: m.id, error: `unknown op ${m.op}` })
    return
  }
  fn(m.args ?? {}).then(
    (result) => process.send!({ id: m.id, result }),
    (err: Error) => process.send!({ id: m.id, error: err.stack ?? err.message })
  )
})
process.send!({ ready: true })
