import { mkdirSync } from 'node:fs'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import type { AddressRecord } from '../../cluster/addresses.js'
import { issueCertificate, issueRevocation } from '../../cluster/certificate.js'
import { Cluster, type DeviceRecord } from '../../cluster/cluster.js'
import { ClusterErrors } from '../../cluster/errors.js'
import { decodeCardText } from '../../cluster/contact-card.js'
import type { FriendRecord } from '../../cluster/friends.js'
import { createInvite, encodeInvite } from '../../cluster/invite.js'
import { PairingServer } from '../../cluster/pairing.js'
import { type Config, dhtBindHost } from '../kernel/config.js'
import { hex, unhex } from '../kernel/encoding.js'
import { KernelErrors } from '../kernel/errors.js'
import {
  identityFromSeed,
  type LoadedIdentity,
  loadIdentity,
  relaySecrets,
  updateSecrets
} from '../kernel/identity/home-store.js'
import { deriveDevice, deriveRoot } from '../kernel/identity/keys.js'
import { Rerun, Resource } from '../kernel/lifecycle.js'
import { createLogger, type Logger } from '../kernel/log.js'
import { Replicator } from '../kernel/substrate/index.js'
import { formatHostPort, parseHostPort } from './direct.js'
import { DirectLinks } from './direct-links.js'
import { PortWindows, type WindowsStatus } from './port-windows.js'
import { windowKey } from './windows.js'
import { BlindCores } from './blind-cores.js'
import { NodeErrors } from './errors.js'
import { clusterInitFor, createSwarm, openHomeStore } from './open.js'
import { type AddressEvent, Heartbeats, remoteAddressOf } from './heartbeat.js'
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
  AddressSource,
  PostOptions,
  StartConversationInput,
  StatusReport
} from './node-api.js'
import { ArchiveManager } from './archives.js'
import { attachRecoveryServer, finalityBlocker } from './recover.js'
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

/** A device's last known direct address and where the node learned it. */
interface KnownAddress {
  address: string
  /** The device's own clock when it took the address (view and announcements); 0 for a card. */
  at: number
  source: AddressSource
}

/** How long one status report answers `status` (the API's GET /api/status) before it is made anew. */
export const STATUS_MAX_AGE_MS = 250

