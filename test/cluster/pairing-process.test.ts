import { execFile } from 'node:child_process'
import test from 'brittle'
import Hyperswarm from 'hyperswarm'
import { createInvite, encodeInvite } from '../../cluster/invite.js'
import { PairingServer } from '../../cluster/pairing.js'
import { randomBytes } from '../../src/kernel/crypto/hash.js'
import { createTestnet } from '../helpers/testnet.js'

// The joiner as `conclave join` runs it: its own process, a fresh DHT node on 127.0.0.1.
const JOINER = `
import HyperDHT from 'hyperdht'
const { joinWithInvite } = await import(process.argv[1])
const dht = new HyperDHT({ bootstrap: process.argv[2].split(','), host: '127.0.0.1' })
try {
  const pkg = await joinWithInvite(dht, process.argv[3], { timeoutMs: 45000 })
  process.stdout.write(JSON.stringify({ ok: pkg.toString('hex') }))
} catch (err) {
  process.stdout.write(JSON.stringify({ code: err.code, message: err.message }))
} finally {
  await dht.destroy()
}
`

function joinInChild(
  bootstrap: string,
  invite: string
): Promise<{ ok?: string; code?: string; message?: string }> {
  const pairing = new URL('../../cluster/pairing.js', import.meta.url).href
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', JOINER, pairing, bootstrap, invite],
      { cwd: process.cwd(), timeout: 90_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`joiner failed: ${stderr || err.message}`))
        else resolve(JSON.parse(stdout) as { ok?: string; code?: string })
      }
    )
  })
}

test('a joiner in another process pairs with a server on a young swarm DHT node', async (t) => {
  const net = await createTestnet(t)
  // The inviting node listens on its swarm's DHT node, as src/node does. A young node is
  // still "firewalled"; between processes on one host the first dials to it often open a
  // stream that carries nothing, and only the greeting and redial get the joiner through.
  // (a node on loopback now takes connections directly; this one is made young and firewalled
  // on purpose, as a node behind a NAT stays)
  const swarm = new Hyperswarm({ dht: net.createDHT({ firewalled: true }) })
  t.teardown(() => swarm.destroy(), { order: 500 })
  swarm.on('connection', (conn) => conn.on('error', () => {}))
  await swarm.join(randomBytes(32), { server: true, client: true }).flushed()

  const pkg = randomBytes(64)
  const invite = createInvite(3_600_000, Date.now())
  const server = new PairingServer({ dht: swarm.dht, invite, issue: async () => pkg })
  t.teardown(() => server.close(), { order: 0 })
  await server.ready()
  const result = await joinInChild(net.bootstrapFlag, encodeInvite(invite))
  t.alike(result, { ok: pkg.toString('hex') }, 'the other process gets the package')
  t.ok(server.used, 'the invite is used')
})
