import NoiseSecretStream from '@hyperswarm/secret-stream'
import test from 'brittle'
import crypto from 'hypercore-crypto'
import { Replicator, swarmFirewall } from '../../src/kernel/substrate/index.js'
import { createTestnet } from '../helpers/testnet.js'
import { createPeer, hex, joinSwarm } from './helpers.js'

test('swarmFirewall: an unknown remote public key never connects nor replicates, until admitted and unbanned', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const server = await createPeer(t, 'fw-server', {
    encryptionKey,
    keyPair: crypto.keyPair()
  })
  // both know the base key and the encryption key: only the firewall stands between them and the data
  const friend = await createPeer(t, 'fw-friend', {
    encryptionKey,
    bootstrap: server.base.key
  })
  const stranger = await createPeer(t, 'fw-stranger', {
    encryptionKey,
    bootstrap: server.base.key
  })
  await server.base.append({
    type: 'put',
    key: 'hello',
    value: 'members only'
  })

  const friendKeys = crypto.keyPair()
  const strangerKeys = crypto.keyPair()
  const asked: string[] = []
  const admitted = new Set([hex(friendKeys.publicKey)])
  let strangerRefused: () => void = () => {}
  const refusedStranger = new Promise<void>((resolve) => {
    strangerRefused = resolve
  })
  const isAllowed = (remote: Buffer): boolean => {
    asked.push(hex(remote))
    const ok = admitted.has(hex(remote))
    if (remote.equals(strangerKeys.publicKey)) strangerRefused()
    return ok
  }
  t.is(
    swarmFirewall(isAllowed)(strangerKeys.publicKey, null),
    true,
    'the firewall rejects (returns true) an unknown key'
  )
  t.is(swarmFirewall(isAllowed)(friendKeys.publicKey, null), false, 'and admits a known one')
  t.is(
    swarmFirewall(() => {
      throw new Error('bug')
    })(friendKeys.publicKey, null),
    true,
    'a throwing check rejects'
  )
  asked.length = 0

  await joinSwarm(net, server, { server: true, client: false, isAllowed })
  // what the swarm hands out, before the Replicator's own re-check could drop anything
  const connected: string[] = []
  server.swarm!.on('connection', (conn) => connected.push(hex(conn.remotePublicKey!)))
  await joinSwarm(net, stranger, {
    server: false,
    client: true,
    keyPair: strangerKeys
  })
  await joinSwarm(net, friend, {
    server: false,
    client: true,
    keyPair: friendKeys
  })

  await friend.base.until(async () => (await friend.base.view.get('data/hello')) !== null)
  t.pass('the admitted peer replicates the base')
  await refusedStranger
  t.pass('the stranger did dial the server and was asked about')
  await stranger.swarm!.flush()

  t.ok(asked.includes(hex(strangerKeys.publicKey)), 'the server consulted the firewall for the stranger')
  t.is(stranger.swarm!.connections.size, 0, 'the stranger holds no connection')
  t.alike(
    connected,
    [hex(friendKeys.publicKey)],
    'the server swarm never emitted a connection from the stranger'
  )
  t.alike(
    server.replicator!.peers.map(hex),
    [hex(friendKeys.publicKey)],
    'the server replicates to the friend only'
  )
  t.is(await stranger.base.view.get('data/hello'), null, "the stranger's view has nothing")
  const copy = stranger.store.get({ key: server.base.key })
  await copy.ready()
  t.is(copy.length, 0, "the stranger's store has no block of the base's bootstrap core")
  await copy.close()

  // admitted later: the swarm banned the key, so the firewall is not even asked until unbanned
  admitted.add(hex(strangerKeys.publicKey))
  t.ok(server.replicator!.unban(strangerKeys.publicKey), 'unban lifts the swarm ban')
  t.absent(server.replicator!.unban(strangerKeys.publicKey), 'and reports when there was none')
  stranger.swarm!.joinPeer(server.swarm!.keyPair.publicKey)
  await stranger.base.until(async () => (await stranger.base.view.get('data/hello')) !== null)
  t.pass('once admitted and unbanned, the former stranger replicates')
})

test('Replicator.add: a stream from outside the swarm replicates under the same firewall and attached bases', async (t) => {
  const net = await createTestnet(t)
  const encryptionKey = crypto.randomBytes(32)
  const server = await createPeer(t, 'add-server', { encryptionKey, keyPair: crypto.keyPair() })
  const client = await createPeer(t, 'add-client', { encryptionKey, bootstrap: server.base.key })
  await server.base.append({ type: 'put', key: 'hello', value: 'over an added stream' })

  const serverKeys = crypto.keyPair()
  const friendKeys = crypto.keyPair()
  const strangerKeys = crypto.keyPair()
  const admitted = new Set([hex(friendKeys.publicKey)])
  const added: Array<string | null> = []
  const replicator = new Replicator({
    swarm: net.createSwarm({ keyPair: serverKeys }),
    store: server.store,
    isAllowed: (key) => admitted.has(hex(key)),
    onConnection: (conn, info) => added.push(info === null ? hex(conn.remotePublicKey!) : 'swarm')
  })
  t.teardown(() => replicator.close())
  await replicator.ready()
  replicator.attach(server.base)

  // an in-memory pair of Noise streams stands in for a direct TCP connection
  const pair = async (clientKeys: crypto.KeyPair) => {
    const a = new NoiseSecretStream(false, null, { keyPair: serverKeys })
    const b = new NoiseSecretStream(true, null, { keyPair: clientKeys })
    const raw = (s: NoiseSecretStream) => s.rawStream as { pipe<T>(d: T): T }
    raw(a).pipe(raw(b)).pipe(raw(a))
    a.on('error', () => {})
    b.on('error', () => {})
    t.teardown(() => {
      a.destroy()
      b.destroy()
    })
    await Promise.all([a.opened, b.opened])
    return { serverSide: a, clientSide: b }
  }

  const stranger = await pair(strangerKeys)
  const closed = new Promise<void>((resolve) => stranger.serverSide.once('close', () => resolve()))
  t.absent(replicator.add(stranger.serverSide), 'a stream from a key the firewall refuses is not added')
  await closed
  t.pass('and it is destroyed')

  const friend = await pair(friendKeys)
  t.ok(replicator.add(friend.serverSide), 'an admitted stream is added')
  t.absent(replicator.add(friend.serverSide), 'adding it twice does nothing')
  client.store.replicate(friend.clientSide)
  client.base.attachStream(friend.clientSide)
  await client.base.until(async () => (await client.base.view.get('data/hello')) !== null)
  t.pass('the attached base replicates over it')
  t.alike(added, [hex(friendKeys.publicKey)], 'onConnection saw it once, with no peer info')
  t.alike(replicator.peers.map(hex), [hex(friendKeys.publicKey)], 'it is listed among the peers')

  admitted.clear()
  t.is(replicator.prune(), 1, 'prune drops it once the key is no longer admitted')
  friend.serverSide.destroy()
  await new Promise((r) => setTimeout(r, 50))
  t.alike(replicator.peers, [], 'and it is no longer tracked')
})
