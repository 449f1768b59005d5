// The bare substrate a node stands on, as its own process: a RocksDB corestore,
// an encrypted autobase with a hyperbee view, and a Hyperswarm joined to a
// topic. Prints "ready" when open. The node benchmark compares against it.
import Autobase from 'autobase'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'

const [dir, bootstrapFlag] = process.argv.slice(2)
const bootstrap = (bootstrapFlag ?? '')
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const [host, port] = s.split(':')
    return { host: host!, port: Number(port) }
  })
const store = new Corestore(dir!)
const base = new Autobase(store.namespace('bare'), null, {
  open: (s) => new Hyperbee(s.get('view'), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false }),
  apply: async (nodes, view) => {
    for (const n of nodes) await (view as unknown as Hyperbee<string, unknown>).put(String(n.length), n.value)
  },
  valueEncoding: 'json',
  encryptionKey: Buffer.alloc(32, 7),
  ackInterval: 1000
})
await base.ready()
const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false }) })
swarm.on('connection', (c) => store.replicate(c))
swarm.join(base.discoveryKey, { server: true, client: true })
process.stdout.write('ready\n')
process.on('SIGTERM', async () => {
  await swarm.destroy()
  await base.close()
  await store.close()
  process.exit(0)
})
