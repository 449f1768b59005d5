import type Corestore from 'corestore'
import type { Ed25519KeyPair } from '../src/kernel/crypto/ed25519.js'
import type { HybridPublicKey } from '../src/kernel/crypto/hybrid-sign.js'
import { hex } from '../src/kernel/encoding.js'
import { ConclaveError, isConclaveError, KernelErrors } from '../src/kernel/errors.js'
import { accountIdFromPublic } from '../src/kernel/identity/keys.js'
import { Rerun, Resource } from '../src/kernel/lifecycle.js'
import {
  coreKeyFor,
  type EntryCodec,
  jsonCodec,
  type MembershipHost,
  openBase,
  readPrefix,
  type SkipRecord,
  type SubstrateBase,
  skipKey,
  waitForWriter
} from '../src/kernel/substrate/index.js'
import { type ClusterRules, dryRunContext } from './apply-context.js'
import {
  type SignedCertificate,
  type SignedRevocation,
  verifyCertificate,
  verifyRevocation
} from './certificate.js'
import type { AddressRecord } from './addresses.js'
import {
  addressEntry,
  archiveEntry,
  type ClusterEntry,
  certifyEntry,
  friendEntry,
  revokeEntry
} from './entries.js'
import type { ArchiveRecord } from './archives.js'
import { clusterApply, runEntry } from './entry-kinds.js'
import { ClusterErrors } from './errors.js'
import type { DeviceRecord, WriterRecord } from './membership.js'
import { verifyCard } from './contact-card.js'
import type { FriendRecord } from './friends.js'
import {
  ADDRESS_PREFIX,
  addressKey,
  ARCHIVE_PREFIX,
  archiveKey,
  DEVICE_PREFIX,
  FRIEND_KEY_PREFIX,
  FRIEND_PREFIX,
  WRITER_PREFIX,
  deviceCertKey,
  deviceIdKey,
  deviceKey,
  prefixRange
} from './view-layout.js'

/** How long an append waits for a writer status that flickered away before refusing. */
const WRITABLE_WAIT_MS = 10_000
export type { DeviceRecord, Role, WriterRecord } from './membership.js'

export interface ClusterComponents {
  /** A corestore namespace dedicated to the cluster base (the cluster never closes it). */
  store: Corestore
}

export interface ClusterInit {
  accountId: string
  /** Both root public keys: every certificate and revocation must verify under both. */
  rootPublic: HybridPublicKey
  /** Ed25519 public key of writer (0, 0); the base key is coreKeyFor(bootstrapPublicKey). */
  bootstrapPublicKey: Buffer
  /** This device's writer key pair at its current epoch. */
  writerKeyPair: Ed25519KeyPair
  /** The cluster key (32 bytes): block encryption of every cluster core. */
  encryptionKey: Buffer
  ackIntervalMs?: number
  /**
   * Root-signed certificates to admit through `isMemberSigningKey` before the
   * view knows them — e.g. the inviting device's, from the pairing package,
   * so a new device with an empty view can connect to its cluster at all.
   * The view wins as soon as it holds the device (a revocation there sticks).
   */
  trusted?: SignedCertificate[]
}

/**
 * Events of a Cluster: 'members' (the membership cache changed: admit or
 * unban new keys, prune revoked ones), 'update' (the view may have changed),
 * 'fault' (Error: the base failed; see SubstrateBase).
 */
export interface ClusterEvents {
  members: []
  update: []
  fault: [Error]
}

/**
 * The cluster's membership: one autobase per account whose view holds the
 * device certificates and revocations (docs/cluster.md), plus a synchronous
 * cache of the certified signing keys for the swarm firewall.
 */
