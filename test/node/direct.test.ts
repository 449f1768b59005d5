import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import dns from 'node:dns'
import net from 'node:net'
import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import { createLogger } from '../../src/kernel/log.js'
import {
  type DirectConnectionInfo,
  DirectTransport,
  type DirectTransportOptions,
  formatHostPort,
  type HostPort,
  parseHostPort
} from '../../src/node/direct.js'
import { tmpDir } from '../helpers/tmp.js'
import { unusedPort, until } from '../helpers/wait.js'

interface Side {
  transport: DirectTransport
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  store: Corestore
  /** Keys (hex) this side's firewall admits. */
  admitted: Set<string>
  /** Keys (hex) this side's firewall was asked about. */
  asked: string[]
  connections: { stream: NoiseSecretStream; info: DirectConnectionInfo }[]
  logLines: string[]
}

const hex = (b: Buffer): string => b.toString('hex')

/** A transport over a real RocksDB corestore that replicates it on every accepted connection. */
async function createSide(
  t: Test,
  name: string,
  opts: Partial<Omit<DirectTransportOptions, 'keyPair' | 'isAllowed' | 'onConnection'>> = {}
): Promise<Side> {
  const store = new Corestore(await tmpDir(t, `conclave-direct-${name}-`))
  await store.ready()
  const keyPair = crypto.keyPair()
  const admitted = new Set<string>()
  const asked: string[] = []
  const connections: Side['connections'] = []
  const logLines: string[] = []
  const transport = new DirectTransport({
    keyPair,
    isAllowed: (key) => {
      asked.push(hex(key))
      return admitted.has(hex(key))
    },
    onConnection: (stream, info) => {
      connections.push({ stream, info })
      store.replicate(stream)
    },
    log: createLogger('debug', (line) => logLines.push(line)),
    ...opts
  })
  t.teardown(async () => {
    await transport.close()
    await store.close()
  })
  return { transport, keyPair, store, admitted, asked, connections, logLines }
}

function admitEachOther(a: Side, b: Side): void {
  a.admitted.add(hex(b.keyPair.publicKey))
  b.admitted.add(hex(a.keyPair.publicKey))
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return String((err as { code?: unknown }).code)
  }
  return 'resolved'
}

