import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { loadConfig } from '../src/kernel/config.js'
import { identityFromSeed, writeIdentity } from '../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../src/kernel/identity/mnemonic.js'
import { silentLogger } from '../src/kernel/log.js'
import { eventually } from '../src/kernel/wait.js'
import { listenLocalApi, type LocalApi } from '../src/http/listen.js'
import { joinCluster } from '../src/node/join.js'
import { ConclaveNode } from '../src/node/node.js'

/**
 * `conclave demo`: the whole story on one machine. A loopback DHT testnet,
 * Alice's account with two devices (her laptop, an access device, and her
 * home relay, which only stores sealed data) and Bob's account with one, in
 * a temporary folder; Alice and Bob exchange cards, vote, the vote closes,
 * and it is archived to Alice's laptop and Bob's device (a friend holds the
 * second key when an account has one access device). Each node is a real
 * ConclaveNode with its RocksDB store and its local API; the result is the
 * login links of the pages. `close()` stops everything and removes the folder.
 */

export interface DemoNode {
  name: string
  node: ConclaveNode
  api: LocalApi
  home: string
}

export interface Demo {
  dir: string
  bootstrap: string
  alice: DemoNode
  relay: DemoNode
  bob: DemoNode
  conversationId: string
  archiveId: string
  close(): Promise<void>
}

const TOPIC = 'Where do we have dinner on Friday?'
const OPTIONS = ['the noodle bar', 'pizza by the river']

export async function startDemo(opts: { onStep?: (line: string) => void } = {}): Promise<Demo> {
  const step = opts.onStep ?? (() => {})
  const dir = mkdtempSync(join(tmpdir(), 'conclave-demo-'))
  const started: DemoNode[] = []
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const close = async () => {
    for (const n of started.reverse()) {
      await n.api.close().catch(() => {})
      await n.node.close().catch(() => {})
    }
    await net.destroy().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }

  const run = async (name: string, home: string, role?: string): Promise<DemoNode> => {
    const config = loadConfig({
      home,
      env: {},
      flags: { bootstrap, port: '0', ...(role ? { role } : {}) }
    })
    const node = new ConclaveNode({ config, log: silentLogger })
    await node.ready()
    const api = await listenLocalApi({
      api: node,
      home,
      host: config.api.host,
      port: config.api.port,
      allowNonLoopback: false,
      log: silentLogger
    })
    const n = { name, node, api, home }
    started.push(n)
    return n
  }
  const fresh = (name: string) => {
    const home = join(dir, name)
    const { identity, secrets } = identityFromSeed(mnemonicToSeed(generateMnemonic()), { device: 0 })
    writeIdentity(home, identity, secrets)
    return home
  }

  try {
    step(`demo folder ${dir}; DHT testnet on ${bootstrap}`)
    const alice = await run("Alice's laptop", fresh('alice'))
    const invite = await alice.node.createInvite({ roles: ['relay'], name: 'home relay' })
    const relayHome = join(dir, 'alice-relay')
    await joinCluster(relayHome, invite.invite, { bootstrap: net.bootstrap })
    const relay = await run("Alice's home relay", relayHome, 'relay')
    const bob = await run("Bob's phone", fresh('bob'))
    step("Alice's laptop and home relay (one account), Bob's phone (another) are running")

    await eventually(
      'the relay to join',
      async () =>
        (await relay.node.status()).devices.length === 2 && (await alice.node.status()).devices.length === 2,
      60_000
    )
    const bobCard = await bob.node.card()
    const aliceCard = await alice.node.card()
    await alice.node.addFriend(bobCard.card)
    await bob.node.addFriend(aliceCard.card)
    step('Alice and Bob exchanged contact cards')

    const { id } = await alice.node.startConversation({
      pattern: 'vote',
      topic: TOPIC,
      method: 'majority',
      options: OPTIONS,
      with: [bobCard.accountId]
    })
    step(`Alice started a vote: "${TOPIC}"`)
    await eventually(
      'Bob to see the vote',
      async () => (await bob.node.listConversations()).some((c) => c.id === id),
      60_000
    )
    await eventually(
      'Alice to vote',
      async () => alice.node.postMessage(id, 'ballot', { choice: OPTIONS[0] }),
      60_000
    )
    await eventually(
      'Bob to vote',
      async () => bob.node.postMessage(id, 'ballot', { choice: OPTIONS[0] }),
      60_000
    )
    step(`both voted for "${OPTIONS[0]}": the vote closes with a majority`)
    const archive = await eventually(
      'the vote to be archived',
      async () => (await alice.node.listArchives()).find((a) => a.conversationId === id),
      120_000
    )
    step(
      `archived as ${archive.id.slice(0, 16)}…, sealed to Alice's laptop and Bob's phone; the relay keeps a copy`
    )
    return { dir, bootstrap, alice, relay, bob, conversationId: id, archiveId: archive.id, close }
  } catch (err) {
    await close()
    throw err
  }
}
