import test from 'brittle'
import { ensureToken } from '../../src/http/listen.js'
import { buildServer, CSRF_HEADER, csrfToken, SESSION_COOKIE } from '../../src/http/server.js'
import type { ArchiveSummary, NodeApi } from '../../src/node/node-api.js'
import { inProcessNode } from '../helpers/in-process-node.js'

const HOSTILE = '<script>alert("topic")</script> & <img src=x onerror=alert(1)>'
const HOST = '127.0.0.1:7777'

/** The CSP nonce of a response, after checking every script and style tag carries it and nothing runs inline without it. */
function checkNonce(t: { fail(m: string): void }, url: string, csp: string, body: string): string {
  const m = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)
  if (!m) {
    t.fail(`${url}: no script nonce in CSP ${csp}`)
    return ''
  }
  const nonce = m[1]!
  for (const part of [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'"
  ]) {
    if (!csp.includes(part)) t.fail(`${url}: CSP lacks ${part}`)
  }
  for (const tag of body.match(/<(script|style)\b[^>]*>/gi) ?? []) {
    if (!tag.includes(`nonce="${nonce}"`)) t.fail(`${url}: ${tag} without the response's nonce`)
  }
  if (/<[a-z][^>]*\son[a-z]+\s*=/i.test(body)) t.fail(`${url}: an inline event handler`)
  if (/<[a-z][^>]*\sstyle\s*=/i.test(body)) t.fail(`${url}: a style attribute (refused by the CSP)`)
  return nonce
}

