import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { issueCertificate, issueRevocation } from '../../cluster/certificate.js'
import { Cluster, type DeviceRecord } from '../../cluster/cluster.js'
import { ClusterErrors } from '../../cluster/errors.js'
import { decodeCardText } from '../../cluster/contact-card.js'
import type { FriendRecord } from '../../cluster/friends.js'
import { createInvite, encodeInvite } from '../../cluster/invite.js'
import { PairingServer } from '../../cluster/pairing.js'
import { type Config, dhtBindHost } from '../kernel/config.js'
import type { HybridPublicKey } from '../kernel/crypto/hybrid-sign.js'
import { hex, unhex } from '../kernel/encoding.js'
import { KernelErrors } from '../kernel/errors.js'
import { identityFromSeed, type LoadedIdentity, loadIdentity } from '../kernel/identity/home-store.js'
import { deriveDevice, deriveRoot } from '../kernel/identity/keys.js'
import { Resource } from '../kernel/lifecycle.js'
import { createLogger, type Logger } from '../kernel/log.js'
import { Replicator, swarmFirewall } from '../kernel/substrate/index.js'
import { NodeErrors } from './errors.js'
import type { JoinPackage } from './join-package.js'
import { clusterTopic, signCard, writeCardFile } from './card.js'
import { ConversationManager } from './conversations.js'
import { Durability } from './durability.js'
import { acquireLock } from './lock.js'
import type {
  CoreStatus,
  DeviceStatus,
  DurabilityStatus,
  InviteOptions,
  FriendSummary,
  InviteResult,
  NodeApi,
  PeerStatus,
  PostOptions,
  StartConversationInput,
  StatusReport
} from './node-api.js'
import { attachRecoveryServer } from './recover.js'
import { readTrusted } from './trusted.js'

export interface NodeOptions {
  config: Config
  log?: Logger
  /** Wall clock; injectable so tests can move time. */
  now?: () => number
}

const DEFAULT_INVITE_TTL_MS = 10 * 60 * 1000
/** How often the node checks its directly dialled devices, and how long before it dials an unreachable one afresh. */
const DIAL_CHECK_MS = 5_000
const REDIAL_MS = 20_000

interface PeerSeen {
  address: string | null
  lastSeen: number
  connections: number
}

/**
 * The one place that owns the corestore and wires the domains together
 * (DESIGN §2). Opening order: lock → identity → store → cluster → swarm;
 * closing runs in reverse. `ready()` does not wait for the DHT or for any
 * peer: discovery goes on in the background and `status` says what the node
 * is waiting for. The local API (src/http) is put in front of it by bin.
 */
export class ConclaveNode extends Resource implements NodeApi {
  readonly config: Config
  readonly log: Logger
  readonly now: () => number
  identity!: LoadedIdentity
  store!: Corestore
  cluster!: Cluster
  swarm!: Hyperswarm
  replicator!: Replicator
  conversations!: ConversationManager
  durability!: Durability
  #release: (() => void) | null = null
  #trusted = new Set<string>()
  #invites = new Set<PairingServer>()
  #seen = new Map<string, PeerSeen>()
  #topic: Buffer = Buffer.alloc(0)
  #swarmFlushed = false
  #friendTopics = new Set<string>()
  /** Devices dialled directly by key (own devices, friends' devices): signing key hex → last (re)dial. */
  readonly #dialled = new Map<string, number>()
  #dialTimer: NodeJS.Timeout | null = null
  #cardSignature = ''
  #cardText = ''
  #swarmError: string | null = null

  constructor(opts: NodeOptions) {
    super()
    this.config = opts.config
    this.log = opts.log ?? createLogger(opts.config.logLevel)
    this.now = opts.now ?? Date.now
  }

  get home(): string {
    return this.config.home
  }

  get signingKeyPair(): { publicKey: Buffer; secretKey: Buffer } {
    const secretKey = unhex(this.identity.secrets.device.signingSecretKey)
    return { publicKey: secretKey.subarray(32), secretKey }
  }

  get rootPublic(): HybridPublicKey {
    return {
      ed25519: unhex(this.identity.identity.rootPublic.ed25519),
      mldsa: unhex(this.identity.identity.rootPublic.mldsa)
    }
  }

