import { rmSync } from 'node:fs'
import { join } from 'node:path'
import c from 'compact-encoding'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import { z } from 'zod'
import {
  issueCertificate,
  type SignedCertificate,
  SignedCertificateSchema
} from '../../cluster/certificate.js'
import { Cluster, type DeviceRecord } from '../../cluster/cluster.js'
import type { Config } from '../kernel/config.js'
import { ed25519KeyPairFromSeed } from '../kernel/crypto/ed25519.js'
import { randomBytes } from '../kernel/crypto/hash.js'
import { hex, unhex } from '../kernel/encoding.js'
import { isConclaveError } from '../kernel/errors.js'
import { loadIdentity, updateIdentity, updateSecrets } from '../kernel/identity/home-store.js'
import { deriveDevice, deriveDeviceSigning, deriveRoot, deriveWriter } from '../kernel/identity/keys.js'
import type { Logger } from '../kernel/log.js'
import { coreKeyFor, Replicator } from '../kernel/substrate/index.js'
import { clusterTopic } from './card.js'
import { NodeErrors } from './errors.js'
import { clusterInitFor, createSwarm, openHomeStore } from './open.js'

/**
 * Recovery of a device from the seed (docs/recovery.md). A home made by
 * `conclave recover` is marked `recovered`; its first `run` calls
 * `recoverDevice` before the node starts:
 *
 * 1. search: a probe of the cluster log in a store of its own (a writer key nobody certified, so it
 *    can never append) replicates from the account's other devices, found on
 *    the cluster topic with the device key derived from the seed;
 * 2. certify: once the probe's view names this device, a root-signed
 *    certificate for the next writer epoch goes to a connected device over
 *    the recovery channel, which appends it (the old writer is retired and
 *    removed by the cluster's apply);
 * 3. download: the cluster log is opened with the new writer and every writer
 *    core it names is downloaded in full, with progress;
 * 4. the home's epoch and writer keys are saved as soon as the certificate is
 *    in the log, and the `recovered` mark is cleared at the end: an
 *    interrupted recovery resumes on the next run and never appends to an old
 *    writer core.
 */

export const RECOVERY_PROTOCOL = 'conclave/recovery/v1'
/** Device indices whose keys a recovering node admits before it knows the cluster's devices. */
const SCAN_DEVICES = 64
const DEFAULT_SEARCH_TIMEOUT_MS = 120_000
const CERTIFY_TIMEOUT_MS = 30_000
const APPLY_TIMEOUT_MS = 60_000
const DOWNLOAD_STALL_MS = 120_000
/** After the device record appears, how long the probe's view must stay unchanged before its epoch is taken. */
const SETTLE_MS = 1_000

export interface RecoveryProgress {
  phase: 'searching' | 'certifying' | 'downloading'
  peers: number
  cores: { done: number; total: number }
  bytes: { done: number; total: number }
}

export interface RecoveryResult {
  device: number
  deviceId: string
  previousEpoch: number
  epoch: number
  cores: number
  bytes: number
  ms: number
}

export interface RecoveryOptions {
  config: Config
  log: Logger
  searchTimeoutMs?: number
  onProgress?: (p: RecoveryProgress) => void
  now?: () => number
}

const CertifyRequestSchema = z
  .object({
    type: z.literal('certify'),
    v: z.literal(1),
    id: z.number().int().min(0),
    signed: SignedCertificateSchema
  })
  .strict()
const CertifyReplySchema = z
  .object({
    type: z.literal('certified'),
    v: z.literal(1),
    id: z.number().int().min(0),
    ok: z.boolean(),
    code: z.string().max(64).optional()
  })
  .strict()
type CertifyReply = z.infer<typeof CertifyReplySchema>

/**
 * The serving side, on every node: a device of the account that lost its
 * disk asks for its own new-epoch certificate to be appended. Only a
 * certificate for the asking device's own key is taken; the cluster checks
 * the root signature and the epoch rules as for any certificate.
 */
