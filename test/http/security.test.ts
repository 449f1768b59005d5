import test from 'brittle'
import { ensureToken } from '../../src/http/listen.js'
import { buildServer, SESSION_COOKIE } from '../../src/http/server.js'
import { inProcessNode } from '../helpers/in-process-node.js'
import { hostOriginTokenMatrix } from './matrix.js'

test('Host × Origin × method × token matrix: only loopback, same-origin writes with a header token (or the cookie and the CSRF header) pass', async (t) => {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token })
  t.teardown(() => app.close())
  const r = await hostOriginTokenMatrix(app, token)
  for (const m of r.mismatches) t.fail(m)
  t.ok(r.checked >= 250, `${r.checked} combinations checked`)
  t.is(r.refused + r.passed, r.checked, `${r.refused} refused, ${r.passed} allowed`)
})

test('login link sets a strict session cookie; bad input gets coded errors', async (t) => {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token, bodyLimit: 64 * 1024 })
  t.teardown(() => app.close())
  const host = { host: '127.0.0.1:7777' }

  const login = await app.inject({
    method: 'GET',
    url: `/login?token=${encodeURIComponent(token)}`,
    headers: host
  })
  t.is(login.statusCode, 303)
  const cookie = String(login.headers['set-cookie'])
  t.ok(cookie.includes('HttpOnly') && cookie.includes('SameSite=Strict'), cookie)
  const badLogin = await app.inject({ method: 'GET', url: '/login?token=wrong', headers: host })
  t.is(badLogin.statusCode, 401)

  const auth = { ...host, authorization: `Bearer ${token}` }
  const missing = await app.inject({ method: 'GET', url: '/api/nothing-here', headers: auth })
  t.is(missing.statusCode, 404)
  t.is(JSON.parse(missing.body).code, 'HTTP_NOT_FOUND')
  const unauth404 = await app.inject({ method: 'GET', url: '/api/nothing-here', headers: host })
  t.is(unauth404.statusCode, 401, 'no route discovery without a token')

  const badBody = await app.inject({
    method: 'POST',
    url: '/api/invites',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ ttlMs: 'soon', extra: 1 })
  })
  t.is(badBody.statusCode, 400)
  const bb = JSON.parse(badBody.body)
  t.is(bb.code, 'HTTP_BAD_REQUEST')
  t.ok(Array.isArray(bb.data.issues) && bb.data.issues.length > 0, 'zod issues included')

  const notJson = await app.inject({
    method: 'POST',
    url: '/api/invites',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: '{oops'
  })
  t.is(notJson.statusCode, 400)

  const huge = await app.inject({
    method: 'POST',
    url: '/api/invites',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x'.repeat(200_000) })
  })
  t.is(huge.statusCode, 413)
  t.is(JSON.parse(huge.body).code, 'HTTP_PAYLOAD_TOO_LARGE')

  const status = await app.inject({ method: 'GET', url: '/api/status', headers: auth })
  t.is(status.statusCode, 200)
  const s = JSON.parse(status.body)
  t.is(s.accountId, node.identity.accountId)
  t.ok(Array.isArray(s.devices) && Array.isArray(s.peers) && Array.isArray(s.cores))
  t.ok(String(status.headers['content-security-policy']).includes("default-src 'none'"), 'strict CSP')
  t.absent(status.headers['access-control-allow-origin'], 'no CORS')

  const revokeUnknown = await app.inject({ method: 'POST', url: '/api/devices/42/revoke', headers: auth })
  t.is(revokeUnknown.statusCode, 404)
  t.is(JSON.parse(revokeUnknown.body).code, 'CLUSTER_DEVICE_UNKNOWN')
})

test('a node starts and answers status with no reachable bootstrap', async (t) => {
  const { node } = await inProcessNode(t, { bootstrap: '127.0.0.1:9' })
  const s = await node.status()
  t.ok(s.waitingFor.length > 0, `waiting for: ${s.waitingFor.join('; ')}`)
  t.is(s.devices.length, 1, 'itself, certified on first run')
  t.ok(s.devices[0]?.self)
  t.ok(s.writable, 'device 0 writes to its own cluster log offline')
})

test('the home page renders the devices, escaped, for a logged-in session', async (t) => {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token })
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'GET',
    url: '/',
    headers: { host: 'localhost:1', cookie: `${SESSION_COOKIE}=${encodeURIComponent(token)}` }
  })
  t.is(res.statusCode, 200)
  t.ok(String(res.headers['content-type']).startsWith('text/html'))
  t.ok(res.body.includes(node.identity.accountId), 'shows the account')
  t.absent(/<script/i.test(res.body), 'no inline script')
  const anon = await app.inject({ method: 'GET', url: '/', headers: { host: 'localhost:1' } })
  t.is(anon.statusCode, 401, 'the page needs the session')
})