  protected override async _open(): Promise<void> {
    mkdirSync(this.home, { recursive: true, mode: 0o700 })
    this.#release = acquireLock(this.home)
    try {
      await this.#openAll()
    } catch (err) {
      await this.#closeAll().catch(() => {})
      throw err
    }
  }

  async #openAll(): Promise<void> {
    this.identity = loadIdentity(this.home)
    const { identity, secrets } = this.identity
    if (identity.recovered) {
      // the old writer core must never be appended to: recoverDevice settles a new epoch first
      throw NodeErrors.NODE_RECOVERY_FAILED(
        'this home was recovered and has not finished: `conclave run` completes the recovery first'
      )
    }
    for (const k of readTrusted(this.home)) this.#trusted.add(k)

    try {
      this.store = new Corestore(join(this.home, 'store'), {
        primaryKey: unhex(secrets.device.corestorePrimaryKey),
        unsafe: true
      })
      await this.store.ready()
    } catch (err) {
      throw NodeErrors.NODE_STORE_FAILED(
        `cannot open the store in ${join(this.home, 'store')}: ${(err as Error).message}`,
        {
          cause: err
        }
      )
    }

    this.durability = new Durability(
      { store: this.store, now: this.now },
      { copies: this.config.copies, timeoutMs: this.config.copiesTimeoutMs }
    )
    await this.durability.ready()

    const bootstrapPublicKey = unhex(identity.cluster.bootstrap)
    this.cluster = new Cluster(
      { store: this.store.namespace('conclave/cluster') },
      {
        accountId: identity.accountId,
        rootPublic: this.rootPublic,
        bootstrapPublicKey,
        writerKeyPair: {
          publicKey: unhex(secrets.writer.publicKey),
          secretKey: unhex(secrets.writer.secretKey)
        },
        encryptionKey: unhex(secrets.cluster.encryptionKey),
        ackIntervalMs: this.config.ackIntervalMs
      }
    )
    await this.cluster.ready()
    this.cluster.on('members', () => this.#onMembersChanged())

    await this.#certifySelfIfNeeded()

    this.#topic = clusterTopic(this.identity)
    const host = dhtBindHost(this.config)
    const dht = new HyperDHT({
      ...(this.config.bootstrap ? { bootstrap: this.config.bootstrap } : {}),
      ...(host ? { host } : {})
    })
    this.swarm = new Hyperswarm({
      keyPair: this.signingKeyPair,
      dht,
      firewall: swarmFirewall((pk) => this.isAllowedPeer(pk))
    })
    this.replicator = new Replicator({
      swarm: this.swarm,
      store: this.store,
      isAllowed: (pk) => this.isAllowedPeer(pk),
      onConnection: (conn) => {
        this.#onConnection(conn)
        this.conversations?.attach(conn)
        if (conn.remotePublicKey && this.cluster.deviceBySigningKey(conn.remotePublicKey))
          attachRecoveryServer(conn, { cluster: this.cluster, log: this.log })
      },
      onError: (err) => this.log.debug('connection error', { err: err as Error })
    })
    await this.replicator.ready()
    this.replicator.attach(this.cluster.base)
    this.conversations = new ConversationManager({
      store: this.store,
      cluster: this.cluster,
      identity: this.identity,
      log: this.log,
      home: this.home,
      ackIntervalMs: this.config.ackIntervalMs,
      now: this.now,
      onOpen: (conv) => this.replicator.attach(conv.base),
      acknowledge: (core, length, opts) => this.durability.acknowledge(core, length, opts)
    })
    await this.conversations.ready()
    await this.#joinFriendTopics()
    await this.#refreshCard()
    const discovery = this.swarm.join(this.#topic, { server: true, client: true })
    this.#dialKnownDevices()
    this.#dialTimer = setInterval(() => this.#dialKnownDevices(), DIAL_CHECK_MS)
    this.#dialTimer.unref()
    discovery.flushed().then(
      () => {
        this.#swarmFlushed = true
      },
      (err: Error) => {
        this.#swarmError = err.message
      }
    )
  }

  /**
   * Device 0's first run (and any root holder whose current writer has no
   * certificate yet) certifies itself: the certificate is what lets the other
   * devices' firewalls and the membership view know it.
   */
  async #certifySelfIfNeeded(): Promise<void> {
    const { identity, secrets } = this.identity
    if (!secrets.seed || !this.cluster.writable) return
    const mine = await this.cluster.getDevice(identity.deviceId)
    if (mine && mine.epoch === identity.epoch && mine.writerKey === secrets.writer.publicKey) return
    const seed = unhex(secrets.seed)
    const root = deriveRoot(seed)
    const dev = deriveDevice(seed, identity.device)
    await this.cluster.certify(
      issueCertificate(root.signing, {
        type: 'device-cert',
        v: 1,
        accountId: identity.accountId,
        deviceId: identity.deviceId,
        device: identity.device,
        epoch: identity.epoch,
        signingKey: hex(dev.signing.publicKey),
        xwingKey: hex(dev.xwing.publicKey),
        writerKey: secrets.writer.publicKey,
        roles: this.config.roles,
        // the bootstrap writer (device 0, epoch 0) is always autobase's first indexer
        indexer: (identity.device === 0 && identity.epoch === 0) || this.config.indexer,
        issuedAt: this.now()
      })
    )
  }

