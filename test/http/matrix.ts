import type { FastifyInstance } from 'fastify'
import { CSRF_HEADER, csrfToken, SESSION_COOKIE, TOKEN_HEADER } from '../../src/http/server.js'

export const GOOD_HOSTS = ['127.0.0.1:7777', 'localhost:7777', '[::1]:7777', 'localhost']
export const BAD_HOSTS = [
  'evil.example:7777',
  '127.0.0.1.evil.example',
  'localhost.evil.example:7777',
  '10.0.0.1:7777'
]

export interface MatrixResult {
  checked: number
  /** Requests answered 401/403 with an HTTP_ code, as expected. */
  refused: number
  /** Authorised requests that reached their handler, as expected. */
  passed: number
  /** Every combination whose answer was not the expected one. */
  mismatches: string[]
}

/**
 * Host × Origin × method × token over `app.inject()`: only loopback,
 * same-origin writes with a header token (or the cookie and the CSRF header)
 * pass. Used by test/http/security.test.ts and the attack suite.
 */
export async function hostOriginTokenMatrix(app: FastifyInstance, token: string): Promise<MatrixResult> {
  const r: MatrixResult = { checked: 0, refused: 0, passed: 0, mismatches: [] }
  const tokens = {
    none: {},
    wrong: { authorization: 'Bearer nope' },
    header: { [TOKEN_HEADER]: token },
    bearer: { authorization: `Bearer ${token}` },
    cookie: { cookie: `${SESSION_COOKIE}=${encodeURIComponent(token)}` },
    // what the pages' own scripts send
    cookieCsrf: { cookie: `${SESSION_COOKIE}=${encodeURIComponent(token)}`, [CSRF_HEADER]: csrfToken(token) },
    csrfOnly: { [CSRF_HEADER]: csrfToken(token) }
  } as const
  for (const host of [...GOOD_HOSTS, ...BAD_HOSTS]) {
    for (const origin of [undefined, `http://${host}`, 'http://evil.example', 'null']) {
      for (const method of ['GET', 'POST'] as const) {
        for (const [kind, headers] of Object.entries(tokens)) {
          const res = await app.inject({
            method,
            // the write is a revocation of a device that does not exist: authorised, it answers 404
            url: method === 'GET' ? '/api/status' : '/api/devices/999/revoke',
            headers: {
              host,
              ...(origin ? { origin } : {}),
              ...headers,
              ...(method === 'POST' ? { 'content-type': 'application/json' } : {})
            },
            ...(method === 'POST' ? { payload: '{}' } : {})
          })
          r.checked++
          const goodHost = GOOD_HOSTS.includes(host)
          const goodOrigin = origin === undefined || origin === `http://${host}`
          const authed = kind === 'header' || kind === 'bearer' || kind === 'cookieCsrf'
          let expected: number
          if (!goodHost) expected = 403
          else if (method === 'POST' && !goodOrigin) expected = 403
          else if (authed) expected = method === 'GET' ? 200 : 404
          else if (kind === 'cookie') expected = method === 'GET' ? 200 : 403
          else expected = 401
          const what = `${method} host=${host} origin=${origin} token=${kind}`
          if (res.statusCode !== expected) {
            r.mismatches.push(`${what}: ${res.statusCode} ${res.body}, expected ${expected}`)
            continue
          }
          const body = JSON.parse(res.body) as { code?: unknown }
          if (expected === 404 && body.code !== 'CLUSTER_DEVICE_UNKNOWN')
            r.mismatches.push(`${what}: authorised write not handled: ${res.body}`)
          else if (expected !== 200 && expected !== 404 && !String(body.code).startsWith('HTTP_'))
            r.mismatches.push(`${what}: no HTTP_ code: ${res.body}`)
          else if (expected === 200 || expected === 404) r.passed++
          else r.refused++
        }
      }
    }
  }
  return r
}
