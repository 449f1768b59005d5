// Partitions of real Conclave nodes in Linux network namespaces (docs/partitions.md).
//
// Each node is a real `conclave run` process in its own network namespace, linked by a
// veth pair to a bridge in the root namespace; the HyperDHT testnet runs in this process
// on the bridge's address. A partition is a set of blackhole routes inside the nodes'
// namespaces (node X drops every packet it would send to node Y); a heal removes them.
// While partitioned every node keeps posting to one conversation; after each heal the
// runner measures how long until every node shows the same view (same view hash) holding
// every acknowledged post, and at the end how many acknowledged posts are missing anywhere.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import createHyperTestnet from 'hyperdht/testnet.js'
import { processAlive } from '../../src/node/lock.js'
import type { StatusReport } from '../../src/node/node-api.js'
import { eventually } from '../../src/kernel/wait.js'
import { prng } from '../helpers/prng.js'

const CONCLAVE_BIN = fileURLToPath(new URL('../../bin/conclave.js', import.meta.url))
const RELAY = fileURLToPath(new URL('./ns-relay.js', import.meta.url))
/** Every namespace, bridge and veth of a run is named PREFIX<pid>…, so stale ones can be found. */
const PREFIX = 'cpt'
const STALE = new RegExp(`^${PREFIX}(\\d+)[a-z]`)

export interface PartitionOptions {
  /** Nodes, 3 or more (devices of one account). */
  nodes: number
  /** Partition/heal cycles. */
  cycles: number
  /** Seeds the shapes, the sides and the durations. */
  seed: number
  /** Each partition lasts a duration drawn from [min, max] ms. */
  minPartitionMs?: number
  maxPartitionMs?: number
  /** How long a post waits for its second copy (per request). */
  copiesTimeoutMs?: number
  /** How long to wait for identical views after a heal before giving up on that cycle. */
  convergeTimeoutMs?: number
  /** Progress lines (default: stderr). */
  log?: (line: string) => void
  /** Registers the cleanup with the caller too (a test's teardown): it runs once either way. */
  onCleanup?: (fn: () => Promise<void>) => void
}

export type Shape = 'isolate' | 'split' | 'oneway' | 'apart'

export interface CycleFigures {
  cycle: number
  shape: Shape
  /** Which node drops packets to which: 'a>b' entries. */
  cut: string[]
  partitionMs: number
  writes: number
  acknowledged: number
  notDurable: number
  failed: number
  /** From the heal until every node has every other device online again; null: not within convergeTimeoutMs. */
  healToConnectedMs: number | null
  /** From the heal until every node shows the same view holding every acknowledged post; null: not within convergeTimeoutMs. */
  healToIdenticalMs: number | null
  /** From the heal until that view is also final (indexed) on every node; null: not within convergeTimeoutMs. */
  healToFinalMs: number | null
}

export interface PartitionFigures {
  suite: 'partitions'
  nodes: number
  cycles: number
  seed: number
  /** Posts sent while partitioned. */
  writes: number
  /** Answered 200, durable (held by two nodes). */
  acknowledged: number
  /** Answered NODE_NOT_DURABLE: stored on the writing node, not yet held by a second one. */
  notDurable: number
  /** Any other answer (none expected). */
  failed: number
  /** Acknowledged posts missing on at least one node at the end. */
  lost: number
  /** Stored-but-not-durable posts missing on at least one node at the end. */
  notDurableMissing: number
  maxHealToIdenticalMs: number | null
  meanHealToIdenticalMs: number | null
  maxHealToFinalMs: number | null
  maxHealToConnectedMs: number | null
  /** Cycles whose views were not identical within convergeTimeoutMs. */
  notConverged: number
  finalViewLength: number
  setupMs: number
  totalMs: number
  cycleFigures: CycleFigures[]
}