  /** Firewall: certified, unrevoked own devices; before the view syncs, devices named at pairing. */
  isAllowedPeer(publicKey: Uint8Array): boolean {
    const rec = this.cluster.deviceBySigningKey(publicKey)
    if (rec) return !rec.revoked
    if (this.cluster.friendBySigningKey(publicKey)) return true
    return this.#trusted.has(hex(publicKey))
  }

  /** A node also looks for its friends' devices, on their cluster topics (as a client only). */
  async #joinFriendTopics(): Promise<void> {
    if (!this.swarm) return
    for (const f of await this.cluster.friends()) {
      if (this.#friendTopics.has(f.topic)) continue
      this.#friendTopics.add(f.topic)
      this.swarm.join(unhex(f.topic), { server: false, client: true })
    }
  }

  /** Root holders keep HOME/card.txt current: `conclave card` prints it even when the node is not running. */
  async #refreshCard(): Promise<void> {
    if (!this.identity.secrets.seed || this.closing) return
    const certs = await this.cluster.certificates()
    if (certs.length === 0) return
    const signature = JSON.stringify(certs.map((c) => c.sig.slice(0, 32)))
    if (signature === this.#cardSignature) return
    this.#cardSignature = signature
    this.#cardText = writeCardFile(this.home, signCard(this.identity, certs, [], this.now()))
  }

