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
import { withTimeout } from '../kernel/wait.js'
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
/** A core download that fetched nothing for this long fails (its peers left); any block resets it. */
const DOWNLOAD_STALL_MS = 60_000
/** Opening a store or the cluster log, one view update, one view read: local work, bounded all the same. */
const STEP_TIMEOUT_MS = 30_000
/** Closing the probe's or the home's store before the next step opens one: past this recovery fails. */
const CLOSE_TIMEOUT_MS = 10_000
/**
 * Leaving the swarm: hyperswarm first ends its running DHT announce and unannounces; past this
 * it is destroyed by force, which leaves the announcement to expire in the DHT.
 */
const SWARM_CLOSE_TIMEOUT_MS = 30_000
/** Completing the cluster log's cores locally before the node opens them (completeLocalCores). */
const COMPLETE_TIMEOUT_MS = 30_000
/** After the device record appears, how long the probe's view must stay unchanged before its epoch is taken. */
const SETTLE_MS = 1_000
/** The same, once the probe holds all its peers have of every core of the log (`SubstrateBase.caughtUp`). */
const CAUGHT_UP_SETTLE_MS = 50

export interface RecoveryProgress {
  phase: 'searching' | 'certifying' | 'downloading' | 'finalising'
  /** What the current phase waits for, in words (progress lines show it). */
  step: string
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
  /** Whether the cluster view was final, with the new writer in it, when recovery ended. */
  final: boolean
  /** When not final: why (the wait ran out, or finality cannot come; see finalityBlocker). */
  notFinal: string | null
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
    step: 'opening a read-only probe of the cluster log',
    peers: 0,
    cores: { done: 0, total: 0 },
    bytes: { done: 0, total: 0 }
  }
  const report = () =>
    opts.onProgress?.({ ...progress, cores: { ...progress.cores }, bytes: { ...progress.bytes } })
  /** A new step of the current phase: logged and reported, so a slow step shows which one it is. */
  const step = (phase: RecoveryProgress['phase'], text: string) => {
    progress.phase = phase
    progress.step = text
    log.info(`recovery: ${text}`)
    report()
  }
  /** Every await below that waits on other devices, the network or the stores is bounded by one of these. */
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    withTimeout(p, ms).catch((err: unknown) => {
      if (isConclaveError(err)) throw err
      const timedOut = (err as Error).message === 'timeout'
      throw NodeErrors.NODE_RECOVERY_FAILED(
        timedOut
          ? `${what} did not finish within ${Math.round(ms / 1000)} s; running again resumes`
          : `${what} failed: ${(err as Error).message}; running again resumes`,
        { cause: err }
      )
    })

  // The probe lives in a store of its own, removed afterwards: autobase opens its system and
  // view cores by key, so a probe in the home's store would share them with the real cluster
  // log and leave its own tentative state in them (the real log then never became final).
  const probeDir = join(home, 'recovery-probe')
  rmSync(probeDir, { recursive: true, force: true })
  report()
  let store = new Corestore(probeDir)
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
  /**
   * Replicates `store` and the cluster log on a swarm on the cluster topic with the device's key.
   * The probe's swarm is kept for the real cluster log: its connections to the devices go on
   * replicating the home's store, and no second DHT lookup (seen to take 15 s here) is needed.
   */
  const connect = async (): Promise<void> => {
    const fresh = swarm === null
    swarm ??= createSwarm(config, signing, allowed)
    replicator = new Replicator({
      swarm,
      store,
      isAllowed: allowed,
      onConnection: (conn) => attachClient(conn),
      onError: (err) => log.debug('recovery connection error', { err: err as Error })
    })
    await within(replicator.ready(), STEP_TIMEOUT_MS, 'starting the recovery swarm')
    replicator.attach(cluster.base)
    // not awaited: the DHT announce and lookup go on in the background, devices connect as found
    if (fresh) swarm.join(topic, { server: true, client: true })
  }
  /** Stops replicating the current store; the swarm and its connections stay for the next one. */
  const detach = async (): Promise<void> => {
    const r = replicator
    replicator = null
    if (r) await closeWithin(r.close(), CLOSE_TIMEOUT_MS, 'the recovery replicator', log)
  }
  /**
   * Leaves the swarm. Hyperswarm's destroy first waits for the running DHT announce
   * and lookup, which on a loaded machine or an unreachable DHT can take minutes:
   * past SWARM_CLOSE_TIMEOUT_MS it is destroyed by force.
   */
  const disconnect = async (): Promise<void> => {
    const r = replicator
    const s = swarm
    replicator = null
    swarm = null
    peers.clear()
    if (r) await closeWithin(r.close(), CLOSE_TIMEOUT_MS, 'the recovery replicator', log)
    if (s) {
      const done = await closeWithin(s.destroy(), SWARM_CLOSE_TIMEOUT_MS, 'the recovery swarm', log)
      if (!done)
        await closeWithin(s.destroy({ force: true }), CLOSE_TIMEOUT_MS, 'the recovery swarm (forced)', log)
    }
  }
  /** Closes the cluster log and its store; `strict`: a store that does not close fails the recovery (the node reopens it). */
  const closeStores = async (strict: boolean): Promise<void> => {
    const closedCluster = await closeWithin(
      cluster.close(),
      CLOSE_TIMEOUT_MS,
      'the recovery cluster log',
      log
    )
    const closedStore = await closeWithin(store.close(), CLOSE_TIMEOUT_MS, 'the recovery store', log)
    if (strict && !(closedCluster && closedStore)) {
      throw NodeErrors.NODE_RECOVERY_FAILED(
        `the recovery's store did not close within ${CLOSE_TIMEOUT_MS / 1000} s; running again resumes`
      )
    }
  }

  try {
    await within(store.ready(), STEP_TIMEOUT_MS, 'opening the probe store')
    await within(cluster.ready(), STEP_TIMEOUT_MS, 'opening the probe of the cluster log')
    await connect()

    // 1. search
    const searchMs = opts.searchTimeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS
    step('searching', "looking for the account's other devices")
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
    step('searching', 'found this device in the cluster log; reading its newest epoch')
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
      step('certifying', 'asking a device to append the new writer certificate')
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
          record =
            (await within(
              cluster.getDevice(identity.deviceId),
              STEP_TIMEOUT_MS,
              'reading the device record'
            )) ?? record
          continue
        }
        throw NodeErrors.NODE_RECOVERY_FAILED(`no device appended the new certificate (${code})`)
      }
      step('certifying', `waiting for the certificate of epoch ${epoch} to reach this device`)
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
    step('downloading', 'closing the probe')
    await detach()
    await closeStores(true)
    rmSync(probeDir, { recursive: true, force: true })
    step('downloading', 'opening the cluster log with the new writer')
    store = await within(openHomeStore(home, loaded), STEP_TIMEOUT_MS, "opening the home's store")
    cluster = new Cluster(
      { store: store.namespace('conclave/cluster') },
      clusterInitFor(loaded, config, writer)
    )
    await within(cluster.ready(), STEP_TIMEOUT_MS, 'opening the cluster log')
    await connect()
    step('downloading', 'waiting until the cluster log admits the new writer')
    const writable = await waitFor(cluster, async () => (cluster.writable ? true : null), APPLY_TIMEOUT_MS)
    if (!writable)
      throw NodeErrors.NODE_RECOVERY_FAILED('the cluster log did not admit the new writer in time')
    const cores = await within(
      writerCores(cluster, identity.cluster.bootstrap),
      STEP_TIMEOUT_MS,
      "reading the view's writer cores"
    )
    step('downloading', 'downloading the writer cores')
    const bytes = await downloadAll(store, cores, progress, report)

    // 4. the node restarts from the log's final state: wait until the new writer is part of it,
    // unless the view's indexers can no longer make it final (finalityBlocker)
    step('finalising', 'waiting for a final cluster view')
    await withTimeout(cluster.base.autobase.update(), STEP_TIMEOUT_MS).catch(() => {
      log.warn('recovery: a cluster view update did not finish in time; waiting for finality all the same')
    })
    let notFinal: string | null = null
    const final = await waitFor(
      cluster,
      async () => {
        const core = cluster.base.view.core
        if (core.signedLength === core.length && cluster.writable) return true
        notFinal = await finalityBlocker(cluster)
        return notFinal === null ? null : false
      },
      APPLY_TIMEOUT_MS
    )
    if (final !== true) {
      const core = cluster.base.view.core
      notFinal ??= `no final view within ${APPLY_TIMEOUT_MS / 1000} s`
      log.warn('recovery: the new writer epoch is not final yet', {
        signedLength: core.signedLength,
        length: core.length,
        reason: notFinal
      })
    }
    // The node opens this store with no peer connected yet (its swarm starts after the cluster
    // log): whatever autobase reads on open must be here. A fast-forward takes the signed system
    // and views by reference and fetches their blocks on demand, so after one some of them can
    // be missing, and the node's open would wait for a peer that is not asked yet.
    step('finalising', "completing the cluster log's system and view cores")
    await completeLocalCores(cluster, store, log)
    step('finalising', 'closing the recovery swarm and store')
    await disconnect()
    await closeStores(true)

    updateIdentity(home, { ...identity, epoch, recovered: false })
    return {
      device,
      deviceId: identity.deviceId,
      previousEpoch: alreadyCertified ? previousEpoch - 1 : previousEpoch,
      epoch,
      cores: cores.length,
      bytes,
      ms: Date.now() - started,
      final: final === true,
      notFinal: final === true ? null : notFinal
    }
  } finally {
    await disconnect()
    await closeStores(false)
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
      if (peers.size === 0) {
        progress.step = 'asking a device to append the new writer certificate (no device connected)'
        report()
      }
      for (const peer of [...peers]) {
        const id = nextId++
        // a peer that never answers (its node busy or gone without a close) costs the time left, no more
        const reply = await new Promise<CertifyReply>((resolve) => {
          const timer = setTimeout(
            () => {
              peer.pending.delete(id)
              resolve({ type: 'certified', v: 1, id, ok: false, code: 'NODE_RECOVERY_FAILED' })
            },
            Math.max(1_000, deadline - Date.now())
          )
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
    // a view read that hangs (a store being closed, say) counts as "not yet", and the deadline holds
    const v = await withTimeout(check(), Math.max(1_000, deadline - Date.now())).catch((err: unknown) => {
      if (isConclaveError(err)) throw err
      return null
    })
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

/**
 * The device record once the probe's view has stopped changing: its newest
 * epoch. Stopped means unchanged for SETTLE_MS, or for CAUGHT_UP_SETTLE_MS
 * while the probe is caught up with its peers (`SubstrateBase.caughtUp`).
 */
async function settle(cluster: Cluster, deviceId: string, first: DeviceRecord): Promise<DeviceRecord> {
  let record = first
  let last = `${cluster.base.view.core.length}`
  let since = Date.now()
  const deadline = Date.now() + 10 * SETTLE_MS
  const settled = () => {
    const quiet = Date.now() - since
    return quiet >= SETTLE_MS || (quiet >= CAUGHT_UP_SETTLE_MS && cluster.base.caughtUp())
  }
  while (!settled() && Date.now() < deadline) {
    await sleep(CAUGHT_UP_SETTLE_MS)
    const left = Math.max(1_000, deadline - Date.now())
    await withTimeout(cluster.base.autobase.update(), left).catch(() => {})
    const state = `${cluster.base.view.core.length}`
    if (state !== last) {
      last = state
      since = Date.now()
    }
    record = (await withTimeout(cluster.getDevice(deviceId), left).catch(() => null)) ?? record
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
        const name = `core ${hex(core.key ?? Buffer.alloc(0)).slice(0, 16)}…`
        await withTimeout(core.ready(), STEP_TIMEOUT_MS).catch(() => {
          throw NodeErrors.NODE_RECOVERY_FAILED(
            `opening ${name} did not finish in time; running again resumes`
          )
        })
        await withTimeout(core.update({ wait: true }), 10_000).catch(() => false)
        progress.bytes.total += core.byteLength
        const have = core.contiguousLength
        if (have > 0) progress.bytes.done += approximateBytes(core, have)
        let lastBlock = Date.now()
        core.on('download', (_index: number, byteLength: number) => {
          fetched += byteLength
          progress.bytes.done += byteLength
          lastBlock = Date.now()
          tick()
        })
        if (core.length > 0) {
          const range = core.download({ start: 0, end: core.length })
          // a range whose peers left waits forever: it fails once no block came for DOWNLOAD_STALL_MS
          const stalled = await new Promise<boolean>((resolve) => {
            const timer = setInterval(() => {
              if (Date.now() - lastBlock < DOWNLOAD_STALL_MS) return
              clearInterval(timer)
              resolve(true)
            }, 1_000)
            range.done().then(
              () => {
                clearInterval(timer)
                resolve(false)
              },
              () => {
                clearInterval(timer)
                resolve(true)
              }
            )
          })
          if (stalled) {
            range.destroy()
            throw NodeErrors.NODE_RECOVERY_FAILED(
              `the download of ${name} stalled (no block for ${DOWNLOAD_STALL_MS / 1000} s); running again resumes`
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

/**
 * Why the cluster view cannot become final, or null when it can. Autobase
 * makes an entry final once a majority of the view's indexers acked it. An
 * indexer core whose writer record says it was retired or revoked never acks
 * again: its device moved to a new epoch or was revoked, and only the lost
 * disk had its key. The bootstrap core stays among the indexers when device 0
 * is recovered (docs/recovery.md, "The bootstrap writer"), so with two
 * indexers {old device 0, B} a majority needs the lost core and nothing new
 * becomes final; with three {old device 0, B, C}, B and C are a majority.
 */
export async function finalityBlocker(cluster: Cluster): Promise<string | null> {
  const indexers = cluster.base.autobase.system?.indexers ?? []
  if (indexers.length === 0) return null
  const writers = new Map((await cluster.writers()).map((w) => [w.core, w]))
  const dead: string[] = []
  for (const { key } of indexers) {
    const w = writers.get(hex(key))
    if (w && w.state !== 'current') dead.push(`device ${w.device} epoch ${w.epoch} (${w.state})`)
  }
  const majority = (indexers.length >>> 1) + 1
  const live = indexers.length - dead.length
  if (live >= majority) return null
  return (
    `the cluster view cannot become final: ${dead.length} of its ${indexers.length} indexer cores ` +
    `(${dead.join(', ')}) no longer ack, and a majority (${majority} of ${indexers.length}) must; ` +
    'the data and writes are all there but stay tentative. Keep three indexing devices (docs/recovery.md)'
  )
}

/**
 * Waits (bounded) until autobase is not fast-forwarding, then downloads every block missing
 * from the cores the store has open (the cluster log's system, view and writer cores). A
 * block nobody holds costs COMPLETE_TIMEOUT_MS and a warning: the node may fetch it later.
 */
async function completeLocalCores(cluster: Cluster, store: Corestore, log: Logger): Promise<void> {
  const deadline = Date.now() + COMPLETE_TIMEOUT_MS
  const autobase = cluster.base.autobase as unknown as { isFastForwarding?: () => boolean }
  while (autobase.isFastForwarding?.() === true && Date.now() < deadline) await sleep(100)
  const tracked = (store as unknown as { cores?: Iterable<{ key?: Buffer | null }> }).cores
  const keys: Buffer[] = []
  for (const core of tracked ?? []) if (core.key) keys.push(core.key)
  const sessions = keys.map((key) => store.get({ key }))
  let missing = 0
  let cores = 0
  try {
    const done = await withTimeout(
      Promise.all(
        sessions.map(async (core) => {
          await core.ready()
          const gap = core.length - core.contiguousLength
          if (gap <= 0) return
          missing += gap
          cores++
          await core.download({ start: 0, end: core.length }).done()
        })
      ),
      Math.max(1_000, deadline - Date.now())
    ).then(
      () => true,
      () => false
    )
    if (missing > 0) log.info('recovery: completed cores the node reads on open', { cores, blocks: missing })
    if (!done) {
      log.warn(
        'recovery: some blocks of the cluster log were not found in time; the node fetches them once connected',
        {
          cores,
          blocks: missing
        }
      )
    }
  } finally {
    for (const s of sessions) await s.close().catch(() => {})
  }
}

/** Waits for `p` up to `ms`; false (logged) when it did not finish or failed: closing must not hang recovery. */
async function closeWithin(p: Promise<unknown>, ms: number, what: string, log: Logger): Promise<boolean> {
  try {
    await withTimeout(p, ms)
    return true
  } catch (err) {
    log.warn(`recovery: closing ${what} did not finish`, { err: err as Error })
    return false
  }
}

function approximateBytes(core: { byteLength: number; length: number }, blocks: number): number {
  return core.length === 0 ? 0 : Math.round((core.byteLength * blocks) / core.length)
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