export function attachRecoveryServer(
  conn: { remotePublicKey: Buffer | null },
  server: { cluster: Cluster; log: Logger }
): void {
  const remote = conn.remotePublicKey
  if (!remote) return
  const mux = Protomux.from(conn)
  const channel = mux.createChannel({ protocol: RECOVERY_PROTOCOL })
  if (!channel) return
  const message = channel.addMessage({
    encoding: c.json,
    onmessage: (m: unknown) => {
      void handle(m)
    }
  })
  channel.open()

  async function handle(m: unknown): Promise<void> {
    const req = CertifyRequestSchema.safeParse(m)
    if (!req.success) return
    const { id, signed } = req.data
    const reply = (ok: boolean, code?: string) =>
      message.send({ type: 'certified', v: 1, id, ok, ...(code ? { code } : {}) } satisfies CertifyReply)
    const cert = signed.cert as { signingKey?: unknown } | null
    if (!cert || cert.signingKey !== hex(remote!)) {
      reply(false, 'CLUSTER_CERT_INVALID')
      return
    }
    try {
      await server.cluster.certify(signed as SignedCertificate)
      server.log.info('appended the new-epoch certificate of a recovering device', { peer: hex(remote!) })
      reply(true)
    } catch (err) {
      reply(false, isConclaveError(err) ? err.code : 'NODE_RECOVERY_FAILED')
    }
  }
}

interface PeerChannel {
  publicKey: string
  send(m: unknown): void
  pending: Map<number, (r: CertifyReply) => void>
}

