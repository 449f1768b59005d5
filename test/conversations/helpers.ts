import type { Test } from 'brittle'
import Corestore from 'corestore'
import { type DeviceCertificate, issueCertificate, issueRevocation } from '../../cluster/certificate.js'
import {
  Conversation,
  type ConversationOptions,
  type ManifestInput,
  type Member
} from '../../conversations/index.js'
import { blake2b } from '../../src/kernel/crypto/hash.js'
import { type Ed25519KeyPair, ed25519KeyPairFromSeed } from '../../src/kernel/crypto/ed25519.js'
import { hex } from '../../src/kernel/encoding.js'
import {
  type DeviceKeys,
  deriveDevice,
  deriveRoot,
  deriveWriter,
  type RootKeys
} from '../../src/kernel/identity/index.js'
import { labelledHash } from '../../src/kernel/crypto/hash.js'
import { linkNodes } from '../helpers/link.js'
import { tmpDir } from '../helpers/tmp.js'

/** An account from a fixed seed, its devices, and what its root signs (the cluster's certificate format). */
export interface Account {
  name: string
  seed: Buffer
  root: RootKeys
  accountId: string
  device(index: number): DeviceKeys
  certificate(index: number, over?: Partial<DeviceCertificate>): { cert: DeviceCertificate; sig: string }
  revocation(index: number): { revocation: Record<string, unknown>; sig: string }
  /** The manifest's member entry with certificates for `devices`. */
  member(devices: number[]): Member
}

const accounts = new Map<string, Account>()

/** A deterministic account: the seed is BLAKE2b-512 of its name. Cached per process (ML-DSA keygen). */
export function account(name: string): Account {
  const known = accounts.get(name)
  if (known) return known
  const seed = blake2b(Buffer.from(`conclave test account ${name}`), 64)
  const root = deriveRoot(seed)
  const devices = new Map<number, DeviceKeys>()
  const certs = new Map<number, { cert: DeviceCertificate; sig: string }>()
  const device = (index: number): DeviceKeys => {
    let d = devices.get(index)
    if (!d) devices.set(index, (d = deriveDevice(seed, index)))
    return d
  }
  const certificate = (index: number, over: Partial<DeviceCertificate> = {}) => {
    const cached = Object.keys(over).length === 0 ? certs.get(index) : undefined
    if (cached) return cached
    const d = device(index)
    const signed = issueCertificate(root.signing, {
      type: 'device-cert',
      v: 1,
      accountId: root.accountId,
      deviceId: d.deviceId,
      device: index,
      epoch: 0,
      signingKey: hex(d.signing.publicKey),
      xwingKey: hex(d.xwing.publicKey),
      writerKey: hex(deriveWriter(seed, index, 0).publicKey),
      roles: ['access', 'relay'],
      indexer: index === 0,
      issuedAt: 1_700_000_000_000 + index,
      ...over
    })
    if (Object.keys(over).length === 0) certs.set(index, signed)
    return signed
  }
  const a: Account = {
    name,
    seed,
    root,
    accountId: root.accountId,
    device,
    certificate,
    revocation: (index) =>
      issueRevocation(root.signing, {
        type: 'device-revoke',
        v: 1,
        accountId: root.accountId,
        deviceId: device(index).deviceId,
        revokedAt: 1_700_000_100_000
      }) as unknown as { revocation: Record<string, unknown>; sig: string },
    member: (list) => ({
      accountId: root.accountId,
      rootPublic: { ed25519: hex(root.publicKey.ed25519), mldsa: hex(root.publicKey.mldsa) },
      devices: list.map((i) => certificate(i) as unknown as Member['devices'][number])
    })
  }
  accounts.set(name, a)
  return a
}

/** A per-conversation writer key pair of a device (never the cluster writer). */
export function writerFor(acct: Account, index: number, tag: string): Ed25519KeyPair {
  return ed25519KeyPairFromSeed(
    labelledHash('conclave/test/conversation-writer', [
      acct.device(index).signing.secretKey,
      Buffer.from(tag)
    ])
  )
}

/** A device's node for these tests: a real RocksDB corestore in a temp folder with one Conversation. */
export interface Node {
  name: string
  acct: Account
  index: number
  dir: string
  store: Corestore
  conv: Conversation
  /** Wall clock this node stamps into its entries (tests move it). */
  wall: { now: number }
}

export interface OpenOptions {
  bootstrap?: Buffer | null
  encryptionKey: Buffer
  tag: string
  ackIntervalMs?: number
  wall?: number
  dir?: string
}

export async function openNode(
  t: Test,
  name: string,
  acct: Account,
  index: number,
  opts: OpenOptions
): Promise<Node> {
  const dir = opts.dir ?? (await tmpDir(t, `conclave-conv-${name}-`))
  const store = new Corestore(dir)
  const wall = { now: opts.wall ?? 1_700_000_000_000 }
  const d = acct.device(index)
  const options: ConversationOptions = {
    bootstrap: opts.bootstrap ?? null,
    writerKeyPair: writerFor(acct, index, opts.tag),
    encryptionKey: opts.encryptionKey,
    device: { accountId: acct.accountId, deviceId: d.deviceId, signingKeyPair: d.signing },
    ackIntervalMs: opts.ackIntervalMs ?? 200,
    wallClock: () => wall.now
  }
  const conv = new Conversation({ store: store.namespace(`conv-${opts.tag}`) }, options)
  conv.on('fault', (err: Error) => t.fail(`${name}: the conversation base failed: ${err.message}`))
  await conv.ready()
  const node: Node = { name, acct, index, dir, store, conv, wall }
  t.teardown(async () => {
    await node.conv.close()
    await node.store.close()
  })
  return node
}

