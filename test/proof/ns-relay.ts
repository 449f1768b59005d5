// Runs inside a node's network namespace (`ip netns exec NS node ns-relay.js HOME`) and
// relays requests to that node's local API, which listens on 127.0.0.1 of the namespace
// only. One JSON request a line on stdin ({ id, method, path, body?, timeoutMs? }), one
// JSON answer a line on stdout ({ id, status, body } or { id, error }).
import { createInterface } from 'node:readline'
import { readRuntime, readToken } from '../../src/node/runtime-file.js'

interface Request {
  id: number
  method: string
  path: string
  body?: unknown
  timeoutMs?: number
}

const home = process.argv[2]
if (!home) {
  process.stderr.write('usage: ns-relay.js HOME\n')
  process.exit(2)
}

async function relay(req: Request): Promise<unknown> {
  const runtime = readRuntime(home as string)
  const token = readToken(home as string)
  if (!runtime || !token) return { id: req.id, error: 'the node has no runtime file (not running?)' }
  try {
    const res = await fetch(`http://127.0.0.1:${runtime.port}${req.path}`, {
      method: req.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(req.body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      signal: AbortSignal.timeout(req.timeoutMs ?? 60_000)
    })
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: passed on as text
    }
    return { id: req.id, status: res.status, body }
  } catch (err) {
    return { id: req.id, error: String((err as Error).message ?? err) }
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let req: Request
  try {
    req = JSON.parse(line) as Request
  } catch {
    return
  }
  void relay(req).then((answer) => process.stdout.write(JSON.stringify(answer) + '\n'))
})