/** Why network namespaces cannot be used here, or null when they can. */
export function namespaceSupport(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'creating network namespaces needs root (ip netns add)'
  try {
    execFileSync('ip', ['-V'], { stdio: 'pipe' })
  } catch {
    return 'the ip command is missing (Debian package iproute2)'
  }
  const ns = `${PREFIX}${process.pid}probe`
  const br = `${PREFIX}${process.pid}pb`
  try {
    ip(['netns', 'add', ns])
    ip(['link', 'add', br, 'type', 'bridge'])
    ip(['link', 'add', `${br}v`, 'type', 'veth', 'peer', 'name', `${br}p`])
    ip(['link', 'set', `${br}p`, 'netns', ns])
    return null
  } catch (err) {
    return `cannot create a network namespace, bridge or veth pair: ${(err as Error).message}`
  } finally {
    quietly(['link', 'del', `${br}v`])
    quietly(['link', 'del', br])
    quietly(['netns', 'del', ns])
  }
}

function ip(args: string[], input?: string): string {
  try {
    return execFileSync('ip', args, { stdio: ['pipe', 'pipe', 'pipe'], input: input ?? '' }).toString()
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string }
    throw new Error(`ip ${args.join(' ')}: ${e.stderr?.toString().trim() || e.message}`)
  }
}

function quietly(args: string[]): void {
  try {
    ip(args)
  } catch {
    // already gone
  }
}

/** Removes the namespaces (and the nodes still running in them), links and homes of earlier runs whose process is gone. */
export function removeStale(): string[] {
  const removed: string[] = []
  const stale = (name: string) => {
    const m = STALE.exec(name)
    return m !== null && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))
  }
  for (const line of ip(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? ''
    if (stale(name)) {
      // nodes a killed run left running in there
      for (const pid of ip(['netns', 'pids', name]).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
      quietly(['netns', 'del', name])
      removed.push(name)
    }
  }
  for (const line of ip(['-o', 'link', 'show']).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? ''
    if (stale(name)) {
      quietly(['link', 'del', name])
      removed.push(name)
    }
  }
  for (const name of readdirSync(tmpdir())) {
    const m = /^conclave-partitions-(\d+)-/.exec(name)
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true })
      removed.push(name)
    }
  }
  return removed
}

/** A bridge in the root namespace and one namespace per node, each on a veth pair. */
class Lab {
  readonly prefix = `${PREFIX}${process.pid}`
  readonly subnet: string
  readonly bridge = `${this.prefix}br`
  readonly cuts = new Set<string>()
  #made: { ns: string[]; links: string[] } = { ns: [], links: [] }

  constructor() {
    const used = ip(['-4', '-o', 'addr', 'show'])
    let x = (process.pid % 200) + 20
    while (used.includes(`10.213.${x}.`)) x = x >= 250 ? 20 : x + 1
    this.subnet = `10.213.${x}`
  }

  get bridgeIp(): string {
    return `${this.subnet}.1`
  }
  ns(i: number): string {
    return `${this.prefix}n${i}`
  }
  ip(i: number): string {
    return `${this.subnet}.${10 + i}`
  }

