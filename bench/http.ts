// P6: a 50-message page from a 1M-message archive (goal p99 ≤ 20 ms) and status requests
// per second (goal ≥ 5,000/s), measured with a real HTTP client on loopback.
//   node dist/bench/http.js [--quick] [--n=MESSAGES]
//
// Server (bench/http-server.ts, its own process): a real ConclaveNode with a RocksDB store
// behind its real local API (the fastify server of `conclave run`: Host check, token,
// zod-validated query), holding an opened archive of N messages (1,000,000; quick:
// 200,000) of 200 characters, each signed as a conversation signs it. As right after an
// open, no message signature is checked yet: each page checks the ones it returns.
// Client (bench/http-client.ts, another process): node:http over a keep-alive agent.
// Pages: sequential GET /api/archives/:id/messages?offset=…&limit=50 at seeded random
// offsets, 2,000 (quick: 500) after 100 to warm up; status: GET /api/status from 16
// concurrent requests for 5 s (quick: 2 s).
// Baseline, the same run: a bare node:http server in the server process answering the
// same paths with the same bytes (the page's messages parsed from the same transcript
// lines, the status JSON captured once from the node) — no auth, no validation, no node.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type BenchFigure, closePeers, figure, forkPeer, round, spread, tempDir } from './common.js'

const SERVER = join(process.cwd(), 'dist', 'bench', 'http-server.js')
const CLIENT = join(process.cwd(), 'dist', 'bench', 'http-client.js')
const PAGE = 50
const PAGE_GOAL_MS = 20
const STATUS_GOAL = 5000

interface Ready {
  url: string
  token: string
  bareUrl: string
  archiveId: string
  count: number
  transcriptBytes: number
  builtMs: number
  decodeMs: number
  rssMb: number
}

export async function run(opts: { quick: boolean; n?: number }): Promise<Record<string, BenchFigure>> {
  const count = opts.n ?? (opts.quick ? 200_000 : 1_000_000)
  const n = opts.quick ? 500 : 2000
  const rateMs = opts.quick ? 2000 : 5000
  const tmp = tempDir('http')
  const log = (s: string) => process.stderr.write(`P6: ${s}\n`)
  log(`building and opening an archive of ${count} messages…`)
  const server = await forkPeer(SERVER, [tmp.dir, String(count)])
  const client = await forkPeer(CLIENT, [])
  try {
    const r = server.ready as Ready
    const headers = { 'x-conclave-token': r.token }
    const pages = Math.floor(r.count / PAGE)
    const pagePath = `/api/archives/${r.archiveId}/messages?offset={offset}&limit=${PAGE}`
    const barePath = `/page?offset={offset}&limit=${PAGE}`
    type Latency = { ms: number[]; bad: number }
    const lat = (base: string, path: string, h: Record<string, string>, seed: number, k: number) =>
      client.call<Latency>('latency', { base, path, headers: h, n: k, pages, pageSize: PAGE, seed })
    log('pages…')
    await lat(r.url, pagePath, headers, 1, 100)
    await lat(r.bareUrl, barePath, {}, 1, 100)
    const node = await lat(r.url, pagePath, headers, 7, n)
    const bare = await lat(r.bareUrl, barePath, {}, 7, n)
    log('status…')
    type Rate = { perSecond: number; ok: number; bad: number }
    const rate = (base: string, path: string, h: Record<string, string>) =>
      client.call<Rate>('rate', { base, path, headers: h, concurrency: 16, ms: rateMs })
    await rate(r.url, '/api/status', headers)
    const status = await rate(r.url, '/api/status', headers)
    const bareStatus = await rate(r.bareUrl, '/status', {})
    const verified = await server.call<{ done: number; total: number }>('verified')
    const p = spread(node.ms)
    const b = spread(bare.ms)
    return {
      P6: figure(p.p99, 'ms p99, a 50-message page of an open archive over HTTP', PAGE_GOAL_MS, b.p99, {
        what: `GET /api/archives/:id/messages?offset=…&limit=50 at ${n} seeded random offsets of an open archive of ${r.count} messages (${round(r.transcriptBytes / 1e6)} MB of transcript), sequential, real node:http client in another process; each page's message signatures checked as it is served`,
        goalOn: 'value (p99, ms)',
        baselineIs:
          'ms p99, a bare node:http server answering the same pages (the same lines parsed, no checks)',
        p50: p.p50,
        p99: p.p99,
        max: p.max,
        non200: node.bad,
        baselineMs: b,
        signaturesChecked: verified,
        messages: r.count,
        transcriptBytes: r.transcriptBytes,
        buildMs: round(r.builtMs),
        decodeMs: round(r.decodeMs),
        serverRssMbAfterBuild: round(r.rssMb)
      }),
      P6_status: figure(
        status.perSecond,
        'requests/s, GET /api/status, 16 concurrent, keep-alive',
        STATUS_GOAL,
        bareStatus.perSecond,
        {
          what: `GET /api/status with the token header for ${rateMs / 1000} s from 16 concurrent requests over one keep-alive agent in another process, after as long a warm-up`,
          goalOn: 'value (requests/s, higher is better)',
          baselineIs: 'requests/s, a bare node:http server answering the same status JSON',
          non200: status.bad,
          baselineNon200: bareStatus.bad
        },
        false
      )
    }
  } finally {
    await closePeers([client, server])
    tmp.remove()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const nArg = process.argv.find((a) => a.startsWith('--n='))
  const out = await run({
    quick: process.argv.includes('--quick'),
    ...(nArg ? { n: Number(nArg.slice(4)) } : {})
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
