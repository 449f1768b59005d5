import { execFile } from 'node:child_process'
import test from 'brittle'
import { dhtDirect, loadConfig } from '../../src/kernel/config.js'
import { createTestnet } from '../helpers/testnet.js'

test('dhtDirect: on for a loopback DHT or dhtReachable, off otherwise', (t) => {
  const cfg = (flags: Record<string, string>, file: Record<string, unknown> = {}) =>
    ({ ...loadConfig({ home: '/nonexistent-conclave-home', env: {}, flags }), ...file }) as Parameters<
      typeof dhtDirect
    >[0]
  t.ok(dhtDirect(cfg({ bootstrap: '127.0.0.1:49737,127.0.0.1:49738' })), 'every bootstrap node on loopback')
  t.absent(dhtDirect(cfg({ bootstrap: '127.0.0.1:49737,192.0.2.7:49737' })), 'one bootstrap node elsewhere')
  t.absent(dhtDirect(cfg({})), 'the public bootstrap nodes')
  t.ok(dhtDirect(cfg({}, { dhtReachable: true })), 'dhtReachable')
  t.ok(dhtDirect(cfg({}, { dhtHost: '127.0.0.1' })), 'bound to loopback by dhtHost')
})

// One side as the node builds its swarm (src/node/open.ts createSwarm), in its own process.
const PEER = `
const { createSwarm } = await import(process.argv[1])
const { loadConfig } = await import(process.argv[2])
const [role, bootstrap, topic] = process.argv.slice(3)
const config = loadConfig({ home: '/nonexistent-conclave-home', env: {}, flags: { bootstrap } })
const { default: crypto } = await import('hypercore-crypto')
const swarm = createSwarm(config, crypto.keyPair(), () => true)
const out = (m) => process.stdout.write(JSON.stringify(m) + '\\n')
let first = true
swarm.on('connection', (conn) => {
  conn.on('error', () => {})
  if (role === 'server') {
    conn.on('data', () => conn.write('pong'))
    return
  }
  if (!first) return
  first = false
  let got = false
  conn.once('data', () => { got = true; out({ first: 'carried data both ways' }); process.exit(0) })
  conn.on('close', () => { if (!got) { out({ first: 'closed without data: the server never saw it' }); process.exit(0) } })
  conn.write('ping')
})
await swarm.join(Buffer.from(topic, 'hex'), { server: role === 'server', client: role === 'client' }).flushed()
if (role === 'server') out({ ready: true })
`

function peer(role: 'server' | 'client', bootstrap: string, topic: string) {
  const open = new URL('../../src/node/open.js', import.meta.url).href
  const config = new URL('../../src/kernel/config.js', import.meta.url).href
  return execFile(
    process.execPath,
    ['--input-type=module', '-e', PEER, open, config, role, bootstrap, topic],
    {
      cwd: process.cwd(),
      timeout: 60_000
    }
  )
}

function firstLine(child: ReturnType<typeof execFile>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = ''
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>)
    })
    child.on('exit', (code) => reject(new Error(`peer exited (${code}) before it said anything`)))
  })
}

// Holepunching between two young ("firewalled") DHT nodes on one host left the dialler, in
// four of six first dials here, with a stream the server never saw (it timed out after ≈ 15 s).
test('on a loopback DHT the first connection between two node processes is one both sides see', async (t) => {
  const net = await createTestnet(t)
  for (let round = 1; round <= 4; round++) {
    const topic = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
    const server = peer('server', net.bootstrapFlag, topic)
    t.teardown(() => void server.kill())
    t.alike(await firstLine(server), { ready: true }, `round ${round}: the server announced`)
    const client = peer('client', net.bootstrapFlag, topic)
    t.teardown(() => void client.kill())
    t.alike(
      await firstLine(client),
      { first: 'carried data both ways' },
      `round ${round}: the first connection`
    )
    server.kill()
    client.kill()
  }
})