/** Runs the recovery of a home marked `recovered`; see the module comment. */
export async function recoverDevice(opts: RecoveryOptions): Promise<RecoveryResult> {
  const started = Date.now()
  const { config, log } = opts
  const now = opts.now ?? Date.now
  const home = config.home
  const loaded = loadIdentity(home)
  const { identity, secrets } = loaded
  if (!secrets.seed) {
    throw NodeErrors.NODE_RECOVERY_NEEDS_ROOT(
      'this home keeps no seed (recovered with --no-keep-root); recover it with the seed kept'
    )
  }
  const seed = unhex(secrets.seed)
  const device = identity.device
  const signing = deriveDeviceSigning(seed, device)
  const ownKeys = new Set<string>()
  for (let i = 0; i < SCAN_DEVICES; i++)
    if (i !== device) ownKeys.add(hex(deriveDeviceSigning(seed, i).publicKey))

  const progress: RecoveryProgress = {
    phase: 'searching',
    peers: 0,
    cores: { done: 0, total: 0 },
    bytes: { done: 0, total: 0 }
  }
  const report = () =>
    opts.onProgress?.({ ...progress, cores: { ...progress.cores }, bytes: { ...progress.bytes } })

  // The probe lives in a store of its own, removed afterwards: autobase opens its system and
  // view cores by key, so a probe in the home's store would share them with the real cluster
  // log and leave its own tentative state in them (the real log then never became final).
  const probeDir = join(home, 'recovery-probe')
  rmSync(probeDir, { recursive: true, force: true })
  let store = new Corestore(probeDir)
  await store.ready()
  // the probe: a writer key nobody certified, so it reads the log and can never append to it
  let cluster = new Cluster(
    { store: store.namespace('conclave/recovery-probe') },
    clusterInitFor(loaded, config, ed25519KeyPairFromSeed(randomBytes(32)))
  )
  let swarm: Hyperswarm | null = null
  let replicator: Replicator | null = null
  const peers = new Set<PeerChannel>()
  let nextId = 0
  const allowed = (pk: Uint8Array): boolean => {
    const rec = cluster.opened ? cluster.deviceBySigningKey(pk) : null
    if (rec) return !rec.revoked
    return ownKeys.has(hex(pk))
  }
  const topic = clusterTopic(loaded)
  /** A swarm on the cluster topic with the device's key, replicating `store` and the cluster log. */
  const connect = async (): Promise<void> => {
    swarm = createSwarm(config, signing, allowed)
    replicator = new Replicator({
      swarm,
      store,
      isAllowed: allowed,
      onConnection: (conn) => attachClient(conn),
      onError: (err) => log.debug('recovery connection error', { err: err as Error })
    })
    await replicator.ready()
    replicator.attach(cluster.base)
    swarm.join(topic, { server: true, client: true })
  }
  const disconnect = async (): Promise<void> => {
    if (replicator) await replicator.close().catch(() => {})
    if (swarm) await swarm.destroy().catch(() => {})
    replicator = null
    swarm = null
    peers.clear()
  }

  try {
    await cluster.ready()
    await connect()

    // 1. search
    const searchMs = opts.searchTimeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS
    report()
    let record = await waitFor(
      cluster,
      () => cluster.getDevice(identity.deviceId),
      searchMs,
      () => {
        progress.peers = peers.size
        report()
      }
    )
    if (!record) {
      throw NodeErrors.NODE_RECOVERY_NO_CLUSTER(
        `no device of account ${identity.accountId} answered within ${Math.round(searchMs / 1000)} s: ` +
          'check the recovery words and the passphrase, and that another device of the account is running ' +
          '(nothing was created; this home stays marked recovered)'
      )
    }
    record = await settle(cluster, identity.deviceId, record)
    if (record.revoked) {
      throw NodeErrors.NODE_RECOVERY_REVOKED(
        `device ${device} (${identity.deviceId}) was revoked in this cluster`
      )
    }
    const previousEpoch = record.epoch
    let epoch = record.epoch
    let writer = { publicKey: unhex(secrets.writer.publicKey), secretKey: unhex(secrets.writer.secretKey) }

    // 2. certify, unless an interrupted run already did
    // `recover` writes epoch 0, which recovery never settles on: only an epoch this home moved to counts
    const alreadyCertified =
      identity.epoch > 0 && record.epoch === identity.epoch && record.writerKey === secrets.writer.publicKey
    if (!alreadyCertified) {
      progress.phase = 'certifying'
      report()
      const root = deriveRoot(seed)
      const keys = deriveDevice(seed, device)
      for (let attempt = 0; ; attempt++) {
        epoch = record.epoch + 1
        const kp = deriveWriter(seed, device, epoch)
        writer = { publicKey: Buffer.from(kp.publicKey), secretKey: Buffer.from(kp.secretKey) }
        const signed = issueCertificate(root.signing, {
          type: 'device-cert',
          v: 1,
          accountId: identity.accountId,
          deviceId: identity.deviceId,
          device,
          epoch,
          signingKey: hex(keys.signing.publicKey),
          xwingKey: hex(keys.xwing.publicKey),
          writerKey: hex(writer.publicKey),
          roles: record.roles as Array<'access' | 'relay'>,
          indexer: record.indexer,
          ...(record.name ? { name: record.name } : {}),
          issuedAt: now()
        })
        const code = await requestCertify(signed)
        if (code === null) break
        // another epoch landed meanwhile (an earlier interrupted run): take the newest and go on
        if (code === 'CLUSTER_CERT_CONFLICT' && attempt < 3) {
          record = (await cluster.getDevice(identity.deviceId)) ?? record
          continue
        }
        throw NodeErrors.NODE_RECOVERY_FAILED(`no device appended the new certificate (${code})`)
      }
      const applied = await waitFor(
        cluster,
        async () => {
          const r = await cluster.getDevice(identity.deviceId)
          return r && r.epoch === epoch && r.writerKey === hex(writer.publicKey) ? r : null
        },
        APPLY_TIMEOUT_MS
      )
      if (!applied)
        throw NodeErrors.NODE_RECOVERY_FAILED('the new certificate did not reach this device in time')
      // from here on the home writes through the new epoch only
      updateSecrets(home, {
        ...secrets,
        writer: { epoch, publicKey: hex(writer.publicKey), secretKey: hex(writer.secretKey) }
      })
      updateIdentity(home, { ...identity, epoch })
      log.info('recovery: new writer epoch certified', { device, epoch, previousEpoch })
    }

    // 3. download everything with the real cluster log, in the home's store
    await disconnect()
    await cluster.close()
    await store.close()
    rmSync(probeDir, { recursive: true, force: true })
    store = await openHomeStore(home, loaded)
    cluster = new Cluster(
      { store: store.namespace('conclave/cluster') },
      clusterInitFor(loaded, config, writer)
    )
    await cluster.ready()
    await connect()
    progress.phase = 'downloading'
    report()
    const writable = await waitFor(cluster, async () => (cluster.writable ? true : null), APPLY_TIMEOUT_MS)
    if (!writable)
      throw NodeErrors.NODE_RECOVERY_FAILED('the cluster log did not admit the new writer in time')
    const cores = await writerCores(cluster, identity.cluster.bootstrap)
    const bytes = await downloadAll(store, cores, progress, report)
    await cluster.base.autobase.update()
    // the node restarts from the log's final state: wait until the new writer is part of it
    const final = await waitFor(
      cluster,
      async () => {
        const core = cluster.base.view.core
        return core.signedLength === core.length && cluster.writable ? true : null
      },
      APPLY_TIMEOUT_MS
    )
    if (!final) {
      const core = cluster.base.view.core
      log.warn('recovery: the new writer epoch is not final yet', {
        signedLength: core.signedLength,
        length: core.length
      })
    }

    updateIdentity(home, { ...identity, epoch, recovered: false })
    return {
      device,
      deviceId: identity.deviceId,
      previousEpoch: alreadyCertified ? previousEpoch - 1 : previousEpoch,
      epoch,
      cores: cores.length,
      bytes,
      ms: Date.now() - started
    }
  } finally {
    await disconnect()
    await cluster.close().catch(() => {})
    await store.close().catch(() => {})
    rmSync(probeDir, { recursive: true, force: true })
  }

  function attachClient(conn: { remotePublicKey: Buffer | null; once?: unknown }): void {
    const remote = conn.remotePublicKey
    if (!remote) return
    const mux = Protomux.from(conn)
    const peer: PeerChannel = { publicKey: hex(remote), send: () => {}, pending: new Map() }
    const channel = mux.createChannel({
      protocol: RECOVERY_PROTOCOL,
      onopen: () => {
        peers.add(peer)
      },
      onclose: () => {
        peers.delete(peer)
        for (const resolve of peer.pending.values())
          resolve({ type: 'certified', v: 1, id: -1, ok: false, code: 'NODE_RECOVERY_FAILED' })
        peer.pending.clear()
      }
    })
    if (!channel) return
    const message = channel.addMessage({
      encoding: c.json,
      onmessage: (m: unknown) => {
        const r = CertifyReplySchema.safeParse(m)
        if (!r.success) return
        const resolve = peer.pending.get(r.data.id)
        peer.pending.delete(r.data.id)
        resolve?.(r.data)
      }
    })
    peer.send = (m) => message.send(m)
    channel.open()
  }

  /** Asks connected devices, one after the other, to append `signed`; null when one did, else the last code. */
  async function requestCertify(signed: SignedCertificate): Promise<string | null> {
    const deadline = Date.now() + CERTIFY_TIMEOUT_MS
    let last = 'NODE_RECOVERY_FAILED'
    while (Date.now() < deadline) {
      for (const peer of [...peers]) {
        const id = nextId++
        const reply = await new Promise<CertifyReply>((resolve) => {
          const timer = setTimeout(() => {
            peer.pending.delete(id)
            resolve({ type: 'certified', v: 1, id, ok: false, code: 'NODE_RECOVERY_FAILED' })
          }, CERTIFY_TIMEOUT_MS)
          peer.pending.set(id, (r) => {
            clearTimeout(timer)
            resolve(r)
          })
          peer.send({ type: 'certify', v: 1, id, signed })
        })
        if (reply.ok) return null
        last = reply.code ?? last
        if (last === 'CLUSTER_CERT_CONFLICT') return last
      }
      await sleep(500)
    }
    return last
  }
}