  up(nodes: number): void {
    ip(['link', 'add', this.bridge, 'type', 'bridge'])
    this.#made.links.push(this.bridge)
    ip(['addr', 'add', `${this.bridgeIp}/24`, 'dev', this.bridge])
    ip(['link', 'set', this.bridge, 'up'])
    for (let i = 0; i < nodes; i++) {
      const ns = this.ns(i)
      const host = `${this.prefix}v${i}`
      const peer = `${this.prefix}p${i}`
      ip(['netns', 'add', ns])
      this.#made.ns.push(ns)
      ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer])
      this.#made.links.push(host)
      ip(['link', 'set', peer, 'netns', ns])
      ip(['link', 'set', host, 'master', this.bridge])
      ip(['link', 'set', host, 'up'])
      ip(['-n', ns, 'addr', 'add', `${this.ip(i)}/24`, 'dev', peer])
      ip(['-n', ns, 'link', 'set', peer, 'up'])
      ip(['-n', ns, 'link', 'set', 'lo', 'up'])
    }
  }

  /** Node `from` drops every packet it would send to node `to`. */
  cut(from: number, to: number): void {
    ip(['-n', this.ns(from), 'route', 'add', 'blackhole', `${this.ip(to)}/32`])
    this.cuts.add(`${from}>${to}`)
  }

  heal(): void {
    for (const c of this.cuts) {
      const [from, to] = c.split('>').map(Number) as [number, number]
      ip(['-n', this.ns(from), 'route', 'del', 'blackhole', `${this.ip(to)}/32`])
    }
    this.cuts.clear()
  }

  down(): void {
    for (const ns of this.#made.ns) quietly(['netns', 'del', ns])
    for (const link of this.#made.links) quietly(['link', 'del', link])
    this.#made = { ns: [], links: [] }
  }
}

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, CONCLAVE_HOME: '', CONCLAVE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

interface Answer<T> {
  status: number
  body: T
}

/** A running node in its namespace, and a relay to its loopback-only API. */
class Member {
  proc: ChildProcess | null = null
  relay: ChildProcess | null = null
  out = ''
  #pending = new Map<number, (a: { status?: number; body?: unknown; error?: string }) => void>()
  #next = 0

  constructor(
    readonly i: number,
    readonly ns: string,
    readonly addr: string,
    readonly home: string
  ) {}

  cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    return run(
      'ip',
      ['netns', 'exec', this.ns, process.execPath, CONCLAVE_BIN, '--home', this.home, ...args],
      timeoutMs
    )
  }

  /**
   * The node binds its DHT and its direct transport to the namespace's address, which
   * every other namespace reaches without NAT (`dhtReachable`, docs/network.md).
   */
  configure(): void {
    const file = join(this.home, 'config.json')
    const config = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as object) : {}
    writeFileSync(file, JSON.stringify({ ...config, dhtHost: this.addr, dhtReachable: true }, null, 2))
  }

  async start(bootstrap: string): Promise<void> {
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.ns,
        process.execPath,
        CONCLAVE_BIN,
        '--home',
        this.home,
        'run',
        '--port',
        '0',
        '--bootstrap',
        bootstrap
      ],
      {
        env: { ...process.env, CONCLAVE_HOME: '', CONCLAVE_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    this.proc = proc
    proc.stdout?.on('data', (d) => (this.out += d))
    proc.stderr?.on('data', (d) => (this.out += d))
    const deadline = Date.now() + 60_000
    while (!/^ready$/m.test(this.out)) {
      if (proc.exitCode !== null) throw new Error(`node ${this.i} exited (${proc.exitCode}):\n${this.out}`)
      if (Date.now() > deadline) throw new Error(`node ${this.i} not ready in time:\n${this.out}`)
      await sleep(50)
    }
    const relay = spawn('ip', ['netns', 'exec', this.ns, process.execPath, RELAY, this.home], {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    this.relay = relay
    createInterface({ input: relay.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as { id: number; status?: number; body?: unknown; error?: string }
      this.#pending.get(a.id)?.(a)
      this.#pending.delete(a.id)
    })
    relay.on('exit', () => {
      for (const done of this.#pending.values()) done({ error: 'the relay exited' })
      this.#pending.clear()
    })
  }

  /** Calls the node's API through the relay; throws on a transport error (no HTTP answer). */
  async api<T>(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<Answer<T>> {
    const relay = this.relay
    if (!relay?.stdin) throw new Error(`node ${this.i} has no relay`)
    const id = this.#next++
    const a = await new Promise<{ status?: number; body?: unknown; error?: string }>((resolve) => {
      this.#pending.set(id, resolve)
      relay.stdin!.write(JSON.stringify({ id, method, path, body, timeoutMs }) + '\n')
    })
    if (a.error !== undefined || a.status === undefined) throw new Error(`node ${this.i}: ${a.error}`)
    return { status: a.status, body: a.body as T }
  }

  async stop(): Promise<void> {
    this.relay?.kill('SIGKILL')
    const proc = this.proc
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

interface Shown {
  viewHash: string
  total: number
  messages: Array<{ body: { text?: string } }>
  log: { viewLength: number; viewSignedLength: number }
}

/** Picks which node drops packets to which for one partition of `shape`. */
function cutsFor(shape: Shape, n: number, rand: () => number): Array<[number, number]> {
  const order = [...Array(n).keys()].sort(() => rand() - 0.5)
  const across = (a: number[], b: number[]): Array<[number, number]> =>
    a.flatMap((x) =>
      b.flatMap((y): Array<[number, number]> => [
        [x, y],
        [y, x]
      ])
    )
  switch (shape) {
    case 'isolate':
      return across(order.slice(0, 1), order.slice(1))
    case 'split': {
      const k = Math.floor(n / 2)
      return across(order.slice(0, k), order.slice(k))
    }
    case 'oneway':
      return [[order[0] as number, order[1] as number]]
    case 'apart':
      return order.flatMap((x) => order.filter((y) => y !== x).map((y): [number, number] => [x, y]))
  }
}

export interface PlannedCycle {
  shape: Shape
  /** [from, to]: node `from` drops every packet it would send to node `to`. */
  cuts: Array<[number, number]>
  partitionMs: number
}

/**
 * The partitions a run goes through, from its seed alone: shapes dealt from a shuffled deck
 * (every shape once before any repeats), random sides, durations uniform in [minMs, maxMs].
 */
export function planCycles(o: {
  nodes: number
  cycles: number
  seed: number
  minMs: number
  maxMs: number
}): PlannedCycle[] {
  const rand = prng(o.seed)
  const shapes: Shape[] =
    o.nodes >= 4 ? ['isolate', 'split', 'oneway', 'apart'] : ['isolate', 'oneway', 'apart']
  const out: PlannedCycle[] = []
  let deck: Shape[] = []
  for (let c = 0; c < o.cycles; c++) {
    if (deck.length === 0) deck = [...shapes].sort(() => rand() - 0.5)
    const shape = deck.shift() as Shape
    const partitionMs = Math.round(o.minMs + rand() * (o.maxMs - o.minMs))
    out.push({ shape, cuts: cutsFor(shape, o.nodes, rand), partitionMs })
  }
  return out
}

/** Starts the nodes, runs the cycles, tears everything down; resolves with the figures. */
export async function runPartitions(opts: PartitionOptions): Promise<PartitionFigures> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`# partitions: ${line}\n`))
  const n = opts.nodes
  if (n < 3) throw new Error('partitions need at least 3 nodes')
  const minMs = opts.minPartitionMs ?? 5_000
  const maxMs = opts.maxPartitionMs ?? 25_000
  const copiesTimeoutMs = opts.copiesTimeoutMs ?? 4_000
  const convergeTimeoutMs = opts.convergeTimeoutMs ?? 60_000
  const jitter = prng(opts.seed + 1)
  const started = Date.now()

  const stale = removeStale()
  if (stale.length > 0) log(`removed stale ${stale.join(', ')}`)
  const lab = new Lab()
  const root = mkdtempSync(join(tmpdir(), `conclave-partitions-${process.pid}-`))
  const members = [...Array(n).keys()].map((i) => new Member(i, lab.ns(i), lab.ip(i), join(root, `n${i}`)))
  let testnet: Awaited<ReturnType<typeof createHyperTestnet>> | null = null
  let cleaned: Promise<void> | null = null
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await Promise.all(members.map((m) => m.stop()))
      await testnet?.destroy()
      lab.down()
      rmSync(root, { recursive: true, force: true })
    })())
  opts.onCleanup?.(cleanup)

  try {
    lab.up(n)
    testnet = await createHyperTestnet(3, { host: lab.bridgeIp })
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    log(`${n} namespaces on ${lab.subnet}.0/24, DHT bootstrap ${bootstrap}`)

    // one account, n devices: init the first, invite and join the others, each in its namespace
    const first = members[0] as Member
    const init = await first.cli(['init', '--json'])
    if (init.code !== 0) throw new Error(`init: ${init.stderr}`)
    first.configure()
    await first.start(bootstrap)
    for (const m of members.slice(1)) {
      const inv = await first.cli(['invite', '--json'])
      if (inv.code !== 0) throw new Error(`invite: ${inv.stderr}`)
      const { invite } = JSON.parse(inv.stdout) as { invite: string }
      const joined = await m.cli(['join', invite, '--bootstrap', bootstrap, '--json'], 120_000)
      if (joined.code !== 0) throw new Error(`join on node ${m.i}: ${joined.stderr}`)
      m.configure()
      await m.start(bootstrap)
    }
    await Promise.all(
      members.map((m) =>
        eventually(
          `${n} devices online on node ${m.i}`,
          async () => {
            const s = (await m.api<StatusReport>('GET', '/api/status')).body
            return s.devices.length === n && s.devices.every((d) => d.online)
          },
          180_000,
          250
        )
      )
    )
    log('all devices online')

    const started0 = await first.cli([
      'convo',
      'start',
      '--pattern',
      'discussion',
      '--method',
      'announcement',
      '--topic',
      'Partitions',
      '--json'
    ])
    if (started0.code !== 0) throw new Error(`convo start: ${started0.stderr}`)
    const id = (JSON.parse(started0.stdout) as { id: string }).id
    const convo = `/api/conversations/${id}`
    await Promise.all(
      members.map((m) =>
        eventually(
          `node ${m.i} opens the conversation`,
          async () => (await m.api('GET', `${convo}?limit=0`)).status === 200,
          120_000,
          250
        )
      )
    )

    const acked = new Set<string>()
    const notDurable = new Set<string>()
    const post = async (m: Member, text: string): Promise<'acknowledged' | 'notDurable' | 'failed'> => {
      try {
        const r = await m.api<{ durable?: boolean; code?: string }>(
          'POST',
          `${convo}/messages`,
          { kind: 'post', body: { text }, copiesTimeoutMs },
          copiesTimeoutMs + 30_000
        )
        if (r.status === 200 && r.body.durable === true) {
          acked.add(text)
          return 'acknowledged'
        }
        if (r.status === 504 && r.body.code === 'NODE_NOT_DURABLE') {
          notDurable.add(text)
          return 'notDurable'
        }
        log(`node ${m.i}: ${text} answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
        return 'failed'
      } catch (err) {
        log(`node ${m.i}: ${text}: ${(err as Error).message}`)
        return 'failed'
      }
    }

    const texts = async (m: Member): Promise<Set<string>> => {
      const out = new Set<string>()
      for (let offset = 0; ; offset += 500) {
        const r = await m.api<Shown>('GET', `${convo}?offset=${offset}&limit=500`)
        if (r.status !== 200) throw new Error(`node ${m.i}: show ${r.status}`)
        for (const msg of r.body.messages) out.add(msg.body.text ?? '')
        if (r.body.messages.length < 500) return out
      }
    }
    const shownAll = () =>
      Promise.all(members.map(async (m) => (await m.api<Shown>('GET', `${convo}?limit=0`)).body))
    const missingOn = async (wanted: Iterable<string>): Promise<Set<string>> => {
      const missing = new Set<string>()
      for (const m of members) {
        const have = await texts(m)
        for (const x of wanted) if (!have.has(x)) missing.add(x)
      }
      return missing
    }

    /**
     * Polls until every node shows one view hash and that view holds every acknowledged
     * post, then until it is final everywhere. Times are those of the poll that saw the
     * state (reading every message to check the posts takes a while on a long view).
     * One view hash means one view, so the posts are read from one node.
     */
    const converge = async (from: number): Promise<{ identical: number | null; final: number | null }> => {
      let identical: number | null = null
      const deadline = from + convergeTimeoutMs
      while (Date.now() < deadline) {
        const polledAt = Date.now()
        let views: Shown[]
        try {
          views = await shownAll()
        } catch {
          await sleep(100)
          continue
        }
        const same = views.every((v) => v.viewHash === views[0]?.viewHash)
        if (!same) identical = null
        else if (identical === null) {
          const have = await texts(members[0] as Member)
          if ([...acked].every((x) => have.has(x))) identical = polledAt - from
        }
        if (identical !== null && views.every((v) => v.log.viewSignedLength === v.log.viewLength))
          return { identical, final: polledAt - from }
        await sleep(100)
      }
      return { identical, final: null }
    }

    /** Polls until every node has every other device online again (a live connection, either transport). */
    const reconnect = async (from: number): Promise<number | null> => {
      const deadline = from + convergeTimeoutMs
      while (Date.now() < deadline) {
        const polledAt = Date.now()
        try {
          const all = await Promise.all(
            members.map(async (m) => (await m.api<StatusReport>('GET', '/api/status')).body)
          )
          if (all.every((st) => st.devices.length === n && st.devices.every((d) => d.online)))
            return polledAt - from
        } catch {
          // a node busy or restarting its API: poll again
        }
        await sleep(200)
      }
      return null
    }

    // every node writes once while connected
    for (const m of members)
      if ((await post(m, `base-${m.i}`)) !== 'acknowledged') throw new Error(`base post on ${m.i}`)
    await converge(Date.now())
    const setupMs = Date.now() - started
    log(`setup done in ${setupMs} ms`)

    const plan = planCycles({ nodes: n, cycles: opts.cycles, seed: opts.seed, minMs, maxMs })
    const cycleFigures: CycleFigures[] = []
    for (const [c, step] of plan.entries()) {
      const { shape, partitionMs } = step
      for (const [from, to] of step.cuts) lab.cut(from, to)
      const cut = [...lab.cuts]
      log(`cycle ${c}: ${shape} (${cut.join(' ')}) for ${partitionMs} ms`)

      const f = { writes: 0, acknowledged: 0, notDurable: 0, failed: 0 }
      let stop = false
      const writer = async (m: Member): Promise<void> => {
        for (let k = 0; !stop; k++) {
          f.writes++
          f[await post(m, `n${m.i}-c${c}-m${k}`)]++
          await sleep(100 + Math.floor(jitter() * 200))
        }
      }
      const writers = members.map(writer)
      await sleep(partitionMs)
      // no post in flight across the heal: each one is answered (or timed out) while still cut
      stop = true
      await Promise.all(writers)
      lab.heal()
      const healed = Date.now()
      const [{ identical, final }, connected] = await Promise.all([converge(healed), reconnect(healed)])
      const cf: CycleFigures = {
        cycle: c,
        shape,
        cut,
        partitionMs,
        ...f,
        healToConnectedMs: connected,
        healToIdenticalMs: identical,
        healToFinalMs: final
      }
      cycleFigures.push(cf)
      log(JSON.stringify(cf))
    }

    // the last word: every acknowledged post on every node
    await converge(Date.now())
    const lost = (await missingOn(acked)).size
    const notDurableMissing = (await missingOn(notDurable)).size
    const views = await shownAll()
    const idents = cycleFigures.map((x) => x.healToIdenticalMs)
    const known = idents.filter((x): x is number => x !== null)
    const finals = cycleFigures.map((x) => x.healToFinalMs)
    const sum = (k: 'writes' | 'acknowledged' | 'notDurable' | 'failed') =>
      cycleFigures.reduce((s, x) => s + x[k], 0)
    return {
      suite: 'partitions',
      nodes: n,
      cycles: opts.cycles,
      seed: opts.seed,
      writes: sum('writes'),
      acknowledged: sum('acknowledged'),
      notDurable: sum('notDurable'),
      failed: sum('failed'),
      lost,
      notDurableMissing,
      maxHealToIdenticalMs: known.length === idents.length && known.length > 0 ? Math.max(...known) : null,
      meanHealToIdenticalMs:
        known.length > 0 ? Math.round(known.reduce((s, x) => s + x, 0) / known.length) : null,
      maxHealToFinalMs:
        finals.every((x) => x !== null) && finals.length > 0 ? Math.max(...(finals as number[])) : null,
      maxHealToConnectedMs: cycleFigures.every((x) => x.healToConnectedMs !== null)
        ? Math.max(0, ...cycleFigures.map((x) => x.healToConnectedMs as number))
        : null,
      notConverged: idents.length - known.length,
      finalViewLength: views[0]?.log.viewLength ?? 0,
      setupMs,
      totalMs: Date.now() - started,
      cycleFigures
    }
  } finally {
    await cleanup()
  }
}

/**
 * The long run as the soak scripts start it (`npm run soak -- --suites=partitions`,
 * scripts/soak-partitions.js): says `skipped` with the reason where namespaces cannot be
 * made, and tears the namespaces down on SIGINT/SIGTERM too.
 */
export async function soakPartitions(
  opts: Omit<PartitionOptions, 'onCleanup'>
): Promise<PartitionFigures | { suite: 'partitions'; skipped: string }> {
  const why = namespaceSupport()
  if (why !== null) {
    process.stderr.write(`SKIPPED: partitions soak: ${why}\n`)
    return { suite: 'partitions', skipped: why }
  }
  let cleanup: (() => Promise<void>) | null = null
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`# partitions: ${signal}, tearing down\n`)
      void (cleanup ?? (() => Promise.resolve()))().finally(() => process.exit(130))
    })
  }
  return runPartitions({ ...opts, onCleanup: (fn) => (cleanup = fn) })
}
