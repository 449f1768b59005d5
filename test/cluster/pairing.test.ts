import type NoiseSecretStream from '@hyperswarm/secret-stream'
import test, { type Test } from 'brittle'
import { FrameChannel } from '../../cluster/frames.js'
import { createInvite, encodeInvite, INVITE_PREFIX, inviteKeys } from '../../cluster/invite.js'
import { joinWithInvite, type PairedEvent, PairingServer, type RefusedEvent } from '../../cluster/pairing.js'
import { aeadEncrypt } from '../../src/kernel/crypto/aead.js'
import { randomBytes } from '../../src/kernel/crypto/hash.js'
import { hex } from '../../src/kernel/encoding.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'
import { codeOf } from './helpers.js'

const HOUR_MS = 3_600_000

async function startServer(
  t: Test,
  net: Testnet,
  opts: Partial<ConstructorParameters<typeof PairingServer>[0]> = {}
): Promise<{ server: PairingServer; text: string; issued: Array<{ name?: string }> }> {
  const invite = opts.invite ?? createInvite(HOUR_MS, Date.now())
  const issued: Array<{ name?: string }> = []
  const server = new PairingServer({
    dht: net.createDHT(),
    invite,
    issue: async (req) => {
      issued.push(req)
      return Buffer.from('package')
    },
    ...opts
  })
  t.teardown(() => server.close(), { order: 0 })
  await server.ready()
  return { server, text: encodeInvite(invite), issued }
}

test('pairing delivers the exact package once; a second use is refused', async (t) => {
  const net = await createTestnet(t)
  const pkg = randomBytes(20_000)
  const { server, text, issued } = await startServer(t, net, {
    issue: async (req) => {
      issued.push(req)
      return pkg
    }
  })
  t.absent(server.used, 'unused before anyone pairs')
  const paired = new Promise<PairedEvent>((resolve) => server.once('paired', resolve))

  const got = await joinWithInvite(net.createDHT(), text, { name: 'phone' })
  t.alike(got, pkg, 'the joiner gets the exact package bytes')
  t.alike(issued, [{ name: 'phone' }], 'issue ran once, with the name the joiner gave')
  t.alike(await paired, { name: 'phone', acknowledged: true }, "'paired' fires once the joiner confirms")
  t.ok(server.used, 'the invite is used')

  const refused = new Promise<RefusedEvent>((resolve) => server.once('refused', resolve))
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), text)),
    'CLUSTER_INVITE_EXPIRED',
    'a second use is refused'
  )
  t.is((await refused).code, 'CLUSTER_INVITE_EXPIRED', "the server reports the refusal as 'refused'")
  t.is(issued.length, 1, 'no second package was issued')
})

test('a used invite stops listening after its linger', async (t) => {
  const net = await createTestnet(t)
  const { server, text } = await startServer(t, net, { lingerMs: 0 })
  const closed = new Promise<void>((resolve) => server.once('close', resolve))
  t.alike(await joinWithInvite(net.createDHT(), text), Buffer.from('package'))
  await closed
  t.ok(server.closed, 'the server closed itself after the use')
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), text, { timeoutMs: 2000 })),
    'CLUSTER_PAIRING_FAILED',
    'afterwards nobody answers'
  )
})

test('expired invites are refused by the joiner, by the server, and close the server', async (t) => {
  const net = await createTestnet(t)
  const start = Date.now()

  const stale = createInvite(HOUR_MS, start - 2 * HOUR_MS)
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), encodeInvite(stale))),
    'CLUSTER_INVITE_EXPIRED',
    'the joiner refuses an expired invite without dialing'
  )
  const late = new PairingServer({ dht: net.createDHT(), invite: stale, issue: async () => Buffer.alloc(1) })
  t.is(await codeOf(late.ready()), 'CLUSTER_INVITE_EXPIRED', 'a server will not start on an expired invite')
  await late.close()

  // the server's clock is past the expiry while the joiner's is not
  let serverNow = start
  const invite = createInvite(HOUR_MS, start)
  const { server, text, issued } = await startServer(t, net, { invite, now: () => serverNow })
  serverNow = start + 2 * HOUR_MS
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), text, { now: () => start })),
    'CLUSTER_INVITE_EXPIRED',
    'the server refuses once the invite has expired by its clock'
  )
  t.absent(server.used, 'and the invite was not used')
  t.is(issued.length, 0, 'nothing was issued')

  // a short-lived invite: its server closes at the expiry by itself
  const brief = createInvite(1000, Date.now())
  const { server: shortServer } = await startServer(t, net, { invite: brief })
  await new Promise<void>((resolve) => shortServer.once('close', resolve))
  t.ok(shortServer.closed, 'the server closed at the expiry')
})