async function errorOf(
  p: Promise<unknown>
): Promise<Error & { code?: string; data?: Record<string, unknown> }> {
  try {
    await p
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a rejection')
}

/** Appends on `from`, dials `from` from `to`, and reads the blocks on `to`'s replica. */
async function replicateOver(t: Test, from: Side, to: Side, dial: () => Promise<NoiseSecretStream>) {
  const core = from.store.get({ name: 'direct-test' })
  await core.ready()
  await core.append([Buffer.from('hello'), Buffer.from('over direct')])
  const stream = await dial()
  t.ok(
    stream.remotePublicKey?.equals(from.keyPair.publicKey),
    'the dialed stream is authenticated as the peer'
  )
  const copy = to.store.get({ key: core.key })
  await copy.ready()
  t.is((await copy.get(0, { timeout: 10_000 }))?.toString(), 'hello', 'block 0 replicated')
  t.is((await copy.get(1, { timeout: 10_000 }))?.toString(), 'over direct', 'block 1 replicated')
  await copy.close()
  await core.close()
  return stream
}

test('parseHostPort: IPv4, [IPv6], names and .onion; malformed addresses are coded errors', async (t) => {
  const onion = `${'a'.repeat(56)}.onion`
  t.alike(parseHostPort('192.0.2.7:4000'), { host: '192.0.2.7', port: 4000 })
  t.alike(parseHostPort('[::1]:9'), { host: '::1', port: 9 })
  t.alike(parseHostPort('[2001:db8::5]:65535'), { host: '2001:db8::5', port: 65535 })
  t.alike(parseHostPort('node-1.example.org:443'), { host: 'node-1.example.org', port: 443 })
  t.alike(parseHostPort(`${onion}:9050`), { host: onion, port: 9050 })
  t.is(formatHostPort({ host: '::1', port: 9 }), '[::1]:9')
  t.is(formatHostPort(parseHostPort('localhost:80')), 'localhost:80')
  for (const bad of [
    '',
    'localhost',
    'localhost:',
    'localhost:0',
    'localhost:65536',
    'localhost:80a',
    'localhost:-1',
    ':80',
    '::1:80',
    '[::1]80',
    '[::1:80',
    '[127.0.0.1]:80',
    '1.2.3:80',
    '999.1.1.1:80',
    'bad_name:80',
    '-lead.example:80',
    'a..b:80',
    `${'x'.repeat(64)}.example:80`,
    'host name:80'
  ]) {
    t.is(
      await codeOf(Promise.resolve().then(() => parseHostPort(bad))),
      'NODE_ADDRESS_INVALID',
      `refuses ${bad}`
    )
  }
})

test('direct: a hypercore replicates over a direct TCP + Noise connection; close() ends it', async (t) => {
  const a = await createSide(t, 'a')
  const b = await createSide(t, 'b')
  admitEachOther(a, b)
  const addr = await a.transport.listen()
  t.is(addr.host, '127.0.0.1', 'listens on loopback by default')
  t.ok(addr.port > 0, 'on a free port')

  const stream = await replicateOver(t, a, b, () =>
    b.transport.dial({ ...addr, publicKey: a.keyPair.publicKey })
  )
  t.is(b.connections.length, 1, 'the dialer got one connection')
  t.is(b.connections[0]!.stream, stream, 'the one dial() resolved')
  t.alike(
    { ...b.connections[0]!.info, remotePublicKey: hex(b.connections[0]!.info.remotePublicKey) },
    { initiator: true, host: addr.host, port: addr.port, remotePublicKey: hex(a.keyPair.publicKey) }
  )
  t.is(a.connections.length, 1, 'the listener got one connection')
  t.is(a.connections[0]!.info.initiator, false, 'the listener is not the initiator')
  t.is(hex(a.connections[0]!.info.remotePublicKey), hex(b.keyPair.publicKey), 'authenticated as the dialer')
  t.ok(a.asked.includes(hex(b.keyPair.publicKey)), "the listener's firewall was asked about the dialer")
  t.ok(b.asked.includes(hex(a.keyPair.publicKey)), "the dialer's firewall was asked about the listener")
  t.is(a.transport.streams.size, 1, 'the listener tracks the open stream')

  const remoteClosed = new Promise<void>((resolve) => a.connections[0]!.stream.once('close', () => resolve()))
  await b.transport.close()
  await remoteClosed
  t.pass("closing the dialer closes the listener's end")
  t.is(b.transport.streams.size, 0, 'the closed dialer holds no stream')
  await until('A has no stream left', () => a.transport.streams.size === 0, 5000)
  t.is(
    await codeOf(b.transport.dial({ ...addr, publicKey: a.keyPair.publicKey })),
    'KERNEL_CLOSED',
    'a closed transport does not dial'
  )
  await a.transport.close()
  t.is(a.transport.address, null, 'the listener is closed')
})

test('direct: the listener refuses a key its firewall does not admit; neither side gets a connection', async (t) => {
  const a = await createSide(t, 'a')
  const b = await createSide(t, 'b')
  b.admitted.add(hex(a.keyPair.publicKey)) // a does not admit b
  const addr = await a.transport.listen()
  const err = await errorOf(b.transport.dial({ ...addr, publicKey: a.keyPair.publicKey }))
  t.is(err.code, 'NODE_PEER_REFUSED', err.message)
  t.ok(a.asked.includes(hex(b.keyPair.publicKey)), "the refusal came from the listener's firewall")
  t.is(a.connections.length, 0, 'the listener never called onConnection')
  t.is(b.connections.length, 0, 'the dialer never called onConnection')
  t.is(a.transport.streams.size + b.transport.streams.size, 0, 'no stream is left open')

  // a firewall that throws refuses, on either end
  const throwingKeys = crypto.keyPair()
  const throwing = new DirectTransport({
    keyPair: throwingKeys,
    isAllowed: () => {
      throw new Error('bug in the firewall')
    },
    onConnection: () => t.fail('a throwing firewall admitted a connection')
  })
  t.teardown(() => throwing.close())
  const tAddr = await throwing.listen()
  b.admitted.add(hex(throwingKeys.publicKey))
  t.is(
    await codeOf(b.transport.dial({ ...tAddr, publicKey: throwingKeys.publicKey })),
    'NODE_PEER_REFUSED',
    'a listener whose firewall throws refuses'
  )
  t.is(
    await codeOf(throwing.dial({ ...addr, publicKey: a.keyPair.publicKey })),
    'NODE_PEER_NOT_ALLOWED',
    'a dialer whose firewall throws does not dial'
  )
  t.is(b.connections.length, 0, 'nothing was handed on')
})

test('direct: a wrong expected key at an address fails with the mismatch code; unknown keys are not dialed', async (t) => {
  const a = await createSide(t, 'a')
  const b = await createSide(t, 'b')
  admitEachOther(a, b)
  const addr = await a.transport.listen()
  const liar = crypto.keyPair().publicKey
  b.admitted.add(hex(liar)) // b believes the device `liar` is at a's address

  const err = await errorOf(b.transport.dial({ ...addr, publicKey: liar }))
  t.is(err.code, 'NODE_PEER_KEY_MISMATCH', err.message)
  t.is(err.data?.remotePublicKey, hex(a.keyPair.publicKey), 'the error names the key actually found')
  await until(
    'A logs the dialer that left',
    () => a.logLines.some((l) => l.includes('the dialer left before the preamble')),
    5000
  )
  t.is(a.connections.length, 0, 'the listener never handed the stream on')
  t.is(b.connections.length, 0, 'the dialer never handed the stream on')

  const stranger = crypto.keyPair().publicKey
  const refused = await errorOf(b.transport.dial({ ...addr, publicKey: stranger }))
  t.is(refused.code, 'NODE_PEER_NOT_ALLOWED', 'a key the firewall does not admit is not dialed')
  t.is(
    await codeOf(b.transport.dial({ host: '127.0.0.1', port: 0, publicKey: a.keyPair.publicKey })),
    'NODE_ADDRESS_INVALID',
    'port 0 is not dialable'
  )
  t.is(
    await codeOf(b.transport.dial({ host: '[::1]', port: addr.port, publicKey: a.keyPair.publicKey })),
    'NODE_ADDRESS_INVALID',
    'hosts are given without brackets'
  )
  t.is(
    await codeOf(b.transport.dial({ ...addr, publicKey: Buffer.alloc(31) })),
    'NODE_ADDRESS_INVALID',
    'a short key'
  )
})

test('direct: a closed port fails fast, a silent peer times out, a silent dialer is dropped', async (t) => {
  const b = await createSide(t, 'b', { connectTimeoutMs: 400 })
  const target = crypto.keyPair().publicKey
  b.admitted.add(hex(target))

  let started = Date.now()
  const err = await errorOf(
    b.transport.dial({ host: '127.0.0.1', port: await unusedPort(), publicKey: target })
  )
  t.is(err.code, 'NODE_DIAL_FAILED', err.message)
  t.ok(Date.now() - started < 1000, `a refused port fails at once (${Date.now() - started} ms)`)

  // accepts TCP, never speaks Noise
  const silent = net.createServer((s) => s.resume())
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())))
  const silentSockets: net.Socket[] = []
  silent.on('connection', (s) => silentSockets.push(s))
  started = Date.now()
  const timeout = await errorOf(
    b.transport.dial({
      host: '127.0.0.1',
      port: (silent.address() as net.AddressInfo).port,
      publicKey: target
    })
  )
  t.is(timeout.code, 'NODE_DIAL_FAILED', 'a silent peer is a failed dial')
  t.ok(/timed out/.test(timeout.message), timeout.message)
  t.ok(Date.now() - started < 2000, 'within the connect timeout')
  await until(
    'the silent sockets are closed',
    () => silentSockets.every((s) => s.destroyed || s.readableEnded),
    5000
  )
  t.pass('the dialer hung up on the silent peer')

  // a TCP client that never starts the handshake is dropped by the listener
  const addr = await b.transport.listen()
  const raw = net.connect(addr.port, addr.host)
  raw.on('error', () => {})
  const dropped = new Promise<void>((resolve) => raw.once('close', () => resolve()))
  started = Date.now()
  await dropped
  t.ok(Date.now() - started < 3000, 'the listener drops a silent client after its handshake timeout')
  t.is(b.connections.length, 0, 'nothing was handed on')
})