export class Cluster extends Resource {
  readonly #store: Corestore
  readonly #init: ClusterInit
  readonly #rules: ClusterRules
  #base: SubstrateBase<ClusterEntry> | null = null
  #bySigningKey = new Map<string, DeviceRecord>()
  readonly #trusted = new Map<string, DeviceRecord>()
  #cacheSignature = ''
  #friendKeys = new Map<string, { accountId: string; deviceId: string }>()
  /** Re-reads the devices into the sync cache; concurrent calls share one run that starts after them. */
  readonly #refresher = new Rerun(
    () => this.#reload(),
    () => this.closing !== null
  )
  readonly #onUpdate = (): void => {
    this.emit('update')
    this.#refresh().catch((err: unknown) => {
      if (!this.closing) this.emit('fault', err)
    })
  }
  readonly #onFault = (err: Error): void => {
    this.emit('fault', err)
  }

  constructor(components: ClusterComponents, init: ClusterInit) {
    super()
    if (init.bootstrapPublicKey?.byteLength !== 32) {
      throw KernelErrors.CRYPTO_INVALID_KEY('the bootstrap public key is a 32-byte Ed25519 key')
    }
    if (accountIdFromPublic(init.rootPublic) !== init.accountId) {
      throw KernelErrors.CRYPTO_INVALID_KEY('the root public keys do not belong to this account id')
    }
    this.#store = components.store
    this.#init = init
    this.#rules = {
      accountId: init.accountId,
      rootPublic: init.rootPublic,
      bootstrapCoreKey: coreKeyFor(init.bootstrapPublicKey)
    }
    for (const signed of init.trusted ?? []) this.#addTrusted(signed)
  }

  /** The cluster autobase (after ready()). */
  get base(): SubstrateBase<ClusterEntry> {
    if (!this.#base) throw KernelErrors.KERNEL_CLOSED('the cluster is not open')
    return this.#base
  }

  /** Whether autobase counts the local writer as a writer (it was certified and not removed). */
  get writable(): boolean {
    return this.#base !== null && this.#base.writable
  }

  protected override async _open(): Promise<void> {
    const base = await openBase<ClusterEntry>({
      store: this.#store,
      bootstrap: this.#rules.bootstrapCoreKey,
      keyPair: this.#init.writerKeyPair,
      encryptionKey: this.#init.encryptionKey,
      ...(this.#init.ackIntervalMs === undefined ? {} : { ackIntervalMs: this.#init.ackIntervalMs }),
      codec: jsonCodec as EntryCodec<ClusterEntry>,
      apply: clusterApply(this.#rules)
    })
    this.#base = base
    base.on('update', this.#onUpdate)
    base.on('fault', this.#onFault)
    await this.#refresh()
  }

  protected override async _close(): Promise<void> {
    const base = this.#base
    if (!base) return
    base.off('update', this.#onUpdate)
    base.off('fault', this.#onFault)
    await this.#refresher.idle.catch(() => {})
    await base.close()
  }

  /** Every device the view knows, revoked included, by device index. */
  async devices(): Promise<DeviceRecord[]> {
    await this.#opened()
    return (await readPrefix<DeviceRecord>(this.base.view, DEVICE_PREFIX)).map((r) => r.value)
  }

  /** Every writer core the view has certified (hex core key), current, retired and revoked. */
  async writers(): Promise<Array<WriterRecord & { core: string }>> {
    await this.#opened()
    return (await readPrefix<WriterRecord>(this.base.view, WRITER_PREFIX)).map((r) => ({
      ...r.value,
      core: r.id
    }))
  }

  /** A device by id (`dev_…`) or by index (a decimal string); null if the view has none. */
  async getDevice(ref: string): Promise<DeviceRecord | null> {
    await this.#opened()
    let index: number
    if (/^\d{1,10}$/.test(ref)) index = Number(ref)
    else {
      const byId = await this.base.view.get(deviceIdKey(ref))
      if (byId === null) return null
      index = (byId.value as { device: number }).device
    }
    const node = await this.base.view.get(deviceKey(index))
    return node === null ? null : (node.value as DeviceRecord)
  }

  /** SYNC, for the swarm firewall: a certified, unrevoked device's signing (Noise) key. */
  isMemberSigningKey(publicKey: Uint8Array): boolean {
    const record = this.deviceBySigningKey(publicKey)
    return record !== null && !record.revoked
  }

  /** SYNC: the device with this signing key, from the view cache (or a trusted certificate). */
  deviceBySigningKey(publicKey: Uint8Array): DeviceRecord | null {
    if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== 32) return null
    const key = hex(publicKey)
    return this.#bySigningKey.get(key) ?? this.#trusted.get(key) ?? null
  }

  /**
   * Admits a root-signed certificate through the firewall before the view
   * holds it (see ClusterInit.trusted); throws CLUSTER_CERT_INVALID.
   */
  /** SYNC: the signing keys (hex) of the account's certified, unrevoked devices and of friends' devices, from the view cache. */
  knownSigningKeys(): string[] {
    const keys = [...this.#friendKeys.keys()]
    for (const [key, record] of this.#bySigningKey) if (!record.revoked) keys.push(key)
    return keys
  }

  /** The friend account a signing key belongs to (SYNC, for the firewall), or null. */
  friendBySigningKey(publicKey: Uint8Array): { accountId: string; deviceId: string } | null {
    return this.#friendKeys.get(hex(publicKey)) ?? null
  }

  /** The device id a signing key (hex) belongs to, own or a friend's; the key itself when unknown. */
  deviceIdOrKey(publicKey: string): string {
    const key = Buffer.from(publicKey, 'hex')
    return this.deviceBySigningKey(key)?.deviceId ?? this.friendBySigningKey(key)?.deviceId ?? publicKey
  }

  /** Friends' latest contact cards, by account id. */
  async friends(): Promise<FriendRecord[]> {
    await this.#opened()
    return (await readPrefix<FriendRecord>(this.base.view, FRIEND_PREFIX)).map((r) => r.value)
  }

  /**
   * Verifies a friend's contact card (CLUSTER_CARD_INVALID) and stores it in
   * the cluster view, where every own device learns it.
   */
  async addFriend(card: unknown): Promise<FriendRecord> {
    await this.#opened()
    const { signed } = verifyCard(card)
    await this.#appendChecked(friendEntry(signed))
    const node = await this.base.view.get(`${FRIEND_PREFIX}${signed.card.accountId}`)
    return node!.value as FriendRecord
  }

  /** Every device's last address as the device itself wrote it, by device id. */
  async addresses(): Promise<AddressRecord[]> {
    await this.#opened()
    return (await readPrefix<AddressRecord>(this.base.view, ADDRESS_PREFIX)).map((r) => r.value)
  }

  /** One device's last address from the view, or null. */
  async getAddress(deviceId: string): Promise<AddressRecord | null> {
    await this.#opened()
    const node = await this.base.view.get(addressKey(deviceId))
    return node === null ? null : (node.value as AddressRecord)
  }

  /**
   * Writes this device's address to the view (`cluster/address`). `deviceId`
   * must be the device whose writer this is (CLUSTER_ADDRESS_NOT_OWN) and
   * `at` newer than the recorded one (CLUSTER_ADDRESS_STALE); the address
   * must be `host:port` (CLUSTER_ENTRY_INVALID).
   */
  async setAddress(deviceId: string, address: string, at: number): Promise<void> {
    await this.#opened()
    await this.#appendChecked(addressEntry(deviceId, address, at))
  }

  /** Every recorded archive (docs/archive.md), by id. */
  async archives(): Promise<ArchiveRecord[]> {
    await this.#opened()
    return (await readPrefix<ArchiveRecord>(this.base.view, ARCHIVE_PREFIX)).map((r) => r.value)
  }

  async getArchive(id: string): Promise<ArchiveRecord | null> {
    await this.#opened()
    const node = await this.base.view.get(archiveKey(id))
    return node === null ? null : (node.value as ArchiveRecord)
  }

  /** Records a sealed archive in the view (`cluster/archive`); refused locally with the code apply would skip it with. */
  async recordArchive(record: ArchiveRecord): Promise<void> {
    await this.#opened()
    await this.#appendChecked(archiveEntry(record))
  }

  /** Root-signed certificates of the account's unrevoked devices (for its contact card). */
  async certificates(): Promise<SignedCertificate[]> {
    const out: SignedCertificate[] = []
    for (const d of await this.devices()) {
      if (d.revoked) continue
      const node = await this.base.view.get(deviceCertKey(d.device))
      if (node) out.push(node.value as SignedCertificate)
    }
    return out
  }

  trust(signed: SignedCertificate): void {
    if (this.#addTrusted(signed)) this.emit('members')
  }

  /**
   * The index for the next new device: 1 + the highest index the view has
   * seen, revoked ones included (an index is never reused); at least 1, since
   * index 0 is the bootstrap device.
   */
  async nextDeviceIndex(): Promise<number> {
    await this.#opened()
    let next = 1
    for await (const { value } of this.base.view.createReadStream({
      ...prefixRange(DEVICE_PREFIX),
      reverse: true,
      limit: 1
    })) {
      next = Math.max(next, (value as DeviceRecord).device + 1)
    }
    return next
  }

  /**
   * Verifies a certificate (CLUSTER_CERT_INVALID), dry-runs the apply rules
   * against the local view (their CLUSTER_* code), appends it, and resolves
   * once the local view and the membership cache have it. Throws
   * CLUSTER_NOT_WRITABLE when this device cannot append yet.
   */
  async certify(signed: SignedCertificate): Promise<void> {
    await this.#opened()
    const verified = verifyCertificate(this.#rules.rootPublic, this.#rules.accountId, signed)
    await this.#appendChecked(certifyEntry(verified))
  }

  /**
   * Verifies a revocation, refuses an unknown (CLUSTER_DEVICE_UNKNOWN) or
   * already revoked device (CLUSTER_DEVICE_REVOKED) and the last indexer
   * (CLUSTER_LAST_INDEXER), then appends it.
   */
  async revoke(signed: SignedRevocation): Promise<void> {
    await this.#opened()
    const verified = verifyRevocation(this.#rules.rootPublic, this.#rules.accountId, signed)
    await this.#appendChecked(revokeEntry(verified))
  }

  /**
   * Appends without any check: hostile-entry tests, and entry kinds without a method yet.
   * Resolves with the local writer's length after the entry (its position in the log).
   */
  async append(entry: ClusterEntry): Promise<number> {
    await this.#opened()
    const length = await this.#append(entry)
    await this.#refresh()
    return length
  }

  /** Entries apply skipped, in (writer, length) order: identical on every node once final. */
  async skipped(): Promise<SkipRecord[]> {
    await this.#opened()
    return this.base.skipped()
  }

  async viewHash(): Promise<Buffer> {
    await this.#opened()
    return this.base.viewHash()
  }

  async #opened(): Promise<void> {
    this.assertOpen()
    if (!this.opened) await this.ready()
  }

  async #appendChecked(entry: ClusterEntry): Promise<void> {
    const base = this.base
    if (!base.writable) {
      throw ClusterErrors.CLUSTER_NOT_WRITABLE('this device is not (yet) a writer of the cluster log')
    }
    const writer = base.localKey
    await runEntry(dryRunContext(this.#rules, writer, base.view, await this.#viewHost()), entry)
    const length = await this.#append(entry)
    // the dry run saw this node's view; apply, on the log's order, has the last word
    const skipped = await base.view.get(skipKey(writer, length))
    await this.#refresh()
    if (skipped !== null) {
      const { code } = skipped.value as SkipRecord
      throw new ConclaveError(code, `the cluster log skipped this entry (${code})`)
    }
  }

  async #append(entry: ClusterEntry): Promise<number> {
    try {
      try {
        return await this.base.append(entry)
      } catch (err) {
        // autobase's writable flickers while a pending writer change is reordered:
        // a device that was just a writer gets a short wait before it is refused
        if (!isConclaveError(err, 'SUBSTRATE_NOT_WRITABLE')) throw err
        await waitForWriter(this.base, { signal: AbortSignal.timeout(WRITABLE_WAIT_MS) }).catch(() => {
          throw err
        })
        return await this.base.append(entry)
      }
    } catch (err) {
      if (isConclaveError(err, 'SUBSTRATE_NOT_WRITABLE')) {
        throw ClusterErrors.CLUSTER_NOT_WRITABLE('this device is not a writer of the cluster log', {
          cause: err
        })
      }
      throw err
    }
  }

  /**
   * A membership host for dry runs: removal is judged from the view (the
   * indexers it records), as autobase's own `removeable` is only reachable
   * inside apply.
   */
  async #viewHost(): Promise<MembershipHost> {
    const indexers = new Set<string>()
    let bootstrapNamed = false
    const bootstrapHex = hex(this.#rules.bootstrapCoreKey)
    for await (const { key, value } of this.base.view.createReadStream(prefixRange(WRITER_PREFIX))) {
      const w = value as WriterRecord
      const core = key.slice(WRITER_PREFIX.length)
      if (core === bootstrapHex) bootstrapNamed = true
      if (w.indexer && (w.state === 'current' || !w.removed)) indexers.add(core)
    }
    if (!bootstrapNamed) indexers.add(bootstrapHex)
    return {
      addWriter() {},
      removeWriter() {},
      removable: (key) => !(indexers.size === 1 && indexers.has(hex(key)))
    }
  }

  #addTrusted(signed: SignedCertificate): boolean {
    const { cert } = verifyCertificate(this.#rules.rootPublic, this.#rules.accountId, signed)
    const known = this.#trusted.get(cert.signingKey)
    if (known && known.epoch >= cert.epoch && known.certifiedAt >= cert.issuedAt) return false
    this.#trusted.set(cert.signingKey, {
      deviceId: cert.deviceId,
      device: cert.device,
      epoch: cert.epoch,
      signingKey: cert.signingKey,
      xwingKey: cert.xwingKey,
      writerKey: cert.writerKey,
      writerCoreKey: hex(coreKeyFor(Buffer.from(cert.writerKey, 'hex'))),
      roles: [...cert.roles],
      indexer: cert.indexer,
      name: cert.name ?? null,
      revoked: false,
      revokedAt: null,
      certifiedAt: cert.issuedAt
    })
    return true
  }

  #refresh(): Promise<void> {
    return this.#refresher.trigger()
  }

  async #reload(): Promise<void> {
    const base = this.#base
    if (!base || base.closing) return
    const next = new Map<string, DeviceRecord>()
    for await (const { value } of base.view.createReadStream(prefixRange(DEVICE_PREFIX))) {
      const record = value as DeviceRecord
      next.set(record.signingKey, record)
    }
    const friends = new Map<string, { accountId: string; deviceId: string }>()
    for await (const { key, value } of base.view.createReadStream(prefixRange(FRIEND_KEY_PREFIX))) {
      friends.set(key.slice(FRIEND_KEY_PREFIX.length), value as { accountId: string; deviceId: string })
    }
    const signature = JSON.stringify([[...next.values()], [...friends.entries()]])
    if (signature === this.#cacheSignature) return
    this.#friendKeys = friends
    this.#bySigningKey = next
    this.#cacheSignature = signature
    this.emit('members')
  }
}
