import type { Test } from 'brittle'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import {
  type DeviceCertificate,
  issueCertificate,
  issueRevocation,
  type SignedCertificate,
  type SignedRevocation
} from '../../cluster/certificate.js'
import { Cluster, type ClusterInit } from '../../cluster/cluster.js'
import type { ClusterEntry } from '../../cluster/entries.js'
import type { Ed25519KeyPair } from '../../src/kernel/crypto/ed25519.js'
import { hex } from '../../src/kernel/encoding.js'
import {
  type ClusterKeys,
  type DeviceKeys,
  deriveCluster,
  deriveDevice,
  deriveRoot,
  deriveWriter,
  generateMnemonic,
  mnemonicToSeed,
  type RootKeys
} from '../../src/kernel/identity/index.js'
import { Replicator, swarmFirewall, waitForWriter } from '../../src/kernel/substrate/index.js'
import type { Testnet } from '../helpers/testnet.js'
import { tmpDir } from '../helpers/tmp.js'

/** One account derived from a fresh seed phrase, and what its root signs. */
export interface Account {
  seed: Buffer
  root: RootKeys
  accountId: string
  cluster: ClusterKeys
  device(index: number): DeviceKeys
  writer(index: number, epoch: number): Ed25519KeyPair
  /** A root-signed certificate for device `index` at `epoch`; `over` replaces any field of the body. */
  certificate(index: number, epoch: number, over?: Partial<DeviceCertificate>): SignedCertificate
  revocation(index: number, over?: { reason?: string; revokedAt?: number }): SignedRevocation
}

/** A certificate naming `victim`'s device `index` (its account, ids and keys) but signed by `signer`'s root. */
export function forgedCertificate(signer: Account, victim: Account, index: number): SignedCertificate {
  return signer.certificate(index, 0, {
    accountId: victim.accountId,
    deviceId: victim.device(index).deviceId,
    signingKey: hex(victim.device(index).signing.publicKey),
    xwingKey: hex(victim.device(index).xwing.publicKey),
    indexer: false
  })
}

export function createAccount(): Account {
  const seed = mnemonicToSeed(generateMnemonic())
  const root = deriveRoot(seed)
  const devices = new Map<number, DeviceKeys>()
  const device = (index: number): DeviceKeys => {
    let d = devices.get(index)
    if (!d) devices.set(index, (d = deriveDevice(seed, index)))
    return d
  }
  const writer = (index: number, epoch: number): Ed25519KeyPair => deriveWriter(seed, index, epoch)
  let clock = 1_700_000_000_000
  return {
    seed,
    root,
    accountId: root.accountId,
    cluster: deriveCluster(seed),
    device,
    writer,
    certificate(index, epoch, over = {}) {
      const d = device(index)
      return issueCertificate(root.signing, {
        type: 'device-cert',
        v: 1,
        accountId: root.accountId,
        deviceId: d.deviceId,
        device: index,
        epoch,
        signingKey: hex(d.signing.publicKey),
        xwingKey: hex(d.xwing.publicKey),
        writerKey: hex(writer(index, epoch).publicKey),
        roles: ['access', 'relay'],
        indexer: index === 0,
        issuedAt: clock++,
        ...over
      })
    },
    revocation(index, over = {}) {
      return issueRevocation(root.signing, {
        type: 'device-revoke',
        v: 1,
        accountId: root.accountId,
        deviceId: device(index).deviceId,
        revokedAt: clock++,
        ...over
      })
    }
  }
}

/** A device's node for these tests: a real RocksDB store in a temp folder, one Cluster on its own namespace. */
export interface DeviceNode {
  name: string
  index: number
  epoch: number
  dir: string
  store: Corestore
  cluster: Cluster
  swarm: Hyperswarm | null
  replicator: Replicator | null
}

export async function openDevice(
  t: Test,
  account: Account,
  opts: {
    index: number
    epoch?: number
    name?: string
    trusted?: SignedCertificate[]
    ackIntervalMs?: number
    /** Reopen the store of a closed node instead of a fresh one. */
    dir?: string
  }
): Promise<DeviceNode> {
  const { index, epoch = 0 } = opts
  const name = opts.name ?? `d${index}e${epoch}`
  const dir = opts.dir ?? (await tmpDir(t, `conclave-cluster-${name}-`))
  const store = new Corestore(dir)
  const init: ClusterInit = {
    accountId: account.accountId,
    rootPublic: account.root.publicKey,
    bootstrapPublicKey: account.cluster.bootstrap.publicKey,
    writerKeyPair: account.writer(index, epoch),
    encryptionKey: account.cluster.encryptionKey,
    ackIntervalMs: opts.ackIntervalMs ?? 500,
    ...(opts.trusted ? { trusted: opts.trusted } : {})
  }
  const cluster = new Cluster({ store: store.namespace('cluster') }, init)
  cluster.on('fault', (err: Error) => t.fail(`${name}: the cluster base failed: ${err.message}`))
  await cluster.ready()
  const node: DeviceNode = { name, index, epoch, dir, store, cluster, swarm: null, replicator: null }
  t.teardown(() => closeDevice(node))
  return node
}