test('every page renders for the session with a nonce CSP, needs the token, and escapes a hostile topic', async (t) => {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const fake: ArchiveSummary = {
    id: 'ab'.repeat(32),
    conversationId: 'conv-for-page-test',
    holders: [node.identity.deviceId, 'dev_other'],
    size: 1234,
    blocks: 2,
    createdAt: 1_700_000_000_000,
    by: node.identity.deviceId,
    local: 2
  }
  // the real node, with one recorded archive it does not have (a lone node archives nothing)
  const api = new Proxy(node, {
    get(target, prop) {
      if (prop === 'listArchives') return async () => [fake]
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    }
  }) as unknown as NodeApi
  const app = buildServer({ api, token })
  t.teardown(() => app.close())
  const session = { host: HOST, cookie: `${SESSION_COOKIE}=${encodeURIComponent(token)}` }

  const { id } = await node.startConversation({
    pattern: 'vote',
    topic: HOSTILE,
    method: 'majority',
    options: ['yes', 'no']
  })
  await node.postMessage(id, 'comment', { text: 'first, a word' }, { copies: 1 })
  await node.postMessage(id, 'ballot', { choice: 'yes' }, { copies: 1 })

  const pages = [
    '/',
    '/conversations',
    `/conversations/${id}`,
    `/conversations/${id}?offset=1&limit=1`,
    '/friends',
    '/archives',
    `/archives/${fake.id}`
  ]
  const nonces = new Set<string>()
  for (const url of pages) {
    const res = await app.inject({ method: 'GET', url, headers: session })
    t.is(res.statusCode, 200, `${url} renders`)
    t.ok(String(res.headers['content-type']).startsWith('text/html'), `${url} is HTML`)
    t.ok(/<nav aria-label="main">/.test(res.body) && /<main>/.test(res.body), `${url} has nav and main`)
    nonces.add(checkNonce(t, url, String(res.headers['content-security-policy']), res.body))
    const anon = await app.inject({ method: 'GET', url, headers: { host: HOST } })
    t.is(anon.statusCode, 401, `${url} needs the token`)
    t.ok(
      String(anon.headers['content-type']).startsWith('text/html'),
      `${url} without a session: an HTML page`
    )
    t.ok(
      anon.body.includes('<h1>HTTP_UNAUTHORIZED</h1>') && anon.body.includes('login link'),
      'that names the code and says where the login link comes from'
    )
    checkNonce(t, `${url} (401)`, String(anon.headers['content-security-policy']), anon.body)
    const api = await app.inject({ method: 'GET', url: '/api/status', headers: { host: HOST } })
    t.is(JSON.parse(api.body).code, 'HTTP_UNAUTHORIZED', 'the API answers the same in JSON')
  }
  t.is(nonces.size, pages.length, 'a fresh nonce per response')

  const list = await app.inject({ method: 'GET', url: '/conversations', headers: session })
  const page = await app.inject({ method: 'GET', url: `/conversations/${id}`, headers: session })
  const live = await app.inject({ method: 'GET', url: `/conversations/${id}?part=live`, headers: session })
  t.is(live.statusCode, 200)
  t.ok(
    /^<div id="live" data-final="(true|false)">/.test(live.body),
    "the live part alone: what the page's script swaps in"
  )
  t.absent(/<script|<style|<html/.test(live.body), 'with no script, style or document around it')
  t.ok(page.body.includes(live.body), 'and the same as in the page')
  const badPart = await app.inject({ method: 'GET', url: `/conversations/${id}?part=all`, headers: session })
  t.is(badPart.statusCode, 400, 'another part: 400')
  for (const [what, res] of [
    ['list', list],
    ['page', page]
  ] as const) {
    t.absent(res.body.includes('<script>alert'), `${what}: the topic's script tag is not markup`)
    t.absent(res.body.includes('<img src=x'), `${what}: nor its img tag`)
    t.ok(
      res.body.includes('&lt;script&gt;alert(&quot;topic&quot;)&lt;/script&gt; &amp; &lt;img'),
      `${what}: shown as text`
    )
  }
  t.ok(list.body.includes(`href="/conversations/${id}"`), 'the list links the conversation')

  const svg = /<svg class="chart"[\s\S]*?<\/svg>/.exec(page.body)?.[0] ?? ''
  t.is((svg.match(/<rect class="bar/g) ?? []).length, 2, 'the tally chart: one bar per option')
  t.ok(/<desc id="chart-desc">yes: 1, no: 0<\/desc>/.test(svg), 'with the counts')
  t.ok(/<strong>yes<\/strong> — (tentative|final)/.test(page.body), 'the outcome and its state')
  t.ok(page.body.includes('Messages (2'), 'the message count')

  const paged = await app.inject({
    method: 'GET',
    url: `/conversations/${id}?offset=0&limit=1`,
    headers: session
  })
  t.ok(
    paged.body.includes('href="/conversations/'.concat(id, '?offset=1&amp;limit=1" rel="next"')),
    'a next link'
  )
  t.is((paged.body.match(/<li value=/g) ?? []).length, 1, 'one message on a page of one')
  const second = await app.inject({
    method: 'GET',
    url: `/conversations/${id}?offset=1&limit=1`,
    headers: session
  })
  t.ok(second.body.includes('rel="prev"') && second.body.includes('<li value="2">'), 'the second page')

  const archive = await app.inject({ method: 'GET', url: `/archives/${fake.id}`, headers: session })
  t.ok(archive.body.includes('<button type="button" id="open">'), 'the archive page has its open button')
  t.ok(
    archive.body.includes(`<meta name="conclave-csrf" content="${csrfToken(token)}">`),
    'and the CSRF token'
  )
  t.absent(archive.body.includes(token), 'but never the API token')
})

test('pages: errors and the CSRF rule for the archive page’s writes', async (t) => {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token })
  t.teardown(() => app.close())
  const session = { host: HOST, cookie: `${SESSION_COOKIE}=${encodeURIComponent(token)}` }
  const get = (url: string) => app.inject({ method: 'GET', url, headers: session })

  const missing = await get('/no-such-page')
  t.is(missing.statusCode, 404)
  t.is(JSON.parse(missing.body).code, 'HTTP_NOT_FOUND')
  const noConvo = await get('/conversations/nope')
  t.ok(
    noConvo.statusCode >= 400 && noConvo.body.includes('CONV_NO_MANIFEST'),
    'unknown conversation: its code, as a page'
  )
  t.ok(String(noConvo.headers['content-type']).startsWith('text/html'))
  const noArchive = await get(`/archives/${'cd'.repeat(32)}`)
  t.is(noArchive.statusCode, 404)
  t.ok(noArchive.body.includes('NODE_ARCHIVE_UNKNOWN'))
  t.is((await get('/archives/not-hex')).statusCode, 400)
  t.is((await get(`/conversations/x?limit=0`)).statusCode, 400)

  const open = (headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: `/api/archives/${'cd'.repeat(32)}/open`,
      headers: { host: HOST, 'content-type': 'application/json', ...headers },
      payload: '{}'
    })
  const csrf = csrfToken(token)
  const cookieOnly = await open({ cookie: session.cookie })
  t.is(JSON.parse(cookieOnly.body).code, 'HTTP_CSRF', 'the cookie alone cannot write')
  const wrong = await open({ cookie: session.cookie, [CSRF_HEADER]: csrfToken('other') })
  t.is(JSON.parse(wrong.body).code, 'HTTP_CSRF', 'nor with a wrong CSRF token')
  const alone = await open({ [CSRF_HEADER]: csrf })
  t.is(alone.statusCode, 401, 'the CSRF token alone is no credential')
  const crossSite = await open({ cookie: session.cookie, [CSRF_HEADER]: csrf, origin: 'http://evil.example' })
  t.is(JSON.parse(crossSite.body).code, 'HTTP_FORBIDDEN_ORIGIN', 'nor from another origin')
  const ok = await open({ cookie: session.cookie, [CSRF_HEADER]: csrf, origin: `http://${HOST}` })
  t.is(
    JSON.parse(ok.body).code,
    'NODE_ARCHIVE_UNKNOWN',
    'cookie and CSRF header from our page reach the node'
  )
})
