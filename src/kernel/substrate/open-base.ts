import Autobase from 'autobase'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import Hyperbee from 'hyperbee'
import { equalBytes } from '../crypto/hash.js'
import { isConclaveError, KernelErrors } from '../errors.js'
import { Resource } from '../lifecycle.js'
import { blindEncryption, defaultWrapKey } from './blind-encryption.js'
import { type EntryCodec, jsonCodec } from './codec.js'
import { SubstrateErrors } from './errors.js'
import { coreKeyFor, type KeyPair, toBuffer, toHypercoreKeyPair } from './keys.js'
import {
  type ApplyEndHandler,
  type ApplyHandler,
  readSkipped,
  type SkipRecord,
  safeApply,
  type View
} from './safe-apply.js'
import { viewHash } from './view-hash.js'

/**
 * Finality needs acks from a majority of indexers; autobase's default (10 s)
 * made an entry final after ≈30 s here, 1 s after ≈2–4 s.
 */
export const DEFAULT_ACK_INTERVAL_MS = 1000
/** Re-check interval of `until`, a safety net beside the autobase events. */
const UNTIL_POLL_MS = 250
/** A tentative view tail that has not moved for this many ack intervals (at least 1 s) is nudged. */
const NUDGE_ACK_INTERVALS = 4
const NUDGE_MIN_MS = 1000
/** While the same state stays stuck, nudges repeat with a doubling gap, at most this long. */
const NUDGE_MAX_MS = 30_000
const VIEW_NAME = 'view'
/** How long `entryAt` waits for a block neither stored here nor yet served by a peer. */
export const ENTRY_WAIT_MS = 10_000

export interface SubstrateBaseOptions<T> {
  /**
   * A corestore namespace dedicated to this base (`store.namespace(id)`): two
   * bases on one namespace share the local core name and freeze silently. The
   * base works on its own session and never closes this store.
   */
  store: Corestore
  /** Key of an existing base; omit or null to create one bootstrapped by the local writer. */
  bootstrap?: Uint8Array | null
  /**
   * Key pair of the local writer core (e.g. device i at writer epoch e). Its
   * core key is `coreKeyFor(publicKey)`; with no bootstrap it is also the base
   * key. Without it autobase derives the writer from the store's primary key.
   */
  keyPair?: KeyPair | null
  /** 32 bytes: hypercore block encryption of the writers, system and view cores. */
  encryptionKey: Uint8Array
  /**
   * 32 bytes that wrap `encryptionKey` where autobase stores it (local core
   * user data). Defaults to a labelled hash of `encryptionKey`.
   */
  wrapKey?: Uint8Array
  ackIntervalMs?: number
  /**
   * Works around an autobase 7.28.1 finality stall (default true): when this
   * node is an active indexer and the view's tentative tail has not moved for
   * 4 ack intervals (at least 1 s), append one null (ack) node; while the
   * same `(signedLength, length)` state stays stuck, again after a doubling
   * gap of at most 30 s. See docs/decisions/0002.
   */
  finalityNudge?: boolean
  codec?: EntryCodec<T>
  /**
   * The key of the base's current system core, as a trusted peer reported it
   * (an own device): a node that opens the base empty fast-forwards to it
   * straight away instead of first applying the log from its start until it
   * learns the key. Ignored once the base holds anything.
   */
  fastForwardKey?: Uint8Array | null
  apply: ApplyHandler<T>
  /** Runs at the end of every apply call, on what its entries wrote (see ApplyEndHandler). */
  applyEnd?: ApplyEndHandler
}

// Two autobases on the same namespace of one store freeze without an error.
const openNamespaces = new WeakMap<object, Set<string>>()

