/**
 * Run as its own process inside the capture namespace:
 * `node onion-dial.js SOCKS_PORT ONION_NAME`. A direct-transport listener on
 * 127.0.0.1 stands for the onion service; a second transport dials
 * ONION_NAME:PORT through the SOCKS5 proxy (which alone knows the name) and
 * must reach it. Prints one JSON line: { dialled, port, error? }.
 */
import crypto from 'hypercore-crypto'
import { DirectTransport } from '../../src/node/direct.js'

const [socksPort, onion] = process.argv.slice(2) as [string, string]
const serviceKeys = crypto.keyPair()
const server = new DirectTransport({
  keyPair: serviceKeys,
  isAllowed: () => true,
  onConnection: () => {}
})
const client = new DirectTransport({
  keyPair: crypto.keyPair(),
  isAllowed: () => true,
  onConnection: () => {},
  socks5: { host: '127.0.0.1', port: Number(socksPort) },
  connectTimeoutMs: 10_000
})
const { port } = await server.listen(0, '127.0.0.1')
const out: Record<string, unknown> = { port }
try {
  const stream = await client.dial({ host: onion, port, publicKey: serviceKeys.publicKey })
  out.dialled = stream.remotePublicKey?.equals(serviceKeys.publicKey) === true
} catch (err) {
  out.dialled = false
  out.error = `${(err as { code?: string }).code}: ${(err as Error).message}`
}
process.stdout.write(`${JSON.stringify(out)}\n`)
await client.close()
await server.close()