/** Polls `check` on every view update (and twice a second) until it gives a value or `ms` pass. */
async function waitFor<T>(
  cluster: Cluster,
  check: () => Promise<T | null>,
  ms: number,
  tick?: () => void
): Promise<T | null> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== null) return v
    tick?.()
    if (Date.now() >= deadline) return null
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        cluster.off('update', done)
        resolve()
      }
      const timer = setTimeout(done, 500)
      cluster.on('update', done)
    })
  }
}

/** The device record once the probe's view has stopped changing for SETTLE_MS: its newest epoch. */
async function settle(cluster: Cluster, deviceId: string, first: DeviceRecord): Promise<DeviceRecord> {
  let record = first
  let last = `${cluster.base.view.core.length}`
  let since = Date.now()
  const deadline = Date.now() + 10 * SETTLE_MS
  while (Date.now() - since < SETTLE_MS && Date.now() < deadline) {
    await sleep(200)
    await cluster.base.autobase.update().catch(() => {})
    const state = `${cluster.base.view.core.length}`
    if (state !== last) {
      last = state
      since = Date.now()
    }
    record = (await cluster.getDevice(deviceId)) ?? record
  }
  return record
}

/** Every writer core the cluster view names (any epoch, any state), and the bootstrap core. */
async function writerCores(cluster: Cluster, bootstrapPublicKey: string): Promise<Buffer[]> {
  const keys = new Set<string>([hex(coreKeyFor(unhex(bootstrapPublicKey)))])
  for await (const { key } of cluster.base.view.createReadStream({ gte: 'writer/', lt: 'writer0' })) {
    keys.add(String(key).slice('writer/'.length))
  }
  return [...keys].map((k) => unhex(k))
}