/**
 * An autobase with a hyperbee view (utf-8 keys, JSON values), encrypted at
 * rest, whose apply never throws (see `safeApply`).
 *
 * Events: 'update' (the view may have changed), 'skip' (SkipRecord, error —
 * on this node only, and again each time a reorder re-applies the entry;
 * a conversation tells its own posts' skips from it),
 * 'fault' (Error — autobase closed itself after an internal error), 'nudge'
 * ({ signedLength, length } of the view — a finality nudge was appended).
 */
export class SubstrateBase<T = unknown> extends Resource {
  readonly #opts: SubstrateBaseOptions<T>
  readonly #codec: EntryCodec<T>
  readonly #encryptionKey: Buffer
  #base: Autobase<View> | null = null
  #claimed: { root: object; ns: string } | null = null
  #nudgeTimer: NodeJS.Timeout | null = null
  /** The view's last seen `signedLength/length`, since when, and the state last nudged. */
  #tailState = ''
  #tailSince = 0
  #nudged = ''
  #nudges = 0
  #lastNudge = 0
  /** Writer core sessions `entryAt` reads from, by core key (hex). */
  readonly #writerCores = new Map<string, Hypercore<{ node: { value: Buffer | null } }>>()
  /** Sessions downloading every writer core in full (see #hold), by core key (hex). */
  readonly #held = new Map<string, Hypercore<unknown>>()
  /** Autobase's writer cores #holdActiveWriters has seen: an update event checks only new ones. */
  readonly #seenWriterCores = new WeakSet<object>()
  lastError: Error | null = null

  constructor(opts: SubstrateBaseOptions<T>) {
    super()
    if (opts.encryptionKey?.byteLength !== 32)
      throw KernelErrors.CRYPTO_INVALID_KEY('an encryption key has 32 bytes')
    if (opts.wrapKey && opts.wrapKey.byteLength !== 32)
      throw KernelErrors.CRYPTO_INVALID_KEY('a wrap key has 32 bytes')
    if (opts.keyPair) toHypercoreKeyPair(opts.keyPair)
    this.#opts = opts
    this.#codec = opts.codec ?? (jsonCodec as EntryCodec<T>)
    this.#encryptionKey = Buffer.from(opts.encryptionKey)
  }

