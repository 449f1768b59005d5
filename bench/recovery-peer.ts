// One process of the recovery and archive-open benchmarks (bench/recovery.ts,
// bench/archive-open.ts), driven over IPC.
//
// mode "node": a real ConclaveNode on its own home (RocksDB store, Hyperswarm
// on the parent's DHT testnet). It can create an account, join one with an
// invite, or recover a home from the seed (recoverDevice, then the node), and
// post many messages into a conversation with Conversation.postBatch, archive a
// conversation and open the archive with the other holder's help.
// mode "bare": the substrate alone: one plain hypercore in a fresh corestore,
// seeded ("seed") or downloaded in full ("fetch") over Hyperswarm.
// Every time it reports is absolute (performance.timeOrigin + performance.now()).
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { decodeTranscript, encodeTranscript } from '../archive/transcript.js'
import { type Conversation, type MessageRecord, verifyMessageRecord } from '../conversations/index.js'
import {
  type MessageChunk,
  MSG_PREFIX,
  prefixRange,
  STATE_KEY,
  type StateRecord
} from '../conversations/view-layout.js'
import { loadConfig } from '../src/kernel/config.js'
import { hex, unhex } from '../src/kernel/encoding.js'
import { identityFromSeed, writeIdentity } from '../src/kernel/identity/home-store.js'
import { mnemonicToSeed } from '../src/kernel/identity/mnemonic.js'
import { createLogger, type LogLevel } from '../src/kernel/log.js'
import { viewHash } from '../src/kernel/substrate/view-hash.js'
import { joinCluster } from '../src/node/join.js'
import { ConclaveNode } from '../src/node/node.js'
import { recoverDevice } from '../src/node/recover.js'

/** CONCLAVE_BENCH_LOG=debug|info|… shows the peer's node and recovery log on stderr (silent by default). */
const benchLog = createLogger((process.env.CONCLAVE_BENCH_LOG ?? 'silent') as LogLevel)

const [mode, bootstrapFlag] = process.argv.slice(2) as ['node' | 'bare', string]
const bootstrap = bootstrapFlag.split(',').map((s) => {
  const [host, port] = s.split(':')
  return { host: host!, port: Number(port) }
})
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

let node: ConclaveNode | null = null
let profiler: Session | null = null
let home = ''

const config = () => loadConfig({ home, env: {}, flags: { bootstrap: bootstrapFlag } })

async function startNode(): Promise<void> {
  node = new ConclaveNode({ config: config(), log: benchLog })
  await node.ready()
}

/** Bytes received over the node's swarm connections so far. */
function wireRx(swarm: Hyperswarm | null | undefined): number {
  let rx = 0
  for (const conn of swarm?.connections ?? []) {
    rx += (conn.rawStream as unknown as { bytesReceived?: number } | null)?.bytesReceived ?? 0
  }
  return rx
}

/** Blocks and bytes of every core the node's store holds. */
function storeCores(): { cores: number; blocks: number; bytes: number } {
  const tracker = (node!.store as unknown as { cores: Iterable<InternalCore> }).cores
  let cores = 0
  let blocks = 0
  let bytes = 0
  for (const core of tracker) {
    if (!core.state) continue
    cores++
    blocks += core.state.length
    bytes += core.state.byteLength
  }
  return { cores, blocks, bytes }
}

interface InternalCore {
  state: { length: number; byteLength: number } | null
}

// --- bare ---
let store: Corestore | null = null
let swarm: Hyperswarm | null = null

async function bareSwarm(dir: string): Promise<void> {
  store = new Corestore(dir)
  await store.ready()
  swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false }) })
  swarm.on('connection', (conn) => store!.replicate(conn))
}

/** Posts messages `from`..`to` - 1 (`m<i> xxx…`, `size` characters) with one postBatch. */
async function postBatch(id: string, from: number, to: number, size: number): Promise<void> {
  const pad = 'x'.repeat(size)
  const items = []
  for (let j = from; j < to; j++) {
    const head = `m${j} `
    items.push({ kind: 'post' as const, body: { text: head + pad.slice(head.length) } })
  }
  const r = await node!.conversations.get(id).postBatch(items)
  const skipped = r.find((x) => x.skipped)
  if (skipped) throw new Error(`skipped: ${skipped.skipped}`)
}