/** Replicates two nodes' stores in-process; returns a function that cuts the link. */
export function link(a: Node, b: Node): () => void {
  return linkNodes({ store: a.store, base: a.conv.base }, { store: b.store, base: b.conv.base })
}

/** The in-process links of a set of nodes: every pair, cut and restored one by one or all at once. */
export class Mesh {
  readonly #nodes: Node[]
  readonly #cuts = new Map<string, () => void>()

  constructor(t: Test, nodes: Node[]) {
    this.#nodes = nodes
    t.teardown(() => this.cutAll(), { order: -1 })
    this.linkAll()
  }

  linkAll(): void {
    for (let i = 0; i < this.#nodes.length; i++) {
      for (let j = i + 1; j < this.#nodes.length; j++) this.link(this.#nodes[i]!, this.#nodes[j]!)
    }
  }

  link(a: Node, b: Node): void {
    const id = [a.name, b.name].sort().join('-')
    if (!this.#cuts.has(id)) this.#cuts.set(id, link(a, b))
  }

  /** Takes a node off the network (it keeps appending locally). */
  isolate(n: Node): void {
    for (const [id, cut] of this.#cuts) {
      if (id.split('-').includes(n.name)) {
        cut()
        this.#cuts.delete(id)
      }
    }
  }

  cutAll(): void {
    for (const cut of this.#cuts.values()) cut()
    this.#cuts.clear()
  }
}

export interface Trio {
  A: Account
  B: Account
  /** a0 (creator, always-on), a1 (phone), b0 (B's always-on device). */
  a0: Node
  a1: Node
  b0: Node
  nodes: Node[]
  mesh: Mesh
}

/**
 * Two accounts, three devices: a0 creates the conversation with `input`,
 * a1 and b0 join with the base key, every pair is linked, and a0 admits
 * the writers of a1 and b0 (their signed requests, as the node relays them).
 */
export async function trio(
  t: Test,
  input: (A: Account, B: Account) => ManifestInput,
  tag = 'c1'
): Promise<Trio> {
  const A = account('alice')
  const B = account('bob')
  const encryptionKey = conversationKey(tag)
  const a0 = await openNode(t, 'a0', A, 0, { encryptionKey, tag })
  await a0.conv.create(input(A, B))
  const a1 = await openNode(t, 'a1', A, 1, { encryptionKey, tag, bootstrap: a0.conv.key })
  const b0 = await openNode(t, 'b0', B, 0, { encryptionKey, tag, bootstrap: a0.conv.key })
  const nodes = [a0, a1, b0]
  const net = new Mesh(t, nodes)
  await a0.conv.addWriter(a1.conv.writerRequest())
  await a0.conv.addWriter(b0.conv.writerRequest())
  await Promise.all([a1.conv.base.until(() => a1.conv.writable), b0.conv.base.until(() => b0.conv.writable)])
  return { A, B, a0, a1, b0, nodes, mesh: net }
}

/** The (fixed) conversation key of a test conversation. */
export function conversationKey(tag: string): Buffer {
  return blake2b(Buffer.from(`conversation key ${tag}`), 32)
}

/** The members entry of A (devices 0 and 1) and B (device 0). */
export function members(A: Account, B: Account): Member[] {
  return [A.member([0, 1]), B.member([0])]
}

/**
 * Waits until every node's view has the same hash and is entirely final
 * (and `extra` holds on every node), then returns the hash.
 */
export async function converged(
  nodes: Node[],
  extra: (n: Node) => boolean | Promise<boolean> = () => true,
  timeoutMs = 120_000
): Promise<string> {
  let hash = ''
  try {
    await nodes[0]!.conv.base.until(
      async () => {
        for (const n of nodes) {
          const core = n.conv.base.view.core
          if (core.signedLength !== core.length) return false
          if (!(await extra(n))) return false
        }
        const hashes = await Promise.all(nodes.map(async (n) => hex(await n.conv.viewHash())))
        hash = hashes[0]!
        return hashes.every((h) => h === hash)
      },
      { signal: AbortSignal.timeout(timeoutMs) }
    )
  } catch (err) {
    // say where it stood rather than hang until the file times out
    const where = await Promise.all(
      nodes.map(async (n) => {
        const core = n.conv.base.view.core
        const s = await n.conv.show().catch(() => null)
        const b = n.conv.base.autobase
        return `${n.name}: view ${core.signedLength}/${core.length}, system ${b.signedLength}/${b.indexedLength}/${b.length}, writable ${n.conv.writable}, indexer ${n.conv.base.isIndexer}, total ${s?.total}, phase ${s?.phase}, closed ${s?.closed}, outcome ${s?.outcome?.state}, extra ${await extra(n)}, hash ${hex(await n.conv.viewHash()).slice(0, 8)}`
      })
    )
    throw new Error(`not converged: ${(err as Error).message}\n${where.join('\n')}`)
  }
  return hash
}

export async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}