  /** The underlying autobase (for replication hooks and inspection). */
  get autobase(): Autobase<View> {
    if (!this.#base) throw KernelErrors.KERNEL_CLOSED('the base is not open')
    return this.#base
  }

  get key(): Buffer {
    return this.autobase.key
  }

  get discoveryKey(): Buffer {
    return this.autobase.discoveryKey
  }

  /** Key of the local writer core (what `addWriter` must be given). */
  get localKey(): Buffer {
    return this.autobase.local.key
  }

  /** The read side of the view: includes tentative entries; `view.core.signedLength` marks the final part. */
  get view(): View {
    return this.autobase.view
  }

  get writable(): boolean {
    return this.#base !== null && this.#base.writable
  }

  /**
   * Whether the local writer is an active indexer. Autobase's own `isIndexer`
   * turns true for an instant while an indexer add is pending, then false
   * until that add is indexed (≈2.4 s here); `ackable` is the settled state.
   */
  get isIndexer(): boolean {
    return this.#base !== null && this.#base.isIndexer && this.#base.ackable
  }

  protected override async _open(): Promise<void> {
    const { store } = this.#opts
    const root = store.root ?? store
    const ns = store.ns.toString('hex')
    const claimed = openNamespaces.get(root) ?? new Set<string>()
    if (claimed.has(ns)) {
      throw SubstrateErrors.SUBSTRATE_NAMESPACE_IN_USE(
        'this corestore namespace already holds an open base; use store.namespace(id) per base'
      )
    }
    claimed.add(ns)
    openNamespaces.set(root, claimed)
    this.#claimed = { root, ns }

    const session = store.session({ namespace: store.ns })
    const bootstrap = this.#opts.bootstrap ? toBuffer(this.#opts.bootstrap) : null
    if (bootstrap && this.#opts.keyPair) {
      try {
        await this.#checkWriter(session, bootstrap, this.#opts.keyPair)
      } catch (err) {
        await session.close()
        throw err
      }
    }

    const base = new Autobase<View>(session, bootstrap, {
      open: (viewStore) =>
        new Hyperbee<string, unknown>(viewStore.get(VIEW_NAME), {
          keyEncoding: 'utf-8',
          valueEncoding: 'json',
          extension: false
        }),
      apply: safeApply(
        this.#opts.apply,
        this.#codec,
        (record, err) => this.emit('skip', record, err),
        this.#opts.applyEnd
      ),
      close: (view) => view.close(),
      valueEncoding: 'binary',
      ...(this.#opts.fastForwardKey ? { fastForward: { key: Buffer.from(this.#opts.fastForwardKey) } } : {}),
      ackInterval: this.#opts.ackIntervalMs ?? DEFAULT_ACK_INTERVAL_MS,
      encryptionKey: this.#encryptionKey,
      blindEncryption: blindEncryption(this.#opts.wrapKey ?? defaultWrapKey(this.#encryptionKey)),
      keyPair: this.#opts.keyPair ? toHypercoreKeyPair(this.#opts.keyPair) : null
    })
    this.#base = base
    // Without an 'error' listener autobase crashes the process on an internal error.
    base.on('error', (err) => {
      this.lastError = err
      this.emit('fault', err)
    })
    base.on('update', () => {
      this.#watchTail()
      this.#holdActiveWriters()
      this.emit('update')
    })
    base.on('fast-forward', () => {
      this.#completeFastForward()
      this.#holdMembers()
    })

    try {
      await base.ready()
    } catch (err) {
      if (isConclaveError(err, 'CRYPTO_DECRYPT_FAILED')) {
        throw SubstrateErrors.SUBSTRATE_KEY_MISMATCH(
          'the stored base key does not open with this encryption/wrap key',
          {
            cause: err
          }
        )
      }
      throw err
    }
    // autobase prefers the key it stored over the one passed in
    if (!base.encryptionKey || !equalBytes(base.encryptionKey, this.#encryptionKey)) {
      throw SubstrateErrors.SUBSTRATE_KEY_MISMATCH('this base was created with a different encryption key')
    }
    this.#holdMembers()
    if (this.#opts.finalityNudge !== false) {
      const ackMs = this.#opts.ackIntervalMs ?? DEFAULT_ACK_INTERVAL_MS
      this.#watchTail()
      this.#nudgeTimer = setInterval(
        () => this.#nudge(Math.max(NUDGE_MIN_MS, NUDGE_ACK_INTERVALS * ackMs)),
        ackMs
      )
      this.#nudgeTimer.unref()
    }
  }

  /**
   * A fast-forward takes the signed system and view cores by reference and
   * fetches their blocks on demand, so a node restarted with no peer could
   * not read its own view. Every block up to the new length is fetched now,
   * in the background (a peer that leaves first is met again later: the
   * range stays requested while the session lives).
   */
  #completeFastForward(): void {
    const base = this.#base
    if (!base) return
    for (const core of [base.core, base.view.core]) {
      if (!core || core.closed || core.contiguousLength >= core.length) continue
      core
        .download({ start: 0, end: core.length })
        .done()
        .catch(() => {}) // a closed session or a truncation: a later fast-forward asks again
    }
  }

  /**
   * Every node keeps every writer core in full, not only the blocks its
   * apply read: a view names entries by (writer, length) instead of copying
   * them (see `entryAt`), and a node that took a signed view by a
   * fast-forward never reads the blocks before it. So each writer core
   * autobase has known (removed ones too) gets a session downloading all of
   * it, as it grows, for as long as the base is open.
   */
  #hold(key: Buffer): void {
    const base = this.#base
    if (!base || this.closing || base.closing) return
    const id = key.toString('hex')
    if (this.#held.has(id) || key.equals(base.local.key)) return
    const core = base.store.get({ key })
    this.#held.set(id, core)
    core
      .ready()
      .then(() => core.download({ start: 0, end: -1 }))
      .catch(() => {}) // closed meanwhile
  }

  /** The writers autobase has open now (cheap, synchronous): a writer added since is held from here. */
  #holdActiveWriters(): void {
    const base = this.#base
    if (!base) return
    for (const w of base.activeWriters) {
      if (this.#seenWriterCores.has(w.core) || !w.core.key) continue
      this.#seenWriterCores.add(w.core)
      this.#hold(w.core.key)
    }
  }

  /** Every writer the system lists, removed ones included (after open and after a fast-forward). */
  #holdMembers(): void {
    const system = this.#base?.system
    if (!system) return
    void (async () => {
      for await (const { key } of system.list()) this.#hold(key)
    })().catch(() => {}) // a closing base, or system blocks not here yet: the next fast-forward or update holds them
  }

  /** The writer cores held in full (see #hold): how much of each is stored here in a row. */
  heldWriters(): Array<{ key: Buffer; length: number; contiguousLength: number }> {
    return [...this.#held.values()].map((c) => ({
      key: c.key!,
      length: c.length,
      contiguousLength: c.contiguousLength
    }))
  }

  /** Notes when the view's `(signedLength, length)` last changed. */
  #watchTail(): void {
    const core = this.#base?.view.core
    if (!core) return
    const state = `${core.signedLength}/${core.length}`
    if (state === this.#tailState) return
    this.#tailState = state
    this.#tailSince = Date.now()
  }

  /**
   * Autobase 7.28.1 can leave a tentative view tail unindexed for good: when
   * every head is an indexer's own node, the linearizer's "never ack your own
   * head" and "nothing new to confirm" rules make every indexer wait for the
   * other (seen with two indexers, everyone connected and idle: view
   * signedLength stuck at 41 of 46). `base.ack()` declines for the same
   * reasons, so an active indexer whose tail has not moved for `windowMs`
   * appends one null node itself: it changes the heads, never reaches apply
   * and changes no view. A nudge can come too early (the other indexer had
   * not yet downloaded everything, so it declined to ack), so while the
   * same state stays stuck it is repeated with a doubling gap up to
   * NUDGE_MAX_MS: an offline indexer costs a block every 30 s, not a stream.
   */
  #nudge(windowMs: number): void {
    const base = this.#base
    if (!base || this.closing || this.lastError || !this.writable || !this.isIndexer) return
    this.#watchTail()
    const { signedLength, length } = base.view.core
    if (signedLength >= length) return
    const now = Date.now()
    if (now - this.#tailSince < windowMs) return
    if (this.#tailState !== this.#nudged) {
      this.#nudged = this.#tailState
      this.#nudges = 0
    } else if (now - this.#lastNudge < Math.min(NUDGE_MAX_MS, windowMs * 2 ** this.#nudges)) {
      return
    }
    this.#nudges++
    this.#lastNudge = now
    this.emit('nudge', { signedLength, length })
    base.append(null).catch(() => {})
  }

  /**
   * Autobase accepts another key pair on reopen but then starts a local
   * writer without its boot record: the system's signedLength stays 0 there
   * for good (measured), so finality is never reported. Refuse instead.
   */
  async #checkWriter(store: Corestore, bootstrap: Buffer, keyPair: KeyPair): Promise<void> {
    const core = store.get({ key: bootstrap, active: false })
    try {
      await core.ready()
      const stored = await core.getUserData('autobase/local')
      if (stored && !equalBytes(stored, coreKeyFor(keyPair.publicKey))) {
        throw SubstrateErrors.SUBSTRATE_WRITER_MISMATCH(
          'this store already holds the base with another local writer; rotate in place with rotateWriter()'
        )
      }
    } finally {
      await core.close()
    }
  }

  protected override async _close(): Promise<void> {
    if (this.#nudgeTimer) clearInterval(this.#nudgeTimer)
    this.#nudgeTimer = null
    const cores = [...this.#writerCores.values(), ...this.#held.values()]
    this.#writerCores.clear()
    this.#held.clear()
    await Promise.allSettled(cores.map((c) => c.close()))
    try {
      if (this.#base) await this.#base.close()
    } finally {
      if (this.#claimed) openNamespaces.get(this.#claimed.root)?.delete(this.#claimed.ns)
      this.#claimed = null
    }
  }

  /** Appends one entry; resolves with the local writer length. */
  async append(value: T): Promise<number> {
    return this.appendBatch([value])
  }

  /**
   * Appends entries as one autobase batch (one apply call for all). Pack
   * messages produced together: merging, not appending, is the cost.
   */
  async appendBatch(values: readonly T[]): Promise<number> {
    this.assertOpen()
    if (!this.opened) await this.ready()
    const base = this.autobase
    const blocks = values.map((v) => this.#codec.encode(v))
    if (this.lastError)
      throw SubstrateErrors.SUBSTRATE_FAILED('the base failed', {
        cause: this.lastError
      })
    if (blocks.length === 0) return base.local.length
    if (!base.writable)
      throw SubstrateErrors.SUBSTRATE_NOT_WRITABLE('the local writer is not a writer of this base')
    try {
      return await base.append(blocks.length === 1 ? blocks[0]! : blocks)
    } catch (err) {
      if (!base.writable)
        throw SubstrateErrors.SUBSTRATE_NOT_WRITABLE('the local writer was removed', { cause: err })
      throw err
    }
  }

  /**
   * Moves the local writer to a new core (the next writer epoch) in place,
   * carrying the local apply state over. The new writer can append once some
   * node's apply adds `localKey`; reopen the store with this key pair (and the
   * bootstrap key) from now on.
   */
  async rotateWriter(keyPair: KeyPair): Promise<void> {
    this.assertOpen()
    if (!this.opened) await this.ready()
    await this.autobase.setLocal(null, {
      keyPair: toHypercoreKeyPair(keyPair)
    })
    if (!equalBytes(this.localKey, coreKeyFor(keyPair.publicKey))) {
      throw SubstrateErrors.SUBSTRATE_FAILED('the local writer did not rotate')
    }
  }

  /**
   * The entry a writer appended, by its name in the log: the writer core's
   * key and the writer length including it (what apply's entries carry).
   * Read from the writer core, so a view can name an entry instead of
   * copying it. A block this node does not hold is asked of its peers for
   * up to `timeoutMs` (SUBSTRATE_ENTRY_UNAVAILABLE after that); a block that
   * does not decode throws SUBSTRATE_UNDECODABLE (apply skipped such an
   * entry, so no view names one).
   */
  async entryAt(writer: Uint8Array, length: number, opts: { timeoutMs?: number } = {}): Promise<T> {
    this.assertOpen()
    if (!this.opened) await this.ready()
    if (!Number.isSafeInteger(length) || length < 1)
      throw SubstrateErrors.SUBSTRATE_ENTRY_UNAVAILABLE(`no entry at length ${String(length)}`)
    const key = toBuffer(writer)
    const id = key.toString('hex')
    let core = this.#writerCores.get(id)
    if (core === undefined) {
      core = this.autobase._makeWriterCore(key)
      this.#writerCores.set(id, core)
    }
    let block: { node: { value: Buffer | null } } | null
    try {
      block = await core.get(length - 1, { timeout: opts.timeoutMs ?? ENTRY_WAIT_MS })
    } catch (err) {
      if (this.closing) throw KernelErrors.KERNEL_CLOSED('the base closed while reading an entry')
      throw SubstrateErrors.SUBSTRATE_ENTRY_UNAVAILABLE(
        `the entry at ${id.slice(0, 8)}…/${length} is not stored here and no peer served it`,
        { cause: err }
      )
    }
    const value = block?.node.value
    if (!value || value.byteLength === 0)
      throw SubstrateErrors.SUBSTRATE_UNDECODABLE(`the block at ${id.slice(0, 8)}…/${length} holds no entry`)
    try {
      return this.#codec.decode(value)
    } catch (cause) {
      throw SubstrateErrors.SUBSTRATE_UNDECODABLE(
        `the entry at ${id.slice(0, 8)}…/${length} does not decode`,
        {
          cause
        }
      )
    }
  }

  /** Pulls what connected peers have and runs apply. */
  async update(): Promise<void> {
    this.assertOpen()
    await this.autobase.update()
  }

  viewHash(): Promise<Buffer> {
    return viewHash(this.view)
  }

  /** Entries this base skipped, as recorded in the view (identical on every node once final). */
  skipped(): Promise<SkipRecord[]> {
    return readSkipped(this.view)
  }

  /**
   * Lets autobase's wakeup protocol run on a replication stream, so peers tell
   * each other which writers have news. Call after `store.replicate(conn)`.
   */
  attachStream(stream: unknown): void {
    this.autobase.wakeupProtocol.addStream(stream)
  }

  /**
   * Whether this node holds every block its peers have of the system core
   * and of every writer core autobase has open (but the local one, of which
   * nobody has more): each of those cores has at least one peer, and no
   * peer has more of it than this node holds in a row. A core no peer
   * serves keeps it false.
   */
  caughtUp(): boolean {
    const base = this.autobase
    for (const core of [base.core, ...[...base.activeWriters].map((w) => w.core)]) {
      if (core.key.equals(base.local.key)) continue
      if (core.peers.length === 0) return false
      for (const peer of core.peers) if (peer.remoteLength > core.contiguousLength) return false
    }
    return true
  }

  /**
   * Resolves once `predicate` holds, re-checking on every autobase event (and
   * every UNTIL_POLL_MS as a safety net). Rejects when the base closes or
   * fails, or when `signal` aborts.
   */
  until(predicate: () => boolean | Promise<boolean>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const base = this.autobase
    const events = ['update', 'writable', 'unwritable', 'is-indexer', 'is-non-indexer'] as const
    return new Promise<void>((resolve, reject) => {
      let done = false
      let checking = false
      let again = false
      const finish = (err?: unknown): void => {
        if (done) return
        done = true
        clearInterval(timer)
        for (const e of events) base.off(e, check)
        this.off('close', onClose)
        this.off('fault', onFault)
        opts.signal?.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else reject(err)
      }
      const check = (): void => {
        if (done) return
        if (checking) {
          again = true
          return
        }
        checking = true
        void (async () => {
          try {
            do {
              again = false
              if (await predicate()) return finish()
            } while (again && !done)
          } catch (err) {
            finish(err)
          } finally {
            checking = false
          }
        })()
      }
      const onClose = (): void => finish(KernelErrors.KERNEL_CLOSED('the base closed while waiting'))
      const onFault = (err: Error): void =>
        finish(
          SubstrateErrors.SUBSTRATE_FAILED('the base failed while waiting', {
            cause: err
          })
        )
      const onAbort = (): void => finish(opts.signal?.reason ?? new Error('aborted'))
      const timer = setInterval(check, UNTIL_POLL_MS)
      for (const e of events) base.on(e, check)
      this.once('close', onClose)
      this.once('fault', onFault)
      if (opts.signal?.aborted) return onAbort()
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      if (this.closing) return onClose()
      check()
    })
  }
}

/** Opens a substrate base and waits until it is ready. */
export async function openBase<T = unknown>(opts: SubstrateBaseOptions<T>): Promise<SubstrateBase<T>> {
  const base = new SubstrateBase<T>(opts)
  try {
    await base.ready()
  } catch (err) {
    await base.close().catch(() => {})
    throw err
  }
  return base
}