export async function closeDevice(node: DeviceNode): Promise<void> {
  await leaveSwarm(node)
  await node.cluster.close()
  await node.store.close()
}

/**
 * Puts a device on the cluster topic with its signing key pair as Noise key
 * and the membership firewall. Join the server side first, then clients.
 */
export async function joinSwarm(
  net: Testnet,
  node: DeviceNode,
  account: Account,
  opts: { server?: boolean; client?: boolean } = {}
): Promise<void> {
  const { server = true, client = true } = opts
  const isAllowed = (key: Buffer): boolean => node.cluster.isMemberSigningKey(key)
  const swarm = net.createSwarm({
    keyPair: account.device(node.index).signing,
    firewall: swarmFirewall(isAllowed)
  })
  const replicator = new Replicator({ swarm, store: node.store, isAllowed })
  await replicator.ready()
  replicator.attach(node.cluster.base)
  // a key rejected once is banned for the swarm's life: lift bans of members, drop the revoked
  node.cluster.on('members', () => {
    void (async () => {
      for (const d of await node.cluster.devices()) {
        if (!d.revoked) replicator.unban(Buffer.from(d.signingKey, 'hex'))
      }
      replicator.prune()
    })().catch(() => {})
  })
  node.swarm = swarm
  node.replicator = replicator
  await swarm.join(account.cluster.topic, { server, client }).flushed()
}

/**
 * Device 0 (the indexer) and device 1 (a plain writer) of `acct`, both
 * certified, on the swarm (A as server), once B is writable.
 */
export async function twoDevices(
  t: Test,
  net: Testnet,
  acct: Account
): Promise<{ a: DeviceNode; b: DeviceNode }> {
  const certA = acct.certificate(0, 0, { indexer: true })
  const certB = acct.certificate(1, 0, { indexer: false })
  const a = await openDevice(t, acct, { index: 0, name: 'a' })
  await a.cluster.certify(certA)
  await a.cluster.certify(certB)
  const b = await openDevice(t, acct, { index: 1, name: 'b', trusted: [certA, certB] })
  await joinSwarm(net, a, acct, { server: true, client: false })
  await joinSwarm(net, b, acct)
  await waitForWriter(b.cluster.base)
  return { a, b }
}

export async function leaveSwarm(node: DeviceNode): Promise<void> {
  if (node.replicator) await node.replicator.close()
  if (node.swarm) await node.swarm.destroy()
  node.replicator = null
  node.swarm = null
}

/**
 * Waits until every node's view has the same hash and is entirely final
 * (and `extra` holds), then returns the hash. `final: false` accepts a
 * tentative view (when finality cannot come, e.g. a lost indexer of two).
 */
export async function converged(
  nodes: DeviceNode[],
  extra: () => boolean | Promise<boolean> = () => true,
  opts: { final?: boolean } = {}
): Promise<string> {
  let hash = ''
  await nodes[0]!.cluster.base.until(async () => {
    if (!(await extra())) return false
    for (const n of opts.final === false ? [] : nodes) {
      const core = n.cluster.base.view.core
      if (core.signedLength !== core.length) return false
    }
    const hashes = await Promise.all(nodes.map(async (n) => hex(await n.cluster.viewHash())))
    hash = hashes[0]!
    return hashes.every((h) => h === hash)
  })
  return hash
}

/** Appends anything (bypassing every check) and returns the entry's (writer, length) name. */
export async function appendRaw(node: DeviceNode, value: unknown): Promise<string> {
  // the length the append resolved with: the local core can be longer by the time it is read
  // (the base appends acknowledgements of its own every ackIntervalMs)
  const length = await node.cluster.append(value as ClusterEntry)
  return `${hex(node.cluster.base.localKey)}:${length}`
}

/** Appends raw bytes that are not JSON at all. */
export async function appendBytes(node: DeviceNode, bytes: Buffer): Promise<string> {
  const length = await node.cluster.base.autobase.append(bytes)
  return `${hex(node.cluster.base.localKey)}:${length}`
}

export async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}