/** Downloads every core in full; returns the bytes fetched. */
async function downloadAll(
  store: Corestore,
  keys: Buffer[],
  progress: RecoveryProgress,
  report: () => void
): Promise<number> {
  progress.cores = { done: 0, total: keys.length }
  progress.bytes = { done: 0, total: 0 }
  let fetched = 0
  let lastReport = 0
  const tick = () => {
    const t = Date.now()
    if (t - lastReport < 200) return
    lastReport = t
    report()
  }
  const sessions = keys.map((key) => store.get({ key }))
  try {
    await Promise.all(
      sessions.map(async (core) => {
        await core.ready()
        await withTimeout(core.update({ wait: true }), 10_000).catch(() => false)
        progress.bytes.total += core.byteLength
        const have = core.contiguousLength
        if (have > 0) progress.bytes.done += approximateBytes(core, have)
        core.on('download', (_index: number, byteLength: number) => {
          fetched += byteLength
          progress.bytes.done += byteLength
          tick()
        })
        if (core.length > 0) {
          const range = core.download({ start: 0, end: core.length })
          const done = await withTimeout(range.done(), DOWNLOAD_STALL_MS).then(
            () => true,
            () => false
          )
          if (!done) {
            throw NodeErrors.NODE_RECOVERY_FAILED(
              `the download of core ${hex(core.key!).slice(0, 16)}… stalled; running again resumes`
            )
          }
        }
        progress.cores.done++
        tick()
      })
    )
  } finally {
    for (const s of sessions) await s.close().catch(() => {})
  }
  progress.bytes.done = Math.max(progress.bytes.done, progress.bytes.total)
  report()
  return fetched
}

function approximateBytes(core: { byteLength: number; length: number }, blocks: number): number {
  return core.length === 0 ? 0 : Math.round((core.byteLength * blocks) / core.length)
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    )
  })
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