test('wrong tokens, forged and mistyped invites are refused with clear codes', async (t) => {
  const net = await createTestnet(t)
  const invite = createInvite(HOUR_MS, Date.now())
  const { server, text, issued } = await startServer(t, net, { invite })

  // the right server, the wrong token
  const socket = net.createDHT().connect(server.publicKey)
  socket.on('error', () => {})
  const channel = new FrameChannel(socket)
  t.alike(await channel.next(), { type: 'pair/ready', v: 1 }, 'the server greets first')
  channel.send({ type: 'pair/hello', v: 1, token: hex(randomBytes(32)) })
  t.alike(
    await channel.next(),
    { type: 'pair/refused', v: 1, code: 'CLUSTER_INVITE_INVALID' },
    'a wrong token is refused with CLUSTER_INVITE_INVALID'
  )
  socket.destroy()
  t.absent(server.used, 'a wrong token does not use up the invite')
  t.is(issued.length, 0, 'nothing was issued')

  // a guessed invite: nobody listens on its key
  const forged = encodeInvite(createInvite(HOUR_MS, Date.now()))
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), forged, { timeoutMs: 2000 })),
    'CLUSTER_PAIRING_FAILED',
    'a forged invite fails: no device listens for it'
  )

  // texts that are not whole invites
  const body = text.slice(INVITE_PREFIX.length)
  const flip = (c: string): string => (c === 'a' ? 'b' : 'a')
  const bad = {
    truncated: text.slice(0, -3),
    mistyped: INVITE_PREFIX + body.slice(0, 10) + flip(body[10]!) + body.slice(11),
    'wrong prefix': 'cinv2_' + body,
    'not base32': INVITE_PREFIX + body.replace(/.$/, '!'),
    empty: ''
  }
  for (const [what, s] of Object.entries(bad)) {
    t.is(
      await codeOf(joinWithInvite(net.createDHT(), s)),
      'CLUSTER_INVITE_INVALID',
      `${what} → CLUSTER_INVITE_INVALID`
    )
  }
  t.is(issued.length, 0, 'none of them reached issue')

  t.alike(
    await joinWithInvite(net.createDHT(), ` ${text}\n`),
    Buffer.from('package'),
    'the real invite still works'
  )
})

test('a package that does not decrypt, a broken stream, or a failing issue fail the pairing', async (t) => {
  const net = await createTestnet(t)

  // an impostor would need the invite's server key; a test can hold it and misbehave
  let hellos = 0
  const hostile = async (reply: (socket: NoiseSecretStream) => void): Promise<string> => {
    const invite = createInvite(HOUR_MS, Date.now())
    const keys = inviteKeys(invite)
    const dht = net.createDHT()
    const server = dht.createServer({}, (socket) => {
      socket.on('error', () => {})
      new FrameChannel(socket).send({ type: 'pair/ready', v: 1 })
      socket.once('data', () => {
        hellos++
        reply(socket)
      })
    })
    await server.listen(keys.server)
    t.teardown(() => server.close(), { order: 0 })
    return encodeInvite(invite)
  }

  const wrongKey = await hostile((socket) => {
    const sealed = aeadEncrypt(randomBytes(32), Buffer.from('package'))
    new FrameChannel(socket).send({ type: 'pair/welcome', v: 1, package: hex(sealed) })
  })
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), wrongKey, { timeoutMs: 10_000 })),
    'CLUSTER_PAIRING_FAILED',
    'a package sealed under another key fails'
  )

  const oversized = await hostile((socket) => {
    const head = Buffer.alloc(4)
    head.writeUInt32BE(1 << 30)
    socket.write(head)
  })
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), oversized, { timeoutMs: 10_000 })),
    'CLUSTER_PAIRING_FAILED',
    'a frame over the cap breaks the exchange'
  )

  const nonsense = await hostile((socket) =>
    new FrameChannel(socket).send({ type: 'pair/refused', v: 1, code: 'EVIL' })
  )
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), nonsense, { timeoutMs: 10_000 })),
    'CLUSTER_PAIRING_FAILED',
    'an unknown refusal code is not passed through'
  )

  t.is(hellos, 3, 'each hostile server got the hello it answered')

  const { server, text } = await startServer(t, net, {
    issue: async () => {
      throw new Error('disk full')
    }
  })
  t.is(
    await codeOf(joinWithInvite(net.createDHT(), text)),
    'CLUSTER_PAIRING_FAILED',
    'a failing issue is reported'
  )
  t.ok(server.used, 'and the invite is spent all the same')
})