  /**
   * Besides the topics, the node dials every device it knows by its key
   * (`joinPeer`: the DHT finds a device by the key it listens on): own
   * devices from the cluster view, friends' devices from their cards. A
   * topic lookup only finds the devices that had announced when it ran,
   * so two devices restarting together can miss each other for as long as
   * the next lookup; a direct dial does not depend on that. A device that
   * stays unreachable is dialled afresh every REDIAL_MS (hyperswarm itself
   * backs off to ten minutes); revoked devices are no longer dialled.
   */
  #dialKnownDevices(): void {
    const swarm = this.swarm
    if (!swarm || this.closing) return
    try {
      const want = new Set(this.cluster.knownSigningKeys())
      want.delete(hex(this.signingKeyPair.publicKey))
      for (const key of this.#dialled.keys()) {
        if (want.has(key)) continue
        swarm.leavePeer(unhex(key))
        this.#dialled.delete(key)
      }
      const connected = new Set<string>()
      for (const conn of swarm.connections) if (conn.remotePublicKey) connected.add(hex(conn.remotePublicKey))
      const now = Date.now()
      for (const key of want) {
        const last = this.#dialled.get(key)
        if (last !== undefined && (connected.has(key) || now - last < REDIAL_MS)) continue
        if (last !== undefined) swarm.leavePeer(unhex(key))
        swarm.joinPeer(unhex(key))
        this.#dialled.set(key, now)
      }
    } catch (err) {
      if (!this.closing) this.log.debug('dialling known devices failed', { err: err as Error })
    }
  }

  #onMembersChanged(): void {
    if (!this.swarm) return
    this.#dialKnownDevices()
    for (const conn of this.swarm.connections) {
      const pk = conn.remotePublicKey
      if (pk && !this.isAllowedPeer(pk)) {
        this.log.info('dropping connection of a device that is no longer a member', { peer: hex(pk) })
        conn.destroy()
      }
    }
    void this.cluster.devices().then((devices) => {
      for (const d of devices) if (!d.revoked) this.replicator.unban(unhex(d.signingKey))
    })
    void this.cluster.friends().then((friends) => {
      for (const f of friends) for (const d of f.devices) this.replicator.unban(unhex(d.signingKey))
    })
    void this.#joinFriendTopics().catch((err: Error) =>
      this.log.warn('joining friend topics failed', { err })
    )
    void this.#refreshCard().catch((err: Error) =>
      this.log.warn('refreshing the contact card failed', { err })
    )
    void this.conversations?.syncOwnDevices()
  }

  #onConnection(conn: Hyperswarm.Connection): void {
    const pk = conn.remotePublicKey
    if (!pk) return
    const key = hex(pk)
    const raw = conn.rawStream as { remoteHost?: string; remotePort?: number } | null
    const address = raw?.remoteHost ? `${raw.remoteHost}:${raw.remotePort}` : null
    const seen = this.#seen.get(key) ?? { address: null, lastSeen: 0, connections: 0 }
    seen.address = address ?? seen.address
    seen.lastSeen = this.now()
    seen.connections++
    this.#seen.set(key, seen)
    conn.on('close', () => {
      seen.connections--
      seen.lastSeen = this.now()
    })
  }

  protected override async _close(): Promise<void> {
    await this.#closeAll()
  }

  async #closeAll(): Promise<void> {
    if (this.#dialTimer) clearInterval(this.#dialTimer)
    // pending acknowledgements give up first (as not durable), before what they wait on closes
    if (this.durability) await this.durability.close().catch(() => {})
    for (const inv of this.#invites) await inv.close().catch(() => {})
    this.#invites.clear()
    if (this.conversations) await this.conversations.close().catch(() => {})
    if (this.replicator) await this.replicator.close().catch(() => {})
    if (this.swarm) await this.swarm.destroy().catch(() => {})
    if (this.cluster) await this.cluster.close().catch(() => {})
    if (this.store) await this.store.close().catch(() => {})
    if (this.#release) {
      this.#release()
      this.#release = null
    }
  }

  // --- NodeApi ---

  async status(): Promise<StatusReport> {
    const { identity } = this.identity
    const devices = await this.cluster.devices()
    const bySigning = new Map(devices.map((d) => [d.signingKey, d]))
    const deviceStatus: DeviceStatus[] = devices.map((d) => {
      const self = d.deviceId === identity.deviceId
      const seen = this.#seen.get(d.signingKey)
      return {
        deviceId: d.deviceId,
        device: d.device,
        epoch: d.epoch,
        name: d.name,
        roles: d.roles,
        indexer: d.indexer,
        online: self || (seen !== undefined && seen.connections > 0),
        self,
        address: self ? null : (seen?.address ?? null),
        lastSeen: self ? this.now() : (seen?.lastSeen ?? null),
        revoked: d.revoked
      }
    })
    const peers: PeerStatus[] = []
    for (const conn of this.swarm.connections) {
      const pk = conn.remotePublicKey
      if (!pk) continue
      const d = bySigning.get(hex(pk))
      const friend = d ? null : this.cluster.friendBySigningKey(pk)
      peers.push({
        publicKey: hex(pk),
        deviceId: d?.deviceId ?? friend?.deviceId ?? null,
        accountId: d ? identity.accountId : (friend?.accountId ?? null),
        kind: d ? 'own-device' : friend ? 'friend-device' : 'unknown'
      })
    }
    const waitingFor: string[] = []
    if (!this.#swarmFlushed) {
      waitingFor.push(
        this.#swarmError ? `DHT: ${this.#swarmError}` : 'DHT: announcing and looking up the cluster topic'
      )
    }
    if (peers.length === 0) waitingFor.push('peers: no other device of this account is connected')
    if (!this.cluster.writable)
      waitingFor.push('cluster: this device is not yet a writer (waiting for its certificate)')
    const cores = await this.coreStatus(devices)
    const durability: DurabilityStatus = {
      copies: this.durability.copies,
      timeoutMs: this.durability.timeoutMs,
      statusTarget: this.durability.statusTarget,
      belowTarget: cores.filter((c) => c.belowTarget).length
    }
    if (durability.belowTarget > 0) {
      waitingFor.push(
        `copies: ${durability.belowTarget} writer core(s) held by fewer than ${durability.statusTarget} nodes`
      )
    }
    return {
      accountId: identity.accountId,
      deviceId: identity.deviceId,
      device: identity.device,
      epoch: identity.epoch,
      roles: this.config.roles,
      writable: this.cluster.writable,
      swarm: {
        topic: hex(this.#topic),
        joined: this.#swarmFlushed,
        bootstrap: (this.config.bootstrap ?? []).map((b) => `${b.host}:${b.port}`)
      },
      devices: deviceStatus,
      peers,
      cores,
      durability,
      waitingFor,
      skipped: (await this.cluster.skipped()).length,
      clusterView: {
        length: this.cluster.base.view.core.length,
        signedLength: this.cluster.base.view.core.signedLength,
        hash: hex(await this.cluster.viewHash())
      }
    }
  }

  /**
   * Every open core of the store with the nodes holding all of it
   * (docs/durability.md). Writer cores (the cluster's and the open
   * conversations') are named and flagged when held by fewer than the
   * status target; the other cores are autobase state rebuilt from them.
   */
  async coreStatus(devices: DeviceRecord[] = []): Promise<CoreStatus[]> {
    const names = new Map<string, string>()
    const deviceNames = new Map(devices.map((d) => [d.device, d.deviceId]))
    try {
      for (const w of await this.cluster.writers()) {
        const id = deviceNames.get(w.device) ?? `device ${w.device}`
        names.set(w.core, `cluster writer of ${id} (device ${w.device}, epoch ${w.epoch}, ${w.state})`)
      }
    } catch (err) {
      this.log.debug('cluster writers not read', { err: err as Error })
    }
    for (const d of devices) {
      if (!names.has(d.writerCoreKey))
        names.set(d.writerCoreKey, `cluster writer of ${d.deviceId} (device ${d.device}, epoch ${d.epoch})`)
    }
    if (this.conversations) for (const [k, v] of await this.conversations.coreNames()) names.set(k, v)
    const target = this.durability.statusTarget
    return this.durability.cores().map((c) => {
      const name = names.get(c.key)
      const kind = name === undefined ? 'view' : 'writer'
      return {
        key: c.key,
        name: name ?? 'autobase state (rebuilt from the writers)',
        kind,
        length: c.length,
        copies: c.copies,
        local: c.local,
        holders: c.holders.map((h) => ({ deviceId: this.#deviceName(h.publicKey), online: h.online })),
        belowTarget: kind === 'writer' && c.length > 0 && c.copies < target
      }
    })
  }

  /** A peer's device id (own or a friend's device), else its key. */
  #deviceName(publicKey: string): string {
    const key = unhex(publicKey)
    return (
      this.cluster.deviceBySigningKey(key)?.deviceId ??
      this.cluster.friendBySigningKey(key)?.deviceId ??
      publicKey
    )
  }

  async createInvite(opts: InviteOptions): Promise<InviteResult> {
    const seed = this.#seed()
    const ttl = opts.ttlMs ?? DEFAULT_INVITE_TTL_MS
    const invite = createInvite(ttl, this.now())
    const device = Math.max(await this.cluster.nextDeviceIndex(), this.#nextPendingIndex())
    const server = new PairingServer({
      dht: this.swarm.dht,
      invite,
      now: this.now,
      issue: async (req) =>
        this.#issueDevice(seed, device, { ...opts, ...(req.name ? { name: req.name } : {}) })
    })
    ;(server as unknown as { device: number }).device = device
    await server.ready()
    this.#invites.add(server)
    const timer = setTimeout(() => void server.close(), ttl + 1000)
    server.on('close', () => {
      clearTimeout(timer)
      this.#invites.delete(server)
    })
    server.on('paired', () => setTimeout(() => void server.close(), 2000))
    return { invite: encodeInvite(invite), expires: invite.expires * 1000, device }
  }

  #nextPendingIndex(): number {
    let max = 0
    for (const s of this.#invites) max = Math.max(max, (s as unknown as { device: number }).device + 1)
    return max
  }

  /** Builds the new device's identity and secrets (no seed) and certifies it in the cluster. */
  async #issueDevice(seed: Buffer, device: number, opts: InviteOptions): Promise<Uint8Array> {
    const { identity: mine } = this.identity
    const { identity, secrets } = identityFromSeed(seed, {
      device,
      keepRoot: false,
      now: new Date(this.now())
    })
    identity.joined = true
    const dev = deriveDevice(seed, device)
    const root = deriveRoot(seed)
    await this.cluster.certify(
      issueCertificate(root.signing, {
        type: 'device-cert',
        v: 1,
        accountId: mine.accountId,
        deviceId: identity.deviceId,
        device,
        epoch: 0,
        signingKey: hex(dev.signing.publicKey),
        xwingKey: hex(dev.xwing.publicKey),
        writerKey: secrets.writer.publicKey,
        roles: opts.roles ?? ['access', 'relay'],
        indexer: opts.indexer ?? false,
        ...(opts.name ? { name: opts.name } : {}),
        issuedAt: this.now()
      })
    )
    const devices = await this.cluster.devices()
    const pkg: JoinPackage = {
      v: 1,
      identity,
      secrets,
      trustedSigningKeys: devices.filter((d) => !d.revoked).map((d) => d.signingKey)
    }
    return Buffer.from(JSON.stringify(pkg))
  }

  #seed(): Buffer {
    const seed = this.identity.secrets.seed
    if (!seed)
      throw KernelErrors.IDENTITY_NO_ROOT(
        'this device does not keep the root; run the command on a device that does'
      )
    return unhex(seed)
  }

  async card(): Promise<{ card: string; accountId: string }> {
    if (!this.#cardText) {
      this.#cardSignature = ''
      await this.#refreshCard()
    }
    if (!this.#cardText)
      throw KernelErrors.IDENTITY_NO_ROOT('only a device that keeps the root can sign a contact card')
    return { card: this.#cardText, accountId: this.identity.identity.accountId }
  }

  async addFriend(cardText: string): Promise<FriendSummary> {
    const record = await this.cluster.addFriend(decodeCardText(cardText))
    return friendSummary(record)
  }

  async friends(): Promise<FriendSummary[]> {
    return (await this.cluster.friends()).map(friendSummary)
  }

  startConversation(input: StartConversationInput): Promise<{ id: string }> {
    return this.conversations.start(input)
  }

  listConversations() {
    return this.conversations.list()
  }

  showConversation(id: string, page: { offset?: number; limit?: number }) {
    return this.conversations.show(id, page)
  }

  postMessage(id: string, kind: string, body: Record<string, unknown>, opts: PostOptions = {}) {
    return this.conversations.post(id, kind, body, opts)
  }

  async revoke(ref: string): Promise<{ deviceId: string }> {
    const seed = this.#seed()
    const d = await this.cluster.getDevice(ref)
    if (!d) throw ClusterErrors.CLUSTER_DEVICE_UNKNOWN(`no device "${ref}" in this cluster`)
    if (d.revoked) throw ClusterErrors.CLUSTER_DEVICE_REVOKED(`device ${d.deviceId} is already revoked`)
    if (d.deviceId === this.identity.identity.deviceId) {
      throw ClusterErrors.CLUSTER_DEVICE_REVOKED(
        'a device cannot revoke itself; revoke it from another device'
      )
    }
    const root = deriveRoot(seed)
    const revocation = issueRevocation(root.signing, {
      type: 'device-revoke',
      v: 1,
      accountId: this.identity.identity.accountId,
      deviceId: d.deviceId,
      revokedAt: this.now()
    })
    await this.cluster.revoke(revocation)
    // conversations carry their own copy of the account's devices: the revoked one stops writing there too
    await this.conversations?.relayRevocation(revocation)
    return { deviceId: d.deviceId }
  }
}

function friendSummary(f: FriendRecord): FriendSummary {
  return {
    accountId: f.accountId,
    name: f.name,
    devices: f.devices.map((d) => ({ deviceId: d.deviceId, device: d.device, roles: d.roles })),
    issuedAt: f.issuedAt
  }
}