// ---- SOCKS5 through a real microsocks on loopback ----

function haveMicrosocks(): boolean {
  return spawnSync('sh', ['-c', 'command -v microsocks'], { stdio: 'ignore' }).status === 0
}

async function startMicrosocks(t: Test, extra: string[] = []): Promise<HostPort> {
  const port = await unusedPort()
  const child: ChildProcess = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(port), ...extra], {
    stdio: 'ignore'
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  // ready once it accepts a TCP connection
  const end = Date.now() + 5000
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) break
    if (child.exitCode !== null || Date.now() > end)
      throw new Error(`microsocks did not start on port ${port}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return { host: '127.0.0.1', port }
}

/** Records the host names the process resolves locally while `fn` runs (forwarding to the real lookup). */
async function lookupsDuring<T>(fn: () => Promise<T>): Promise<{ names: string[]; result: T }> {
  const real = dns.lookup
  const names: string[] = []
  const spy = function (this: unknown, hostname: string, ...rest: unknown[]) {
    names.push(hostname)
    return (real as (...args: unknown[]) => unknown).call(this, hostname, ...rest)
  }
  dns.lookup = spy as unknown as typeof dns.lookup
  try {
    return { names, result: await fn() }
  } finally {
    dns.lookup = real
  }
}

test('direct via SOCKS5: dials the name "localhost" through microsocks, which resolves it, and replicates', async (t) => {
  if (!haveMicrosocks()) {
    t.fail('microsocks is not installed: apt-get install -y microsocks (.ci/run installs it)')
    return
  }
  const proxy = await startMicrosocks(t)
  // listen where the proxy will find "localhost": its first address here
  const first = await dns.promises.lookup('localhost')
  const a = await createSide(t, 'a')
  const b = await createSide(t, 'b', { socks5: proxy })
  admitEachOther(a, b)
  const addr = await a.transport.listen(0, first.address)

  const { names } = await lookupsDuring(() =>
    replicateOver(t, a, b, () =>
      b.transport.dial({ host: 'localhost', port: addr.port, publicKey: a.keyPair.publicKey })
    )
  )
  t.absent(
    names.includes('localhost'),
    `the dialer never resolved "localhost" itself (lookups: ${names.join(',')})`
  )
  t.is(b.connections[0]!.info.host, 'localhost', 'the connection is named as dialed')
  t.is(a.connections.length, 1, 'the listener got the proxied connection')

  // control: the spy does see a local resolution when dialing the name without a proxy
  const c = await createSide(t, 'c', {})
  c.admitted.add(hex(a.keyPair.publicKey))
  a.admitted.add(hex(c.keyPair.publicKey))
  const direct = await lookupsDuring(() =>
    c.transport.dial({ host: 'localhost', port: addr.port, publicKey: a.keyPair.publicKey })
  )
  t.ok(direct.names.includes('localhost'), 'without a proxy the name is resolved locally (the spy works)')
})

test('direct via SOCKS5: a refusing or absent proxy, or an unreachable peer behind it, is NODE_SOCKS_FAILED', async (t) => {
  if (!haveMicrosocks()) {
    t.fail('microsocks is not installed: apt-get install -y microsocks (.ci/run installs it)')
    return
  }
  const a = await createSide(t, 'a')
  const addr = await a.transport.listen()
  const key = a.keyPair.publicKey

  const authProxy = await startMicrosocks(t, ['-u', 'user', '-P', 'secret'])
  const viaAuth = await createSide(t, 'auth', { socks5: authProxy })
  viaAuth.admitted.add(hex(key))
  const authErr = await errorOf(viaAuth.transport.dial({ ...addr, publicKey: key }))
  t.is(authErr.code, 'NODE_SOCKS_FAILED', authErr.message)
  t.ok(/authentication/i.test(authErr.message), 'the message says the proxy refused our authentication')
  t.ok(authErr.message.includes(formatHostPort(authProxy)), 'and names the proxy')

  const nowhere = { host: '127.0.0.1', port: await unusedPort() }
  const viaNothing = await createSide(t, 'none', { socks5: nowhere })
  viaNothing.admitted.add(hex(key))
  const started = Date.now()
  const noneErr = await errorOf(viaNothing.transport.dial({ ...addr, publicKey: key }))
  t.is(noneErr.code, 'NODE_SOCKS_FAILED', noneErr.message)
  t.ok(/unreachable/.test(noneErr.message), 'the message says the proxy is unreachable')
  t.ok(Date.now() - started < 1000, 'quickly')

  const proxy = await startMicrosocks(t)
  const viaProxy = await createSide(t, 'proxy', { socks5: proxy })
  viaProxy.admitted.add(hex(key))
  const peerErr = await errorOf(
    viaProxy.transport.dial({ host: '127.0.0.1', port: await unusedPort(), publicKey: key })
  )
  t.is(peerErr.code, 'NODE_SOCKS_FAILED', peerErr.message)
  t.is(peerErr.data?.reply, 'ConnectionRefused', "the proxy's reply is named")
  t.is(a.connections.length, 0, 'the listener never got a connection')
})