const ops: Record<string, (a: Record<string, unknown>) => Promise<unknown>> = {
  // --- node ---
  async create(a) {
    home = String(a.home)
    const { identity, secrets } = identityFromSeed(mnemonicToSeed(String(a.mnemonic)), { device: 0 })
    writeIdentity(home, identity, secrets)
    await startNode()
    return { accountId: identity.accountId }
  },
  async join(a) {
    home = String(a.home)
    await joinCluster(home, String(a.invite), { bootstrap, timeoutMs: 60_000 })
    await startNode()
    return null
  },
  /** What `conclave recover` then `conclave run` do, timed: recoverDevice, then the node. */
  async recover(a) {
    home = String(a.home)
    // P5PROF=FILE: a CPU profile of the recovering device, from the recover call until synced
    if (process.env.P5PROF) {
      profiler = new Session()
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.start')
    }
    const started = now()
    const { identity, secrets } = identityFromSeed(mnemonicToSeed(String(a.mnemonic)), {
      device: 0,
      recovered: true
    })
    writeIdentity(home, identity, secrets)
    // when each phase began, and when the download reached all its cores
    const phases: Record<string, number> = {}
    const steps: Record<string, number> = {}
    const r = await recoverDevice({
      config: config(),
      log: benchLog,
      onProgress: (p) => {
        phases[p.phase] ??= now()
        steps[p.step] ??= now()
        if (p.phase === 'downloading' && p.cores.total > 0 && p.cores.done === p.cores.total)
          phases.downloaded ??= now()
      }
    })
    const recovered = now()
    await startNode()
    return { started, recovered, ready: now(), result: r, phases, steps }
  },
  async invite() {
    return node!.createInvite({ indexer: true })
  },
  async status() {
    const s = await node!.status()
    return { writable: s.writable, devices: s.devices.length, peers: s.peers.length, view: s.clusterView }
  },
  async addFriend(a) {
    await node!.addFriend(String(a.card))
    return null
  },
  async startConvo(a) {
    return node!.startConversation({
      pattern: 'discussion',
      topic: 'Recovery bench',
      method: 'lazy-consensus',
      deadline: Date.now() + 24 * 3600_000,
      with: [String(a.with)]
    })
  },
  /** Posts `n` messages of `size` characters in batches of `batch` (one append each). */
  async post(a) {
    const started = now()
    const n = Number(a.n)
    for (let i = 0; i < n; i += Number(a.batch)) {
      await postBatch(String(a.id), i, Math.min(n, i + Number(a.batch)), Number(a.size))
    }
    return { started, ended: now() }
  },
  /**
   * Posts batches as `post` does until the listed messages, as JSON (what an archive's
   * transcript holds of them), reach `bytes`; returns how many there are then.
   */
  async fill(a) {
    const id = String(a.id)
    const batch = Number(a.batch)
    let n = (await node!.conversations.show(id, { limit: 0 })).total
    let bytes = 0
    while (bytes < Number(a.bytes)) {
      await postBatch(id, n, n + batch, Number(a.size))
      const page = await node!.conversations.show(id, { offset: n, limit: batch })
      for (const m of page.messages) bytes += Buffer.byteLength(JSON.stringify(m))
      n += batch
    }
    return { n, bytes }
  },
  /** This device's writer core of the conversation: blocks and bytes. */
  async writerCore(a) {
    const local = node!.conversations.get(String(a.id)).base.autobase.local
    return { key: hex(local.key!), length: local.length, byteLength: local.byteLength }
  },
  /**
   * Resolves when the conversation lists at least `n` messages in a view at
   * least `minLength` long whose blocks are all stored here (a view read
   * can fetch missing blocks lazily from a peer; a recovered device must
   * hold its copy): `at` is when a snapshot of the view first did, and `viewHash` that
   * snapshot's hash, computed after `at` (it reads the whole view), and
   * `viewLength` its length. The parent compares the hash with B's view at
   * that length: equal means A's view was B's at `at`.
   */
  async until(a) {
    const id = String(a.id)
    const n = Number(a.n)
    const minLength = Number(a.minLength ?? 0)
    /** When each condition first held (ms on this process's clock): where the wait went. */
    const first: Record<string, number> = {}
    let watched = false
    const trace: unknown[] = []
    const mark = (name: string, holds: boolean): boolean => {
      if (holds && first[name] === undefined) first[name] = now()
      return holds
    }
    for (;;) {
      let snap: ReturnType<Conversation['base']['view']['snapshot']> | null = null
      try {
        const conv = node!.conversations.get(id)
        mark('conversation', true)
        if (!watched) {
          watched = true
          conv.base.autobase.on('fast-forward', () => mark('fastForward', true))
        }
        snap = conv.base.view.snapshot()
        const at = now()
        // P5TRACE=1: every poll's view and held writer cores, for finding where the wait goes
        if (process.env.P5TRACE) {
          const vc = conv.base.view.core
          trace.push([
            Math.round(now()),
            snap.version,
            vc.length,
            vc.contiguousLength,
            vc.signedLength,
            ...conv.base.heldWriters().map((w) => `${w.contiguousLength}/${w.length}`)
          ])
        }
        const state = (await snap.get(STATE_KEY))?.value as StateRecord | undefined
        mark('firstMessage', (state?.seq ?? 0) > 0)
        mark('halfListed', (state?.seq ?? 0) >= n / 2)
        // listed, at least as long as B's view was, and all of it held here (not fetched lazily:
        // the view's final blocks are stored, the rest this device's apply wrote)
        const core = conv.base.view.core
        if (
          mark('listed', state !== undefined && state.seq >= n && snap.version >= minLength) &&
          mark('viewHeld', core.contiguousLength >= Math.min(snap.version, core.signedLength)) &&
          mark('messagesHeld', await messagesHeld(conv, snap))
        ) {
          const viewLength = snap.version
          if (profiler && process.env.P5PROF) {
            const { profile } = await profiler.post('Profiler.stop')
            writeFileSync(process.env.P5PROF, JSON.stringify(profile))
            profiler.disconnect()
            profiler = null
          }
          return {
            at,
            first,
            trace,
            total: state!.seq,
            viewLength,
            viewHash: hex(await viewHash(snap)),
            writable: conv.writable
          }
        }
      } catch {
        // not re-learned yet
      } finally {
        await snap?.close()
      }
      await sleep(a.pollMs === undefined ? 20 : Number(a.pollMs))
    }
  },
  /** The hash of this device's conversation view as it stands at `length` (null if it is shorter). */
  async hashAt(a) {
    const view = node!.conversations.get(String(a.id)).base.view
    const length = Number(a.length)
    if (view.core.length < length) return { viewHash: null }
    const snap = view.checkout(length)
    try {
      return { viewHash: hex(await viewHash(snap)) }
    } finally {
      await snap.close()
    }
  },
  async show(a) {
    const s = await node!.conversations.show(String(a.id), { limit: 0 })
    return { total: s.total, viewHash: s.viewHash, log: s.log, at: now() }
  },
  async measure() {
    return { ...storeCores(), wireRx: wireRx(node?.swarm) }
  },

  /**
   * Archives the conversation now (open or not), sealed to this device and the other
   * access device with the lowest index, as the node does once it closes; timed.
   */
  async archive(a) {
    const self = node!.identity.identity.deviceId
    const access = (await node!.cluster.devices()).filter((d) => !d.revoked && d.roles.includes('access'))
    const me = access.find((d) => d.deviceId === self)!
    const other = access.filter((d) => d.deviceId !== self).sort((x, y) => x.device - y.device)[0]!
    const id = String(a.id)
    const started = now()
    const r = await node!.archives.archive(id, node!.conversations.get(id), [me, other])
    return { started, ended: now(), id: r.id, size: r.size, blocks: r.blocks }
  },
  async archives() {
    return node!.archives.list()
  },
  /**
   * Opens archive `id` `runs` times after one first open, each from scratch (the opened
   * archive forgotten first), timed until its first page of 50 messages is read:
   * node.openArchive (the archive core, two peels asked of the other holder, decryption,
   * the header's signature and the messages' digest) and node.archiveMessages (those 50
   * messages' signatures). Then as often the full open of `archive open` (`all`: every
   * message's signature), and the transcript's checks alone (decodeTranscript on the same
   * bytes encoded again by this device, which archived it, then every message checked);
   * returns those bytes (base64) too.
   */
  async openArchive(a) {
    const id = String(a.id)
    const runs = Number(a.runs)
    const timed = async (all: boolean) => {
      node!.archives.forget(id)
      const t0 = performance.now()
      const opened = await node!.openArchive(id, { waitMs: 30_000, all })
      if (!all) await node!.archiveMessages(id, { limit: 50 })
      return { ms: performance.now() - t0, opened }
    }
    const first = await timed(false)
    const ms: number[] = []
    for (let i = 0; i < runs; i++) ms.push((await timed(false)).ms)
    const fullMs: number[] = []
    let full = first.opened
    for (let i = 0; i < runs; i++) {
      const r = await timed(true)
      fullMs.push(r.ms)
      full = r.opened
    }
    const { sig: _s, count: _c, messagesDigest: _d, ...unsigned } = full.transcript
    const messages = full.transcript.messages ?? []
    const bytes = encodeTranscript(
      { ...unsigned, messages },
      unhex(node!.identity.secrets.device.signingSecretKey)
    )
    const devices = await node!.cluster.devices()
    const verifyMs: number[] = []
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      const t = decodeTranscript(bytes, {
        conversationId: full.transcript.conversation.id,
        isOwnDevice: (deviceId, key) => devices.some((d) => d.deviceId === deviceId && d.signingKey === key),
        verifyMessage: (cid, m) => verifyMessageRecord(cid, m as MessageRecord)
      })
      t.slice(0, t.count)
      verifyMs.push(performance.now() - t0)
    }
    const { conversation } = full.transcript
    const messageChecksMs: number[] = []
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      for (const m of messages) verifyMessageRecord(conversation.id, m as MessageRecord)
      messageChecksMs.push(performance.now() - t0)
    }
    return {
      firstMs: first.ms,
      ms,
      fullMs,
      verifyMs,
      messageChecksMs,
      messages: messages.length,
      transcript: bytes.toString('base64')
    }
  },

  // --- bare ---
  /** A fresh corestore with one core of `blocks` blocks of `size` bytes, announced on its discovery key. */
  async seed(a) {
    await bareSwarm(String(a.dir))
    const core = store!.get({ name: 'bench' })
    await core.ready()
    const blocks = Number(a.blocks)
    const size = Number(a.size)
    const block = Buffer.alloc(size, 7)
    for (let i = 0; i < blocks; i += 1000) {
      const n = Math.min(1000, blocks - i)
      await core.append(Array.from({ length: n }, () => block))
    }
    await swarm!.join(core.discoveryKey, { server: true, client: false }).flushed()
    return { key: hex(core.key!), length: core.length, byteLength: core.byteLength }
  },
  /** A fresh corestore downloads the core in full; timed from the call. */
  async fetch(a) {
    const started = now()
    await bareSwarm(String(a.dir))
    const core = store!.get({ key: unhex(String(a.key)) })
    await core.ready()
    const found = core.findingPeers()
    swarm!.join(core.discoveryKey, { server: false, client: true })
    void swarm!.flush().then(found, found)
    while (core.length < Number(a.length)) {
      if (!(await core.update({ wait: true }))) await sleep(10)
    }
    await core.download({ start: 0, end: core.length }).done()
    return { started, ended: now(), length: core.length, byteLength: core.byteLength, wireRx: wireRx(swarm) }
  },

  async close() {
    if (node) await node.close().catch(() => {})
    if (swarm) await swarm.destroy().catch(() => {})
    if (store) await store.close().catch(() => {})
    setImmediate(() => process.exit(0))
    return null
  }
}

