import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Test } from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import { ConclaveError } from '../../src/kernel/errors.js'
import {
  type ApplyHandler,
  openBase,
  Replicator,
  type SubstrateBase,
  type SubstrateBaseOptions,
  swarmFirewall
} from '../../src/kernel/substrate/index.js'
import type { Testnet } from '../helpers/testnet.js'
import { tmpDir } from '../helpers/tmp.js'

/** The test protocol: a tiny discriminated union, including hostile shapes. */
export type Msg =
  | { type: 'put'; key: string; value: unknown }
  | { type: 'add'; key: string; indexer: boolean }
  | { type: 'remove'; key: string }
  | { type: 'boom' }
  | { type: 'partial'; key: string }
  | { type: 'add-then-throw'; key: string }
  | { type: 'copy'; from: string; to: string }
  | { type: 'del'; key: string }
  | { type: 'count'; prefix: string; to: string }

export const apply: ApplyHandler<Msg> = async ({ value, writer }, view, host) => {
  switch (value.type) {
    case 'put':
      await view.put(`data/${value.key}`, {
        value: value.value,
        by: writer.toString('hex')
      })
      return
    case 'add':
      host.addWriter(Buffer.from(value.key, 'hex'), { indexer: value.indexer })
      await view.put(`member/${value.key}`, { indexer: value.indexer })
      return
    case 'remove':
      host.removeWriter(Buffer.from(value.key, 'hex'))
      await view.del(`member/${value.key}`)
      return
    case 'boom': {
      // an engine TypeError, whose message text must not reach the view
      const shape = value as unknown as { missing: { deeper: number } }
      if (shape.missing.deeper > 0) await view.put('never', true)
      return
    }
    case 'partial':
      await view.put(`data/${value.key}`, { value: 'must not survive' })
      throw new ConclaveError('TEST_HOSTILE', 'hostile entry after a partial write')
    case 'copy': {
      // reads what earlier entries (of this apply call too) left in the view
      const got = await view.get(`data/${value.from}`)
      const v = got ? (got.value as { value: unknown }).value : null
      await view.put(`data/${value.to}`, { value: v, by: writer.toString('hex') })
      return
    }
    case 'del':
      await view.del(`data/${value.key}`)
      return
    case 'count': {
      // a range read over the view as earlier entries left it
      const keys: string[] = []
      for await (const { key } of view.createReadStream({
        gte: `data/${value.prefix}`,
        lt: `data/${value.prefix}\uffff`
      }))
        keys.push(key)
      await view.put(`count/${value.to}`, keys)
      return
    }
    case 'add-then-throw':
      host.addWriter(Buffer.from(value.key, 'hex'), { indexer: true })
      throw new ConclaveError('TEST_HOSTILE', 'hostile entry after an add')
    default:
      throw new ConclaveError('TEST_UNKNOWN_TYPE', 'unknown message type')
  }
}

export interface Peer {
  name: string
  dir: string
  store: Corestore
  base: SubstrateBase<Msg>
  swarm: Hyperswarm | null
  replicator: Replicator | null
}

export type PeerOptions = Partial<Omit<SubstrateBaseOptions<Msg>, 'store' | 'apply'>> & {
  encryptionKey: Uint8Array
}

/** A real RocksDB corestore in a temp folder with one base in its own namespace; closed at teardown. */
export async function createPeer(t: Test, name: string, opts: PeerOptions): Promise<Peer> {
  const dir = await tmpDir(t, `conclave-substrate-${name}-`)
  const store = new Corestore(dir)
  const base = await openBase<Msg>({
    ...opts,
    store: store.namespace('test-base'),
    apply
  })
  const peer: Peer = { name, dir, store, base, swarm: null, replicator: null }
  t.teardown(async () => {
    if (peer.replicator) await peer.replicator.close()
    await peer.base.close()
    await peer.store.close()
  })
  return peer
}

/** Reopens a closed peer's folder (same namespace) with other options. */
export async function reopenPeer(t: Test, peer: Peer, opts: PeerOptions): Promise<Peer> {
  const store = new Corestore(peer.dir)
  const base = await openBase<Msg>({
    ...opts,
    store: store.namespace('test-base'),
    apply
  })
  const next: Peer = { ...peer, store, base, swarm: null, replicator: null }
  t.teardown(async () => {
    if (next.replicator) await next.replicator.close()
    await next.base.close()
    await next.store.close()
  })
  return next
}

/**
 * Puts a peer on the swarm topic of its base with a Replicator. Servers must
 * be joined (and flushed) before clients dial them.
 */
export async function joinSwarm(
  net: Testnet,
  peer: Peer,
  opts: {
    server?: boolean
    client?: boolean
    isAllowed?: (key: Buffer) => boolean
    keyPair?: crypto.KeyPair
  } = {}
): Promise<void> {
  const { server = true, client = true, isAllowed } = opts
  const swarm = net.createSwarm({
    keyPair: opts.keyPair ?? crypto.keyPair(),
    ...(isAllowed ? { firewall: swarmFirewall(isAllowed) } : {})
  })
  const replicator = new Replicator({
    swarm,
    store: peer.store,
    ...(isAllowed ? { isAllowed } : {})
  })
  await replicator.ready()
  replicator.attach(peer.base)
  peer.swarm = swarm
  peer.replicator = replicator
  await swarm.join(peer.base.discoveryKey, { server, client }).flushed()
}

/** Leaves the network completely (the swarm is destroyed; connections close). */
export async function leaveSwarm(peer: Peer): Promise<void> {
  if (peer.replicator) await peer.replicator.close()
  if (peer.swarm) await peer.swarm.destroy()
  peer.replicator = null
  peer.swarm = null
}

export async function dump(peer: Peer): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for await (const { key, value } of peer.base.view.createReadStream()) out[JSON.stringify(key)] = value
  return out
}

/**
 * Waits until every peer's view has the same content hash and is entirely
 * final (signedLength covers the whole view), then returns the hash.
 */
export async function converged(
  peers: Peer[],
  extra: () => boolean | Promise<boolean> = () => true
): Promise<string> {
  let hash = ''
  await peers[0]!.base.until(async () => {
    if (!(await extra())) return false
    for (const p of peers) if (p.base.view.core.signedLength !== p.base.view.core.length) return false
    const hashes = await Promise.all(peers.map(async (p) => (await p.base.viewHash()).toString('hex')))
    hash = hashes[0]!
    return hashes.every((h) => h === hash)
  })
  return hash
}

/** Every file under `dir` that contains any of `needles` (raw bytes). */
export async function scan(
  dir: string,
  needles: Record<string, Uint8Array>
): Promise<Record<string, string[]>> {
  const hits: Record<string, string[]> = {}
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name)
      if (entry.isDirectory()) await walk(p)
      else {
        const bytes = await readFile(p)
        for (const [name, needle] of Object.entries(needles)) {
          if (bytes.indexOf(needle) !== -1) (hits[name] ??= []).push(p)
        }
      }
    }
  }
  await walk(dir)
  return hits
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export /**
 * Replicates two stores over one in-memory stream pair. `as` is the Noise
 * key pair the second store presents (the node identity the first one
 * counts). Returns a function that cuts the connection.
 */
function connectStores(a: Corestore, b: Corestore, as = crypto.keyPair()): () => void {
  const sa = a.replicate(true)
  const sb = b.replicate(false, { keyPair: as })
  sa.on('error', () => {})
  sb.on('error', () => {})
  sa.pipe(sb).pipe(sa)
  return () => {
    sa.destroy()
    sb.destroy()
  }
}
