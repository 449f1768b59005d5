/**
 * Attack suite (issue 10, part 5): every attack below is attempted against
 * real parts (RocksDB stores, a Cluster, Hyperswarm on a loopback testnet,
 * the direct transport, the HTTP server) and must be refused; each case
 * counts its attempts and refusals. It reuses the helpers of the hostile
 * tests (test/cluster/helpers.ts, test/archive/helpers.ts, test/http/matrix.ts).
 *
 *   node dist/test/proof/attacks.js --seed=1
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { archiveIdFor, encodeArchive, sealArchive } from '../../archive/index.js'
import { certifyEntry } from '../../cluster/entries.js'
import { createInvite, decodeInvite, encodeInvite, isExpired } from '../../cluster/invite.js'
import { ensureToken } from '../../src/http/listen.js'
import { buildServer } from '../../src/http/server.js'
import { hex } from '../../src/kernel/encoding.js'
import { swarmFirewall } from '../../src/kernel/substrate/index.js'
import { DirectTransport } from '../../src/node/direct.js'
import { A as HOLDER_A, B as HOLDER_B, INDEX_KEY, openWith, Prng } from '../archive/helpers.js'
import { appendRaw, codeOf, createAccount, forgedCertificate, openDevice } from '../cluster/helpers.js'
import { inProcessNode } from '../helpers/in-process-node.js'
import { createTestnet } from '../helpers/testnet.js'
import { hostOriginTokenMatrix } from '../http/matrix.js'
import { type Figures, figures, flag } from './figures.js'
import { withScope } from './scope.js'

export interface AttackCase {
  name: string
  attempts: number
  refused: number
  codes: Record<string, number>
  notes?: string
}

class Cases {
  readonly list: AttackCase[] = []
  case(name: string): AttackCase {
    const c: AttackCase = { name, attempts: 0, refused: 0, codes: {} }
    this.list.push(c)
    return c
  }
}

/** Counts one attempt: refused when `code` is one of `expected`. */
function count(c: AttackCase, code: string | null, expected: readonly string[]): void {
  c.attempts++
  if (code !== null && expected.includes(code)) c.refused++
  const key = code ?? 'ACCEPTED'
  c.codes[key] = (c.codes[key] ?? 0) + 1
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function certificates(t: Test, cases: Cases): Promise<void> {
  const acct = createAccount()
  const other = createAccount()
  const a = await openDevice(t, acct, { index: 0, name: 'a' })
  await a.cluster.certify(acct.certificate(0, 0, { indexer: true }))
  const good = acct.certificate(3, 0, { indexer: false })
  const forged = forgedCertificate(other, acct, 3)
  const attacks = {
    'signed by another root': forged,
    'half-valid signature (Ed25519 ours, ML-DSA theirs)': {
      cert: good.cert,
      sig: good.sig.slice(0, 128) + forged.sig.slice(128)
    },
    'half-valid signature (ML-DSA ours, Ed25519 theirs)': {
      cert: good.cert,
      sig: forged.sig.slice(0, 128) + good.sig.slice(128)
    },
    'body changed after signing': { cert: { ...good.cert, indexer: true }, sig: good.sig },
    "another account's certificate": other.certificate(5, 0, { indexer: false })
  }
  const local = cases.case('forged certificate: certify refuses it')
  const logged = cases.case('forged certificate: apply skips it when appended raw')
  const names = new Map<string, string>()
  for (const signed of Object.values(attacks)) {
    count(local, await codeOf(a.cluster.certify(signed as never)), ['CLUSTER_CERT_INVALID'])
    names.set(await appendRaw(a, certifyEntry(signed as never)), 'CLUSTER_CERT_INVALID')
  }
  await a.cluster.base.update()
  const skipped = new Map((await a.cluster.skipped()).map((r) => [`${r.writer}:${r.length}`, r.code]))
  for (const name of names.keys()) count(logged, skipped.get(name) ?? null, ['CLUSTER_CERT_INVALID'])
  const devices = await a.cluster.devices()
  if (devices.length !== 1) logged.notes = `device list changed: ${devices.length} devices`

  // a revoked device: out of the membership (so every firewall drops it), and not re-admitted
  const revoked = cases.case('revoked device')
  await a.cluster.certify(acct.certificate(1, 0, { indexer: false }))
  await a.cluster.revoke(acct.revocation(1))
  const firewall = swarmFirewall((key) => a.cluster.isMemberSigningKey(key))
  count(revoked, firewall(acct.device(1).signing.publicKey, null) ? 'FIREWALL_REJECTED' : null, [
    'FIREWALL_REJECTED'
  ])
  count(revoked, await codeOf(a.cluster.certify(acct.certificate(1, 1, { indexer: false }))), [
    'CLUSTER_DEVICE_REVOKED',
    'CLUSTER_CERT_CONFLICT'
  ])
  count(revoked, await codeOf(a.cluster.revoke(acct.revocation(1))), [
    'CLUSTER_DEVICE_REVOKED',
    'CLUSTER_CERT_CONFLICT'
  ])
}

function invites(cases: Cases, seed: number): void {
  const c = cases.case('forged or expired invite')
  const r = new Prng(seed)
  const real = encodeInvite(createInvite(3_600_000, 1_700_000_000_000))
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  for (let i = 0; i < 200; i++) {
    // one character changed (a guessed or mistyped secret), or cut short, or padded
    const at = 6 + r.int(real.length - 6)
    const variants = [
      real.slice(0, at) + alphabet[(alphabet.indexOf(real[at]!) + 1 + r.int(31)) % 32] + real.slice(at + 1),
      real.slice(0, at),
      real + alphabet[r.int(32)]
    ]
    count(
      c,
      codeOfSync(() => decodeInvite(variants[i % 3]!)),
      ['CLUSTER_INVITE_INVALID']
    )
  }
  const expired = decodeInvite(encodeInvite(createInvite(60_000, 1_700_000_000_000)))
  count(c, isExpired(expired, 1_700_000_060_000) ? 'EXPIRED' : null, ['EXPIRED'])
}

function codeOfSync(fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

function archives(cases: Cases, seed: number, n: number): void {
  const c = cases.case('tampered archive')
  const r = new Prng(seed)
  const holders = [HOLDER_A.publicKey, HOLDER_B.publicKey] as const
  const encoded = encodeArchive(
    sealArchive({
      archiveId: archiveIdFor(INDEX_KEY, 'attack'),
      transcript: r.bytes(2000),
      holders,
      chunkBytes: 256
    })
  )
  for (let i = 0; i < n; i++) {
    const bad = Buffer.from(encoded)
    const at = r.int(bad.length)
    if (i % 2 === 0) bad[at]! ^= 1 << r.int(8)
    const input = i % 2 === 0 ? bad : bad.subarray(0, at)
    count(
      c,
      codeOfSync(() => openWith(input, HOLDER_A, HOLDER_B)),
      // a flipped bit in a holder key hash: the key is no longer that layer's holder
      ['ARCHIVE_INTEGRITY', 'ARCHIVE_FORMAT', 'ARCHIVE_NOT_RECIPIENT']
    )
  }
}

async function firewalls(t: Test, cases: Cases): Promise<void> {
  // Hyperswarm: a server admitting one key; an unknown key joins the same topic
  const c = cases.case('unknown key at the Hyperswarm firewall')
  const net = await createTestnet(t)
  const known = crypto.keyPair()
  const asked: string[] = []
  const server = net.createSwarm({
    firewall: swarmFirewall((key) => {
      asked.push(hex(key))
      return key.equals(known.publicKey)
    })
  })
  const accepted: string[] = []
  server.on('connection', (conn) => {
    if (conn.remotePublicKey) accepted.push(hex(conn.remotePublicKey))
    conn.on('error', () => {})
  })
  const topic = crypto.randomBytes(32)
  await server.join(topic, { server: true, client: false }).flushed()
  const strangers = [crypto.keyPair(), crypto.keyPair()]
  for (const kp of strangers) {
    const s = net.createSwarm({ keyPair: kp })
    s.on('connection', (conn) => conn.on('error', () => {}))
    s.join(topic, { server: false, client: true })
    await s.flush()
  }
  const friend = net.createSwarm({ keyPair: known })
  friend.on('connection', (conn) => conn.on('error', () => {}))
  friend.join(topic, { server: false, client: true })
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline && !accepted.includes(hex(known.publicKey))) await sleep(100)
  for (const kp of strangers) {
    const k = hex(kp.publicKey)
    count(c, asked.includes(k) && !accepted.includes(k) ? 'FIREWALL_REJECTED' : null, ['FIREWALL_REJECTED'])
  }
  c.notes = accepted.includes(hex(known.publicKey))
    ? 'the admitted key connected'
    : 'the admitted key did not connect in 20 s (the refusals are then not shown)'
  if (!accepted.includes(hex(known.publicKey))) c.refused = 0

  // the direct transport: the listener's firewall refuses an unknown dialer
  const d = cases.case('unknown key at the direct transport')
  const listenerKeys = crypto.keyPair()
  const listener = new DirectTransport({
    keyPair: listenerKeys,
    isAllowed: () => false,
    onConnection: () => count(d, null, [])
  })
  t.teardown(() => listener.close())
  const addr = await listener.listen()
  for (let i = 0; i < 3; i++) {
    const dialer = new DirectTransport({
      keyPair: crypto.keyPair(),
      isAllowed: () => true,
      onConnection: () => {}
    })
    t.teardown(() => dialer.close())
    count(d, await codeOf(dialer.dial({ ...addr, publicKey: listenerKeys.publicKey })), ['NODE_PEER_REFUSED'])
  }
}

/**
 * An equivocating writer: the same key pair in two stores appends different
 * blocks at the same indexes. Readers that first got one version detect the
 * other as a conflict, close the core instead of taking it, and keep what
 * they had on disk. Both readers behave the same way, from either side.
 */
async function equivocation(cases: Cases): Promise<void> {
  const c = cases.case('equivocating writer (a forked core)')
  // per reader: its own store, and the writer's two copies (a conflict closes the copy that saw it)
  const dirs = await Promise.all([0, 1, 2, 3, 4, 5].map(() => mkdtemp(join(tmpdir(), 'conclave-fork-'))))
  const stores = dirs.map((d) => new Corestore(d))
  try {
    const keyPair = crypto.keyPair()
    const copies: Hypercore[] = []
    for (let i = 0; i < 4; i++) {
      const core = stores[i]!.get({ keyPair })
      await core.ready()
      // stores 0 and 2 hold the honest core, 1 and 3 the fork (longer, so that it is noticed)
      if (i % 2 === 0) await core.append([Buffer.from('honest 0'), Buffer.from('honest 1')])
      else await core.append([Buffer.from('fork 0'), Buffer.from('fork 1'), Buffer.from('fork 2')])
      copies.push(core)
    }
    const key = copies[0]!.key
    const links: Array<() => void> = []
    const link = (a: Corestore, b: Corestore): void => {
      const x = a.replicate(true)
      const y = b.replicate(false)
      x.on('error', () => {})
      y.on('error', () => {})
      x.pipe(y).pipe(x)
      links.push(() => {
        x.destroy()
        y.destroy()
      })
    }
    // reader B first meets the honest copy, reader C the fork; then each meets the other
    const readers = [
      { store: stores[4]!, first: stores[0]!, then: stores[1]!, expect: 'honest 0' },
      { store: stores[5]!, first: stores[3]!, then: stores[2]!, expect: 'fork 0' }
    ]
    for (const r of readers) {
      const core: Hypercore = r.store.get({ key })
      let conflicts = 0
      core.on('conflict', () => conflicts++)
      await core.ready()
      link(r.first, r.store)
      const got = (await core.get(0, { timeout: 15_000 })) as Buffer
      link(r.then, r.store)
      const deadline = Date.now() + 15_000
      while (Date.now() < deadline && conflicts === 0 && !core.closed) await sleep(50)
      for (const cut of links.splice(0)) cut()
      await core.close().catch(() => {})
      // what is on disk after the conflict: reopen the reader's copy
      const again: Hypercore = r.store.get({ key })
      await again.ready()
      const kept = again.length > 0 ? ((await again.get(0, { wait: false })) as Buffer | null) : null
      await again.close()
      const ok = got.toString() === r.expect && conflicts > 0 && kept?.toString() === r.expect
      count(c, ok ? 'HYPERCORE_CONFLICT' : null, ['HYPERCORE_CONFLICT'])
    }
    await Promise.all(copies.map((core) => core.close().catch(() => {})))
  } finally {
    await Promise.all(stores.map((s) => s.close()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
}

async function http(t: Test, cases: Cases): Promise<void> {
  const c = cases.case('forged HTTP Host/Origin/token')
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token })
  t.teardown(() => app.close())
  const r = await hostOriginTokenMatrix(app, token)
  c.attempts = r.checked - r.passed
  c.refused = r.refused
  c.codes = { refused: r.refused, allowedAsExpected: r.passed, mismatches: r.mismatches.length }
  if (r.mismatches.length > 0) c.notes = r.mismatches.slice(0, 3).join('; ')
}

export async function runAttacks(opts: {
  seed: number
  archives?: number
}): Promise<Figures & { cases: AttackCase[] }> {
  const started = Date.now()
  const f = figures('attacks', opts.seed)
  const cases = new Cases()
  const failures: string[] = []
  await withScope(async (t, scope) => {
    const step = async (name: string, fn: () => unknown): Promise<void> => {
      try {
        await fn()
      } catch (err) {
        f.crashes++
        failures.push(`${name}: ${(err as Error).stack ?? String(err)}`)
      }
    }
    await step('certificates', () => certificates(t, cases))
    await step('invites', () => invites(cases, opts.seed))
    await step('archives', () => archives(cases, opts.seed, opts.archives ?? 200))
    await step('equivocation', () => equivocation(cases))
    await step('firewalls', () => firewalls(t, cases))
    await step('http', () => http(t, cases))
    failures.push(...scope.failures)
  })
  f.runs = cases.list.reduce((n, c) => n + c.attempts, 0)
  f.refused = cases.list.reduce((n, c) => n + c.refused, 0)
  f.notRefused = f.runs - f.refused
  f.failures = failures.slice(0, 5)
  f.ms = Date.now() - started
  return { ...f, cases: cases.list }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  console.log(
    JSON.stringify(await runAttacks({ seed: flag(argv, 'seed', 1), archives: flag(argv, 'archives', 200) }))
  )
}
