import test from 'brittle'
import crypto from 'hypercore-crypto'
import { issueCertificate } from '../../cluster/certificate.js'
import { hex } from '../../src/kernel/encoding.js'
import { deriveDevice, deriveRoot, deriveWriter } from '../../src/kernel/identity/keys.js'
import { mnemonicToSeed } from '../../src/kernel/identity/mnemonic.js'
import { type DirectConnectionInfo, DirectTransport, parseHostPort } from '../../src/node/direct.js'
import { Heartbeats } from '../../src/node/heartbeat.js'
import { inProcessNode } from '../helpers/in-process-node.js'

async function until<T>(what: string, check: () => Promise<T | null | false | undefined>, ms = 30_000) {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('a device that announces a false address makes the node dial a wrong place, never admit another key', async (t) => {
  const { node, mnemonic } = await inProcessNode(t)
  const seed = mnemonicToSeed(mnemonic)
  const root = deriveRoot(seed)
  const dev1 = deriveDevice(seed, 1)
  await node.cluster.certify(
    issueCertificate(root.signing, {
      type: 'device-cert',
      v: 1,
      accountId: node.identity.identity.accountId,
      deviceId: dev1.deviceId,
      device: 1,
      epoch: 0,
      signingKey: hex(dev1.signing.publicKey),
      xwingKey: hex(dev1.xwing.publicKey),
      writerKey: hex(deriveWriter(seed, 1, 0).publicKey),
      roles: ['access', 'relay'],
      indexer: false,
      issuedAt: Date.now()
    })
  )
  const status = await node.status()
  t.ok(
    status.direct.listen?.startsWith('127.0.0.1:'),
    `the node listens on loopback: ${status.direct.listen}`
  )
  t.is(status.direct.address, status.direct.listen, 'and publishes that address')

  // a stranger that would admit anyone, listening where the liar will send the node
  const strangerKeys = crypto.keyPair()
  const strangerGot: DirectConnectionInfo[] = []
  const stranger = new DirectTransport({
    keyPair: strangerKeys,
    isAllowed: () => true,
    onConnection: (_s, info) => strangerGot.push(info)
  })
  t.teardown(() => stranger.close())
  const trap = await stranger.listen(0, '127.0.0.1')

  // device 1 (certified, so admitted) connects directly and lies about its own address
  const liar = new DirectTransport({
    keyPair: { publicKey: dev1.signing.publicKey, secretKey: dev1.signing.secretKey },
    isAllowed: () => true,
    onConnection: () => {}
  })
  t.teardown(() => liar.close())
  const beats = new Heartbeats({ deviceId: node.identity.identity.deviceId })
  t.teardown(() => beats.close())
  const stream = await liar.dial({
    ...parseHostPort(status.direct.listen!),
    publicKey: node.signingKeyPair.publicKey
  })
  beats.attach(stream)
  let heard: string | null = null
  beats.on('address', (e: { address: string }) => (heard = e.address))
  await until('the node announces its address on the new link', async () => heard)
  t.is(heard, status.direct.address, 'the node pushed its own address on connect')
  const falseAddress = `127.0.0.1:${trap.port}`
  beats.announce(falseAddress)

  const d1 = await until('the false address in the address book', async () => {
    const s = await node.status()
    const d = s.devices.find((x) => x.deviceId === dev1.deviceId)
    return d?.lastAddress === falseAddress && d
  })
  t.is(d1.lastAddressFrom, 'peer', 'filed under the device whose connection carried it')
  t.is(
    (await node.status()).devices.find((x) => x.self)?.lastAddress,
    status.direct.address,
    "the device id the liar put in the message (the node's own) changed nothing"
  )

  // the liar leaves: the node dials the false address, finds another key there and refuses it
  stream.destroy()
  const failed = await until('the dial of the false address to fail', async () => {
    const s = await node.status()
    const d = s.devices.find((x) => x.deviceId === dev1.deviceId)
    return d?.directError ? d : null
  })
  t.ok(failed.directError!.startsWith('NODE_PEER_KEY_MISMATCH:'), failed.directError!)
  t.ok(failed.directError!.includes(hex(strangerKeys.publicKey)), 'the error names the key found there')
  const after = await node.status()
  t.absent(
    after.peers.some((p) => p.publicKey === hex(strangerKeys.publicKey) || p.kind === 'unknown'),
    'the stranger never became a peer'
  )
  t.is(strangerGot.length, 0, 'and the stranger never got a connection through to replication')
})