/**
 * The one place that owns the corestore and wires the domains together
 * (DESIGN §2). Opening order: lock → identity → store → cluster → swarm
 * and replicator (heartbeats on every connection) → conversations → direct
 * transport; closing runs in reverse. `ready()` does not wait for the DHT or for any
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
  /** On a relay (no access role): conversation writer cores kept without their key. */
  blindCores: BlindCores | null = null
  archives!: ArchiveManager
  heartbeats!: Heartbeats
  direct!: DirectLinks
  /** Port windows at the gateway, when `windows.enabled`. */
  windows: PortWindows | null = null
  #windowDial: NodeJS.Timeout | null = null
  durability!: Durability
  #release: (() => void) | null = null
  #trusted = new Set<string>()
  #invites = new Set<PairingServer>()
  #seen = new Map<string, PeerSeen>()
  /** The last status report and when it was asked for (`status`: at most STATUS_MAX_AGE_MS old). */
  #statusCache: { at: number; report: Promise<StatusReport> } | null = null
  #topic: Buffer = Buffer.alloc(0)
  #swarmFlushed = false
  #friendTopics = new Set<string>()
  /** Devices dialled directly by key (own devices, friends' devices): signing key hex → last (re)dial. */
  readonly #dialled = new Map<string, number>()
  #dialTimer: NodeJS.Timeout | null = null
  #cardSignature = ''
  #cardText = ''
  #swarmError: string | null = null
  /** The view's address book, by device id (refreshed on every cluster update). */
  #viewAddresses = new Map<string, AddressRecord>()
  /** Re-reads the view's address book (and friends' card addresses), then dials. */
  readonly #addressBook = new Rerun(
    () => this.#readAddresses(),
    () => this.closing !== null
  )
  /** Addresses peers announced for themselves over heartbeats, by signing key hex. */
  readonly #announced = new Map<string, { address: string; at: number }>()
  /** Addresses on friends' contact cards, by device id. */
  #cardAddresses = new Map<string, string>()
  /** The address this device announces and writes to the view. */
  #ownAddress: string | null = null
  readonly #publisher = new Rerun(
    () => this.#publishOnce(),
    () => this.closing !== null
  )

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
    if (this.config.roles.includes('access') && secrets.device.xwingSecretKey === undefined) {
      throw NodeErrors.NODE_RELAY_ONLY(
        'this home keeps public keys only (it joined as a relay); run it with --role relay'
      )
    }
    if (!this.config.roles.includes('access')) {
      // a relay keeps only public keys: an X-Wing secret left from before (a recovered or
      // re-roled device without the root) is dropped from its home for good
      const kept = relaySecrets(secrets)
      if (kept !== secrets) {
        updateSecrets(this.home, kept)
        this.identity = { ...this.identity, secrets: kept }
        this.log.info('relay: dropped the X-Wing secret key from this home; it keeps the public key only')
      }
    }

    this.store = await openHomeStore(this.home, this.identity)

    this.durability = new Durability(
      { store: this.store, now: this.now },
      { copies: this.config.copies, timeoutMs: this.config.copiesTimeoutMs }
    )
    await this.durability.ready()

    this.cluster = new Cluster(
      { store: this.store.namespace('conclave/cluster') },
      clusterInitFor(this.identity, this.config, {
        publicKey: unhex(secrets.writer.publicKey),
        secretKey: unhex(secrets.writer.secretKey)
      })
    )
    await this.cluster.ready()
    this.cluster.on('members', () => this.#onMembersChanged())
    this.cluster.on('update', () => this.#refreshAddresses())
    this.cluster.on('update', () => (this.#statusCache = null))

    await this.#certifySelfIfNeeded()

    this.#topic = clusterTopic(this.identity)
    this.swarm = createSwarm(this.config, this.signingKeyPair, (pk) => this.isAllowedPeer(pk))
    if (this.config.onion) this.log.info('onion mode: no DHT, dials through the SOCKS5 proxy only')
    this.heartbeats = new Heartbeats({ deviceId: identity.deviceId }, { now: this.now, log: this.log })
    this.heartbeats.on('address', (e: AddressEvent) => this.#onAnnounced(e))
    this.heartbeats.on('observed', () => this.#publishAddress())
    // before the replicator: every connection gets the archive channel
    this.archives = new ArchiveManager({
      store: this.store,
      cluster: this.cluster,
      identity: this.identity,
      log: this.log,
      now: this.now,
      access: this.config.roles.includes('access'),
      idleMs: this.config.archiveIdleMs,
      conversations: () => this.conversations?.openConversations() ?? [],
      acknowledge: (core, length, opts) => this.durability.acknowledge(core, length, opts)
    })
    await this.archives.ready()
    this.cluster.on('update', () => void this.archives?.check())
    this.replicator = new Replicator({
      swarm: this.swarm,
      store: this.store,
      isAllowed: (pk) => this.isAllowedPeer(pk),
      onConnection: (conn) => {
        this.#onConnection(conn)
        this.heartbeats.attach(conn)
        this.conversations?.attach(conn)
        this.archives?.attach(conn)
        if (conn.remotePublicKey && this.cluster.deviceBySigningKey(conn.remotePublicKey))
          attachRecoveryServer(conn, { cluster: this.cluster, log: this.log })
      },
      onError: (err) => this.log.debug('connection error', { err: err as Error })
    })
    await this.replicator.ready()
    this.replicator.attach(this.cluster.base)
    if (!this.config.roles.includes('access')) {
      this.blindCores = new BlindCores({ store: this.store, home: this.home, log: this.log })
      await this.blindCores.ready()
    }
    this.conversations = new ConversationManager({
      ...(this.blindCores ? { blind: this.blindCores } : {}),
      store: this.store,
      cluster: this.cluster,
      identity: this.identity,
      log: this.log,
      home: this.home,
      ackIntervalMs: this.config.ackIntervalMs,
      now: this.now,
      access: this.config.roles.includes('access'),
      onOpen: (conv) => this.replicator.attach(conv.base),
      acknowledge: (core, length, opts) => this.durability.acknowledge(core, length, opts)
    })
    await this.conversations.ready()
    await this.#joinFriendTopics()
    await this.#refreshCard()
    await this.#startDirect()
    await this.#startWindows()
    this.#refreshAddresses()
    await this.#addressBook.idle.catch(() => {}) // logged by the trigger
    const discovery = this.swarm.join(this.#topic, { server: true, client: true })
    this.#dialKnownDevices()
    this.#publishAddress()
    this.#dialTimer = setInterval(() => {
      this.#dialKnownDevices()
      this.#publishAddress()
    }, DIAL_CHECK_MS)
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
   * Listens for direct connections (docs/network.md, "The node"): on the
   * configured port, or, with port 0, on the port of this device's address
   * in the view when it is free (so peers that only know the last address
   * find a restarted node there), else on any free port. Every accepted
   * stream replicates like a swarm connection.
   */
  async #startDirect(): Promise<void> {
    const { socks5, directAddress } = this.config
    this.direct = new DirectLinks({
      keyPair: this.signingKeyPair,
      isAllowed: (pk) => this.isAllowedPeer(pk),
      socks5: socks5 ? parseHostPort(formatHostPort(socks5)) : null,
      log: this.log,
      onStream: (stream) => {
        if (!this.replicator.add(stream)) stream.destroy()
      }
    })
    await this.direct.ready()
    const own = directAddress ? null : await this.cluster.getAddress(this.identity.identity.deviceId)
    const preferred = own ? portOf(own.address) : null
    const bound = await this.direct.listen(this.config.directPort, directBindHost(this.config), preferred)
    this.log.info('direct transport listening', { address: formatHostPort(bound) })
  }

  /**
   * Port windows (docs/network.md): the schedule comes from a key expanded
   * from the cluster encryption key, so every own device computes the same
   * windows. Inside each the direct port is mapped at the gateway; when one
   * opens, devices without a direct link are dialled at once and again half
   * way through, whatever their backoff (their port is open now too).
   */
  async #startWindows(): Promise<void> {
    const w = this.config.windows
    if (!w.enabled) return
    this.windows = new PortWindows({
      key: windowKey(unhex(this.identity.secrets.cluster.encryptionKey)),
      slotMs: w.slotSeconds * 1000,
      windowMs: w.windowSeconds * 1000,
      protocol: w.protocol,
      gateway: w.gateway,
      port: () => this.direct.transport.address?.port ?? null,
      // own devices only: friends do not share the windows
      offsets: () =>
        this.heartbeats
          .stats()
          .filter((b) => this.cluster.deviceBySigningKey(unhex(b.publicKey)))
          .map((b) => b.offsetMs),
      now: this.now,
      log: this.log,
      onWindow: (phase, win) => {
        if (phase !== 'open' || this.closing) return
        this.#publishAddress()
        this.#dialDirect(true)
        if (this.#windowDial) clearTimeout(this.#windowDial)
        this.#windowDial = null
        // half way through the window by the clock: 'open' comes after the mapping step, which
        // a slow gateway can stretch to its timeout (3 s), so not half a window from now
        const half = win.start + (win.end - win.start) / 2 - this.now()
        if (half > 0) {
          this.#windowDial = setTimeout(() => this.#dialDirect(true), half)
          this.#windowDial.unref()
        }
      }
    })
    await this.windows.ready()
    const next = this.windows.window
    this.log.info('port windows', {
      slotSeconds: w.slotSeconds,
      windowSeconds: w.windowSeconds,
      next: new Date(next.start).toISOString()
    })
  }

  /**
   * The address other devices should dial: `directAddress` when configured;
   * else the listening address when bound to one IP; when bound to every
   * interface, the host most peers see for us (heartbeats) — or, before any
   * peer said, this machine's first non-internal IPv4 address — with the
   * listening port. The port peers observe is never used: over the swarm it
   * is a UDP port, over a direct connection the dialer's ephemeral one.
   */
  #desiredAddress(): string | null {
    if (this.config.directAddress) return this.config.directAddress
    // the gateway's public address of the last port window: where peers dial in the next ones
    if (this.windows?.external) return this.windows.external
    const bound = this.direct?.transport.address
    if (!bound) return null
    if (!isWildcard(bound.host)) return formatHostPort(bound)
    const observed = this.heartbeats.observedAddress()
    const host = observed ? parseHostPort(observed).host : lanAddress()
    return host ? formatHostPort({ host, port: bound.port }) : null
  }

  /**
   * Announces this device's address to every connected peer at once when it
   * changes, and writes it to the view (`cluster/address`) when the view
   * holds another one. Runs at start, on every dial check (so a device that
   * becomes a writer later catches up) and when peers report a new
   * observed address; runs are serialised.
   */
  #publishAddress(): void {
    if (this.closing || !this.direct) return
    this.#publisher.trigger().catch((err: unknown) => {
      if (!this.closing) this.log.debug('publishing the direct address failed', { err: err as Error })
    })
  }

  async #publishOnce(): Promise<void> {
    const address = this.#desiredAddress()
    if (address === null) return
    if (address !== this.#ownAddress) {
      this.#ownAddress = address
      const sent = this.heartbeats.announce(address)
      this.log.info('direct address', { address, announcedTo: sent })
    }
    if (!this.cluster.writable) return
    const deviceId = this.identity.identity.deviceId
    const rec = await this.cluster.getAddress(deviceId)
    if (rec?.address === address || this.closing) return
    await this.cluster.setAddress(deviceId, address, Math.max(Math.round(this.now()), (rec?.at ?? 0) + 1))
    this.#refreshAddresses()
  }

  /** Re-reads the address book; concurrent calls share a run that starts after them. */
  #refreshAddresses(): void {
    this.#addressBook.trigger().catch((err: unknown) => {
      if (!this.closing) this.log.debug('reading the address book failed', { err: err as Error })
    })
  }

  async #readAddresses(): Promise<void> {
    const next = new Map<string, AddressRecord>()
    for (const r of await this.cluster.addresses()) next.set(r.deviceId, r)
    const cards = new Map<string, string>()
    for (const f of await this.cluster.friends())
      for (const a of f.addresses) cards.set(a.deviceId, a.address)
    this.#viewAddresses = next
    this.#cardAddresses = cards
    this.#dialDirect()
  }

  /**
   * A peer announced its own address: kept in memory at once and dialled if
   * there is no direct link to it (its own view entry follows through the
   * log). The connection's key is what the address is filed under — the
   * device id in the message is not trusted — so a lying peer can only make
   * us dial a wrong place for itself, where the key check fails.
   */
  #onAnnounced(e: AddressEvent): void {
    if (!this.isAllowedPeer(e.from)) return
    const key = hex(e.from)
    const prev = this.#announced.get(key)
    if (prev && (prev.at > e.at || (prev.at === e.at && prev.address === e.address))) return
    this.#announced.set(key, { address: e.address, at: e.at })
    this.log.debug('peer announced its address', { peer: key, address: e.address })
    this.#dialDirect()
  }

  /** The newest address known for a device key: its view entry or its own announcement; a card's last. */
  #addressFor(key: string): KnownAddress | null {
    const pk = unhex(key)
    const own = this.cluster.deviceBySigningKey(pk)
    let best: KnownAddress | null = null
    const friend = own ? null : this.cluster.friendBySigningKey(pk)
    const deviceId = own?.deviceId ?? friend?.deviceId ?? null
    const v = deviceId ? this.#viewAddresses.get(deviceId) : undefined
    if (v) best = { address: v.address, at: v.at, source: 'view' }
    const a = this.#announced.get(key)
    if (a && (!best || (a.at > best.at && a.address !== best.address))) {
      best = { address: a.address, at: a.at, source: 'peer' }
    }
    const card = deviceId ? this.#cardAddresses.get(deviceId) : undefined
    if (!best && card) best = { address: card, at: 0, source: 'card' }
    return best
  }

  /** This device's published address; its source is 'view' once the view holds it, else null. */
  #ownKnownAddress(): { address: string; source: AddressSource | null } | null {
    if (this.#ownAddress === null) return null
    const v = this.#viewAddresses.get(this.identity.identity.deviceId)
    return { address: this.#ownAddress, source: v?.address === this.#ownAddress ? 'view' : null }
  }

  /** Dials every known device without a direct link at its last known address (DirectLinks limits and backs off). */
  #dialDirect(force = false): void {
    const direct = this.direct
    if (!direct || this.closing) return
    try {
      const want = new Set(this.cluster.knownSigningKeys())
      want.delete(hex(this.signingKeyPair.publicKey))
      for (const key of want) {
        if (direct.connected(key)) continue
        const known = this.#addressFor(key)
        if (known) direct.dial(key, known.address, force)
      }
      direct.forget(want)
    } catch (err) {
      if (!this.closing) this.log.debug('direct dialling failed', { err: err as Error })
    }
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
    this.#dialDirect()
  }

  #onMembersChanged(): void {
    if (!this.swarm) return
    this.#dialKnownDevices()
    const conns = [...this.swarm.connections, ...(this.direct?.streams().map((s) => s.stream) ?? [])]
    for (const conn of conns) {
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
    const address = remoteAddressOf(conn)
    const seen = this.#seen.get(key) ?? { address: null, lastSeen: 0, connections: 0 }
    seen.address = address ?? seen.address
    seen.lastSeen = this.now()
    seen.connections++
    this.#seen.set(key, seen)
    this.#statusCache = null
    conn.on('close', () => {
      this.#statusCache = null
      seen.connections--
      seen.lastSeen = this.now()
    })
  }

  protected override async _close(): Promise<void> {
    await this.#closeAll()
  }

  async #closeAll(): Promise<void> {
    if (this.#dialTimer) clearInterval(this.#dialTimer)
    if (this.#windowDial) clearTimeout(this.#windowDial)
    // the gateway mapping goes first, while the network is still up
    if (this.windows) await this.windows.close().catch(() => {})
    // pending acknowledgements give up first (as not durable), before what they wait on closes
    if (this.durability) await this.durability.close().catch(() => {})
    for (const inv of this.#invites) await inv.close().catch(() => {})
    this.#invites.clear()
    if (this.archives) await this.archives.close().catch(() => {})
    if (this.conversations) await this.conversations.close().catch(() => {})
    if (this.blindCores) await this.blindCores.close().catch(() => {})
    if (this.heartbeats) await this.heartbeats.close().catch(() => {})
    if (this.direct) await this.direct.close().catch(() => {})
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

  /**
   * What `status` shows. A report is shared by the requests of the next
   * STATUS_MAX_AGE_MS (one in flight included), and made anew at once after
   * a cluster view update or a connection change (docs/http.md).
   */
  status(): Promise<StatusReport> {
    const now = performance.now()
    const c = this.#statusCache
    if (c && now - c.at < STATUS_MAX_AGE_MS) return c.report
    const report = this.#computeStatus()
    const entry = { at: now, report }
    this.#statusCache = entry
    report.catch(() => {
      if (this.#statusCache === entry) this.#statusCache = null
    })
    return report
  }

  async #computeStatus(): Promise<StatusReport> {
    const { identity } = this.identity
    const devices = await this.cluster.devices()
    const bySigning = new Map(devices.map((d) => [d.signingKey, d]))
    const beats = new Map<string, { rttMs: number | null; offsetMs: number | null }>()
    for (const b of this.heartbeats.stats()) {
      // of several connections to one device, the one with the shortest round trip says most
      const prev = beats.get(b.publicKey)
      if (b.rttMs === null || (prev?.rttMs != null && prev.rttMs <= b.rttMs)) continue
      beats.set(b.publicKey, { rttMs: b.rttMs, offsetMs: b.offsetMs ?? prev?.offsetMs ?? null })
    }
    const deviceStatus: DeviceStatus[] = devices.map((d) => {
      const self = d.deviceId === identity.deviceId
      const seen = this.#seen.get(d.signingKey)
      const known = self ? this.#ownKnownAddress() : this.#addressFor(d.signingKey)
      const link = this.direct.state(d.signingKey)
      const beat = beats.get(d.signingKey)
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
        revoked: d.revoked,
        lastAddress: known?.address ?? null,
        lastAddressFrom: known?.source ?? null,
        direct: !self && link.connections > 0,
        directError: self ? null : link.lastError,
        rttMs: self ? null : (beat?.rttMs ?? null),
        offsetMs: self ? null : (beat?.offsetMs ?? null)
      }
    })
    const peers: PeerStatus[] = []
    const conns: Array<[Hyperswarm.Connection, PeerStatus['transport']]> = [
      ...[...this.swarm.connections].map((c) => [c, 'swarm'] as [Hyperswarm.Connection, 'swarm']),
      ...this.direct.streams().map(({ stream }) => [stream, 'direct'] as [Hyperswarm.Connection, 'direct'])
    ]
    for (const [conn, transport] of conns) {
      const pk = conn.remotePublicKey
      if (!pk) continue
      const d = bySigning.get(hex(pk))
      const friend = d ? null : this.cluster.friendBySigningKey(pk)
      peers.push({
        publicKey: hex(pk),
        deviceId: d?.deviceId ?? friend?.deviceId ?? null,
        accountId: d ? identity.accountId : (friend?.accountId ?? null),
        kind: d ? 'own-device' : friend ? 'friend-device' : 'unknown',
        transport
      })
    }
    const waitingFor: string[] = []
    // a lookup over an empty routing table "completes" too: joined alone does not say the DHT answered
    const dhtNodes = (this.swarm.dht as unknown as { table?: { size?: number } }).table?.size ?? 0
    if (this.#swarmError) waitingFor.push(`DHT: ${this.#swarmError}`)
    else if (dhtNodes === 0) {
      waitingFor.push(
        'DHT: no DHT node answers (yet); devices are reached at their last direct addresses only'
      )
    } else if (!this.#swarmFlushed) waitingFor.push('DHT: announcing and looking up the cluster topic')
    if (peers.length === 0) waitingFor.push('peers: no other device of this account is connected')
    const windows = this.#windowsStatus()
    if (windows.offsetWarning) waitingFor.push(`windows: ${windows.offsetWarning}`)
    if (windows.lastError) waitingFor.push(`windows: ${windows.lastError}`)
    if (!this.cluster.writable)
      waitingFor.push('cluster: this device is not yet a writer (waiting for its certificate)')
    const view = this.cluster.base.view.core
    if (view.signedLength < view.length) {
      const blocked = await finalityBlocker(this.cluster).catch(() => null)
      if (blocked) waitingFor.push(`cluster: ${blocked}`)
    }
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
        dhtNodes,
        bootstrap: (this.config.bootstrap ?? []).map((b) => `${b.host}:${b.port}`)
      },
      direct: {
        listen: this.direct.listenAddress,
        address: this.#ownAddress,
        socks5: this.direct.socks5,
        onion: this.config.onion
      },
      windows,
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

  #windowsStatus(): WindowsStatus {
    if (this.windows) return this.windows.status()
    const w = this.config.windows
    return {
      enabled: false,
      slotSeconds: w.slotSeconds,
      windowSeconds: w.windowSeconds,
      protocol: w.protocol,
      next: null,
      open: false,
      mapping: null,
      external: null,
      lastError: null,
      maxOffsetMs: null,
      requiredWindowMs: 0,
      offsetWarning: null
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
        holders: c.holders.map((h) => ({
          deviceId: this.cluster.deviceIdOrKey(h.publicKey),
          online: h.online
        })),
        belowTarget: kind === 'writer' && c.length > 0 && c.copies < target
      }
    })
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
    const roles = opts.roles ?? ['access', 'relay']
    const issued = identityFromSeed(seed, {
      device,
      keepRoot: false,
      now: new Date(this.now())
    })
    const identity = issued.identity
    // a device without the access role never receives the X-Wing secret (docs/archive.md, "Relays")
    const secrets = roles.includes('access') ? issued.secrets : relaySecrets(issued.secrets)
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
        roles,
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

  listArchives() {
    return this.archives.list()
  }

  openArchive(id: string, opts: { waitMs?: number; all?: boolean } = {}) {
    return this.archives.open(id, opts)
  }

  async closeArchive(id: string) {
    return this.archives.forget(id)
  }

  async archiveMessages(id: string, opts: { offset?: number; limit?: number; q?: string } = {}) {
    return this.archives.messages(id, opts)
  }

  async archiveOpenProgress(id: string) {
    return this.archives.openProgress(id)
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

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/

/**
 * Where the direct transport listens: the DHT's own bind host when one is set
 * or implied (loopback when every bootstrap node is loopback, as on a test
 * network, so nothing is exposed beyond the machine), else every IPv4
 * interface.
 */
export function directBindHost(config: Config): string {
  // an onion service forwards to loopback; nothing else should reach the listener
  if (config.onion) return '127.0.0.1'
  const host = dhtBindHost(config)
  if (host && isIP(host)) return host
  if (host && LOOPBACK.test(host)) return '127.0.0.1'
  return '0.0.0.0'
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::'
}

function portOf(address: string): number | null {
  try {
    return parseHostPort(address).port
  } catch {
    return null
  }
}

/** This machine's first non-internal IPv4 address, or null. */
function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return null
}
