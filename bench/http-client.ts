// The client side of P6 (bench/http.ts), in its own process: node:http requests over one
// keep-alive agent to a server on loopback. Driven over IPC:
//   latency { base, path, headers, n, pages, seed } → every request's time (ms), sequential,
//     each for a page at a seeded random offset (`{offset}` in path)
//   rate { base, path, headers, concurrency, ms } → completed 200 answers per second
import { Agent, request } from 'node:http'

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

function get(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { agent, headers }, (res) => {
      res.on('data', () => {})
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Seeded offsets (xorshift32), so both servers are asked for the same pages. */
function offsets(seed: number, n: number, pages: number, pageSize: number): number[] {
  let x = seed >>> 0 || 1
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out.push((x % pages) * pageSize)
  }
  return out
}

interface Args {
  base: string
  path: string
  headers: Record<string, string>
  n: number
  pages: number
  pageSize: number
  seed: number
  concurrency: number
  ms: number
}

const ops: Record<string, (a: Args) => Promise<unknown>> = {
  async latency(a) {
    const ms: number[] = []
    let bad = 0
    for (const offset of offsets(a.seed, a.n, a.pages, a.pageSize)) {
      const t0 = performance.now()
      const status = await get(a.base, a.path.replace('{offset}', String(offset)), a.headers)
      ms.push(performance.now() - t0)
      if (status !== 200) bad++
    }
    return { ms, bad }
  },
  async rate(a) {
    let ok = 0
    let bad = 0
    const end = performance.now() + a.ms
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: a.concurrency }, async () => {
        while (performance.now() < end) {
          if ((await get(a.base, a.path, a.headers)) === 200) ok++
          else bad++
        }
      })
    )
    return { perSecond: (ok * 1000) / (performance.now() - t0), ok, bad }
  }
}

process.on('message', async (m: { id: number; op: string; args: Args }) => {
  if (m.op === 'close') {
    agent.destroy()
    process.send!({ id: m.id, result: true })
    process.exit(0)
  }
  try {
    process.send!({ id: m.id, result: await ops[m.op]!(m.args) })
  } catch (err) {
    process.send!({ id: m.id, error: (err as Error).message })
  }
})
process.send!({ ready: true })