process.on('message', (m: { id: number; op: string; args?: Record<string, unknown> }) => {
  const fn = ops[m.op]
  if (!fn) {
    process.send!({ id: m.id, error: `unknown op ${m.op} (${mode})` })
    return
  }
  fn(m.args ?? {}).then(
    (result) => process.send!({ id: m.id, result }),
    (err: Error) => process.send!({ id: m.id, error: err.stack ?? err.message })
  )
})
process.send!({ ready: true })

/**
 * What each writer core must hold for the listed messages, per view length: the poll runs every
 * 20 ms while the device downloads, and reading every chunk each time would take the device's
 * main thread from the download it is measuring.
 */
let neededAt: { version: number; needed: Map<string, number> } | null = null

/**
 * Whether every message `snap` lists is stored here: the view names each by
 * (writer, length) and the message itself is in that writer core, which the
 * node keeps in full (SubstrateBase.heldWriters).
 */
async function messagesHeld(
  conv: Conversation,
  snap: ReturnType<Conversation['base']['view']['snapshot']>
): Promise<boolean> {
  if (neededAt?.version !== snap.version) {
    const needed = new Map<string, number>()
    for await (const { value } of snap.createReadStream(prefixRange(MSG_PREFIX))) {
      for (const r of (value as MessageChunk).items) {
        needed.set(r.writer, Math.max(needed.get(r.writer) ?? 0, r.length))
      }
    }
    neededAt = { version: snap.version, needed }
  }
  const { needed } = neededAt
  const local = conv.base.autobase.local
  const held = new Map(conv.base.heldWriters().map((w) => [hex(w.key), w.contiguousLength]))
  if (local.key) held.set(hex(local.key), local.contiguousLength)
  for (const [writer, length] of needed) if ((held.get(writer) ?? 0) < length) return false
  return true
}
