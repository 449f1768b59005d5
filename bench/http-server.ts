// The server side of P6 (bench/http.ts), in its own process: a real ConclaveNode (RocksDB
// store in a temp folder, no network peers) behind its real local API (listenLocalApi, the
// same fastify server `conclave run` starts), with an archive of N messages opened in it,
// and a bare node:http server answering the same bytes without the node. Driven over IPC.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { decodeTranscript, encodeTranscript, type TranscriptMessage } from '../archive/transcript.js'
import { verifyMessageRecord } from '../conversations/entries.js'
import type { MessageRecord } from '../conversations/index.js'
import { loadConfig } from '../src/kernel/config.js'
import { randomBytes } from '../src/kernel/crypto/hash.js'
import { hex, unhex } from '../src/kernel/encoding.js'
import { identityFromSeed, writeIdentity } from '../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../src/kernel/identity/mnemonic.js'
import { silentLogger } from '../src/kernel/log.js'
import { listenLocalApi } from '../src/http/listen.js'
import { ConclaveNode } from '../src/node/node.js'
import { device, signedMessage } from '../test/helpers/transcript.js'
import { readToken } from '../src/node/runtime-file.js'

const [dir, countArg] = process.argv.slice(2) as [string, string]
const count = Number(countArg)
const CID = 'conv_bench_p6'

const home = join(dir, 'home')
const { identity, secrets } = identityFromSeed(mnemonicToSeed(generateMnemonic()), { device: 0 })
writeIdentity(home, identity, secrets)
const config = loadConfig({ home, env: {}, flags: { bootstrap: '127.0.0.1:1' } })
const node = new ConclaveNode({ config, log: silentLogger })
await node.ready()
const api = await listenLocalApi({
  api: node,
  home,
  host: '127.0.0.1',
  port: 0,
  allowNonLoopback: false,
  log: silentLogger
})
const token = readToken(home)

// The transcript: `count` discussion messages of 200 characters by two authors (this device
// and a friend's), each signed as a conversation signs it, the whole signed by this device.
const t0 = performance.now()
const selfKey = unhex(secrets.device.signingSecretKey)
const self = {
  accountId: identity.accountId,
  deviceId: identity.deviceId,
  keyPair: { publicKey: selfKey.subarray(32), secretKey: selfKey },
  signingKey: hex(selfKey.subarray(32))
}
const friend = device(0x42, 'acc_benchfriend', 'dev_benchfriend')
const text = 'x'.repeat(190)
const messages: TranscriptMessage[] = []
for (let i = 0; i < count; i++) messages.push(signedMessage(CID, i, `${i} ${text}`, i % 2 ? friend : self))
const bytes = encodeTranscript(
  {
    v: 2,
    conversation: {
      id: CID,
      topic: 'P6: a large archive',
      pattern: 'discussion',
      consensus: { method: 'lazy' },
      options: [],
      deadline: null,
      createdAt: 1_700_000_000_000,
      creator: { accountId: self.accountId, deviceId: self.deviceId },
      members: [
        { accountId: self.accountId, devices: [self.deviceId] },
        { accountId: friend.accountId, devices: [friend.deviceId] }
      ]
    },
    messages,
    tally: {},
    outcome: null,
    roots: [],
    archivedAt: Date.now(),
    archivedBy: { deviceId: identity.deviceId, signingKey: self.signingKey }
  },
  selfKey
)
messages.length = 0
const builtMs = performance.now() - t0
const devices = await node.cluster.devices()
const t1 = performance.now()
const transcript = decodeTranscript(bytes, {
  conversationId: CID,
  isOwnDevice: (deviceId, key) => devices.some((d) => d.deviceId === deviceId && d.signingKey === key),
  verifyMessage: (cid, m) => verifyMessageRecord(cid, m as MessageRecord)
})
const decodeMs = performance.now() - t1
const archiveId = hex(randomBytes(32))
// What the node keeps after a two-device open (`ArchiveManager.open`); the open itself is P4's.
// Messages are left to be checked as pages read them, as right after an open.
node.archives.keepOpen({ id: archiveId, title: 'P6 (bench)', transcript }, { verify: false })

// The bare server: node:http, no auth, no validation, the same page bytes from the same lines
// (each message parsed from its line, as the node reads them, but not checked), and the same
// status JSON captured once from the node.
const statusJson = JSON.stringify(await node.status())
const bare: Server = createServer((req, res) => {
  const u = new URL(req.url ?? '/', 'http://x')
  let body: string
  if (u.pathname === '/status') body = statusJson
  else {
    const offset = Number(u.searchParams.get('offset') ?? 0)
    const limit = Number(u.searchParams.get('limit') ?? 50)
    const page = []
    for (let i = offset; i < Math.min(count, offset + limit); i++)
      page.push({ ...transcript.parse(i), index: i })
    body = JSON.stringify({ id: archiveId, offset, total: count, count, messages: page })
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
  res.end(body)
})
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r))

process.on('message', async (m: { id: number; op: string }) => {
  if (m.op === 'close') {
    await api.close()
    await new Promise((r) => bare.close(r))
    await node.close()
    process.send!({ id: m.id, result: true })
    process.exit(0)
  }
  if (m.op === 'verified') process.send!({ id: m.id, result: transcript.verified })
})
process.send!({
  ready: true,
  url: api.url,
  token,
  bareUrl: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`,
  archiveId,
  count,
  transcriptBytes: bytes.length,
  builtMs,
  decodeMs,
  rssMb: process.memoryUsage().rss / 1e6
})
