import test from 'brittle'
import { ensureToken } from '../../src/http/listen.js'
import { buildServer, SESSION_COOKIE } from '../../src/http/server.js'
import type { StatusReport } from '../../src/node/node-api.js'
import { inProcessNode } from '../helpers/in-process-node.js'

test('a lone node: copies 1 is acknowledged, copies 2 is stored but NODE_NOT_DURABLE; status flags it', async (t) => {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token })
  t.teardown(() => app.close())
  const headers = {
    host: '127.0.0.1:7777',
    authorization: `Bearer ${token}`,
    'content-type': 'application/json'
  }
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: JSON.stringify(body) })
    })
    return { status: res.statusCode, body: JSON.parse(res.body) }
  }

  const started = await call('POST', '/api/conversations', {
    pattern: 'discussion',
    topic: 'Alone?',
    method: 'announcement'
  })
  t.is(started.status, 200, JSON.stringify(started.body))
  const id = started.body.id as string
  const url = `/api/conversations/${id}/messages`

  const one = await call('POST', url, { kind: 'post', body: { text: 'just here' }, copies: 1 })
  t.is(one.status, 200, JSON.stringify(one.body))
  t.alike(
    {
      copies: one.body.copies,
      target: one.body.target,
      durable: one.body.durable,
      holders: one.body.holders
    },
    { copies: 1, target: 1, durable: true, holders: [] },
    'copies 1: acknowledged once stored here'
  )
  t.ok(
    one.body.seq !== null && typeof one.body.writer === 'string' && one.body.length > 0,
    'the entry is named'
  )

  const two = await call('POST', url, { kind: 'post', body: { text: 'needs two' }, copiesTimeoutMs: 300 })
  t.is(two.status, 504)
  t.is(two.body.code, 'NODE_NOT_DURABLE')
  t.ok(
    /stored on this device/.test(two.body.message) && /do not send it again/.test(two.body.message),
    two.body.message
  )
  t.alike(
    {
      stored: two.body.data.stored,
      durable: two.body.data.durable,
      copies: two.body.data.copies,
      target: two.body.data.target,
      conversation: two.body.data.conversation
    },
    { stored: true, durable: false, copies: 1, target: 2, conversation: id },
    'the error says what was reached and that the entry is stored'
  )
  t.is(two.body.data.writer, one.body.writer, 'same writer core')
  t.is(two.body.data.length, one.body.length + 1, 'named by its length there')

  const shown = await call('GET', `/api/conversations/${id}`)
  t.alike(
    shown.body.messages.map((m: { body: { text: string } }) => m.body.text),
    ['just here', 'needs two'],
    'the message that was not durable is stored and listed'
  )

  for (const bad of [{ copies: 0 }, { copies: 17 }, { copies: 1.5 }, { copiesTimeoutMs: 120_001 }]) {
    const r = await call('POST', url, { kind: 'post', body: { text: 'x' }, ...bad })
    t.is(r.body.code, 'HTTP_BAD_REQUEST', `${JSON.stringify(bad)} refused`)
  }

  const status = (await call('GET', '/api/status')).body as StatusReport
  const writer = status.cores.find((c) => c.key === one.body.writer)
  t.ok(writer, 'the conversation writer core is listed')
  t.alike(
    writer && {
      kind: writer.kind,
      copies: writer.copies,
      local: writer.local,
      belowTarget: writer.belowTarget
    },
    { kind: 'writer', copies: 1, local: true, belowTarget: true },
    'held by this node only: flagged'
  )
  t.ok(writer?.name.includes(id), writer?.name)
  t.ok(
    status.cores.some((c) => c.kind === 'writer' && c.name.startsWith('cluster writer')),
    'the cluster writer core is named'
  )
  t.absent(
    status.cores.some((c) => c.kind === 'view' && c.belowTarget),
    'autobase state rebuilt from the writers is never flagged'
  )
  t.alike(
    status.durability,
    {
      copies: 2,
      timeoutMs: 15_000,
      statusTarget: 2,
      belowTarget: status.cores.filter((c) => c.belowTarget).length
    },
    'durability settings and the count of flagged cores'
  )
  t.ok(status.durability.belowTarget >= 2, 'cluster and conversation writers both flagged')
  t.ok(
    status.waitingFor.some((w) => w.startsWith('copies:')),
    status.waitingFor.join('; ')
  )

  const page = await app.inject({
    method: 'GET',
    url: '/',
    headers: { host: 'localhost:1', cookie: `${SESSION_COOKIE}=${encodeURIComponent(token)}` }
  })
  t.ok(page.body.includes('<strong>below 2</strong>'), 'the page marks cores below two copies')
})
