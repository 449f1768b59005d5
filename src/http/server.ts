import { createHmac, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { z } from 'zod'
import { MAX_COPIES_TIMEOUT_MS } from '../kernel/config.js'
import { ConclaveError } from '../kernel/errors.js'
import type { NodeApi } from '../node/node-api.js'
import { HttpErrors } from './errors.js'
import { isPageRequest, pageRoutes, sendErrorPage } from './page-routes.js'

export interface ServerOptions {
  api: NodeApi
  /** The node's API token (HOME/api-token). */
  token: string
  /** Largest accepted request body. */
  bodyLimit?: number
  logger?: boolean
}

export const SESSION_COOKIE = 'conclave_session'
/** What a page asked for without a session says: where the login link comes from. */
const LOGIN_HINT =
  '<p>This page needs a session: open the login link that <code>conclave run</code> printed when this node started (<code>open http://127.0.0.1:PORT/login?token=…</code>). The link stays valid across restarts.</p>'

export const TOKEN_HEADER = 'x-conclave-token'
/** Sent by the pages' own scripts with the session cookie to make a write (`csrfToken`). */
export const CSRF_HEADER = 'x-conclave-csrf'
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** Host header without its port; `[::1]:80` → `[::1]`. */
export function hostName(host: string | undefined): string | null {
  if (!host) return null
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim().toLowerCase())
  return m ? m[1]! : null
}

export function isLoopbackHost(host: string | undefined): boolean {
  const h = hostName(host)
  return h !== null && LOOPBACK_HOSTS.has(h)
}

function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

function cookieToken(req: FastifyRequest): string | undefined {
  const raw = req.headers.cookie
  if (!raw) return undefined
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='))
  }
  return undefined
}

function headerToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7)
  const h = req.headers[TOKEN_HEADER]
  return typeof h === 'string' ? h : undefined
}

/**
 * The CSRF token of a session: derived from the API token, so it needs no
 * state, and given only inside pages served to that session. With the cookie
 * it allows a write; alone it allows nothing, and it does not reveal the token.
 */
export function csrfToken(token: string): string {
  return createHmac('sha256', token).update('conclave/http/csrf/v1').digest('hex')
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Parses with zod; a failure is a 400 carrying the issues. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value)
  if (!r.success) {
    throw HttpErrors.HTTP_BAD_REQUEST(`invalid ${where}`, { data: { issues: r.error.issues } })
  }
  return r.data
}

/**
 * The local API. Security, in order, for every request: the Host must be a
 * loopback name (DNS rebinding); writes must come from our own Origin (or
 * none); a token is required — header for every request, or the session
 * cookie for reads only, so a cross-site form cannot act with the cookie
 * (CSRF). `/login?token=` turns the one-time link into the session cookie.
 */
export function buildServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.bodyLimit ?? 1024 * 1024 })
  const token = opts.token
  const csrf = csrfToken(token)

  app.addHook('onRequest', async (req) => {
    if (!isLoopbackHost(req.headers.host))
      throw HttpErrors.HTTP_FORBIDDEN_HOST('Host must be a loopback name')
    const write = WRITE_METHODS.has(req.method)
    const origin = req.headers.origin
    if (write && origin !== undefined) {
      let ok = false
      try {
        const u = new URL(origin)
        ok = u.protocol === 'http:' && u.host === req.headers.host
      } catch {
        ok = false
      }
      if (!ok) throw HttpErrors.HTTP_FORBIDDEN_ORIGIN('Origin does not match this server')
    }
    const path = req.url.split('?')[0]
    if (path === '/login' && req.method === 'GET') return
    if (sameToken(headerToken(req), token)) return
    if (sameToken(cookieToken(req), token)) {
      const h = req.headers[CSRF_HEADER]
      if (write && !sameToken(typeof h === 'string' ? h : undefined, csrf))
        throw HttpErrors.HTTP_CSRF(
          'state-changing requests need the token header (or, with the cookie, the CSRF header), not only the cookie'
        )
      return
    }
    throw HttpErrors.HTTP_UNAUTHORIZED('missing or wrong API token')
  })

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('x-frame-options', 'DENY')
    reply.header('cache-control', 'no-store')
    if (!reply.hasHeader('content-security-policy')) {
      reply.header(
        'content-security-policy',
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
      )
    }
    return payload
  })

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (
      err instanceof ConclaveError &&
      err.code === 'HTTP_UNAUTHORIZED' &&
      isPageRequest(req.method, req.url)
    ) {
      return sendErrorPage(reply, err, LOGIN_HINT)
    }
    if (err instanceof ConclaveError) {
      return reply.status(err.status).send(err.toJSON())
    }
    const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown }
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ code: 'HTTP_PAYLOAD_TOO_LARGE', message: 'request body too large' })
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(400).send({ code: 'HTTP_BAD_REQUEST', message: e.message ?? 'bad request' })
    }
    reply.log.error(err)
    return reply.status(500).send({ code: 'INTERNAL_ERROR', message: 'internal error' })
  })

  app.setNotFoundHandler((req, reply) => {
    reply
      .status(404)
      .send({ code: 'HTTP_NOT_FOUND', message: `no route for ${req.method} ${req.url.split('?')[0]}` })
  })

  app.get('/login', async (req, reply) => {
    const q = parseOr400(z.object({ token: z.string().min(1).max(256) }).strict(), req.query, 'query')
    if (!sameToken(q.token, token)) throw HttpErrors.HTTP_UNAUTHORIZED('wrong login token')
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`
    )
    return reply.redirect('/', 303)
  })

  pageRoutes(app, { api: opts.api, csrf, parse: parseOr400 })

  // A status report is shared for a moment (NodeApi.status); so is its JSON text.
  let lastStatus: { report: unknown; json: string } | null = null
  app.get('/api/status', async (_req, reply) => {
    const report = await opts.api.status()
    if (lastStatus?.report !== report) lastStatus = { report, json: JSON.stringify(report) }
    return reply.type('application/json; charset=utf-8').send(lastStatus.json)
  })

  const InviteBody = z
    .object({
      ttlMs: z
        .number()
        .int()
        .min(10_000)
        .max(7 * 24 * 3600_000)
        .optional(),
      roles: z
        .array(z.enum(['access', 'relay']))
        .min(1)
        .max(2)
        .optional(),
      indexer: z.boolean().optional(),
      name: z.string().min(1).max(64).optional()
    })
    .strict()
  app.post('/api/invites', async (req) =>
    opts.api.createInvite(parseOr400(InviteBody, req.body ?? {}, 'body'))
  )

  app.get('/api/card', async () => opts.api.card())

  app.get('/api/friends', async () => ({ friends: await opts.api.friends() }))

  const FriendBody = z
    .object({
      card: z
        .string()
        .min(1)
        .max(512 * 1024)
    })
    .strict()
  app.post('/api/friends', async (req) => {
    const body = parseOr400(FriendBody, req.body ?? {}, 'body')
    return { friend: await opts.api.addFriend(body.card) }
  })

  const StartBody = z
    .object({
      pattern: z.string().min(1).max(64),
      topic: z.string().min(1).max(500),
      method: z.string().min(1).max(64).optional(),
      params: z.record(z.string(), z.unknown()).optional(),
      expr: z.string().min(1).max(2048).optional(),
      with: z.array(z.string().max(64)).max(64).optional(),
      options: z.array(z.string().min(1).max(200)).max(64).optional(),
      deadline: z.number().int().min(0).optional()
    })
    .strict()
  app.post('/api/conversations', async (req) =>
    opts.api.startConversation(parseOr400(StartBody, req.body ?? {}, 'body'))
  )
  app.get('/api/conversations', async () => ({ conversations: await opts.api.listConversations() }))
  const IdParams = z.object({ id: z.string().min(1).max(80) }).strict()
  const Page = z
    .object({
      offset: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(0).max(500).optional()
    })
    .strict()
  app.get('/api/conversations/:id', async (req) => {
    const { id } = parseOr400(IdParams, req.params, 'parameters')
    const page = parseOr400(Page, req.query ?? {}, 'query')
    return opts.api.showConversation(id, page)
  })
  const PostBody = z
    .object({
      kind: z.string().min(1).max(64),
      body: z.record(z.string(), z.unknown()).optional(),
      /** Nodes that must hold the message before the answer (default: the node's `copies`). */
      copies: z.number().int().min(1).max(16).optional(),
      copiesTimeoutMs: z.number().int().min(0).max(MAX_COPIES_TIMEOUT_MS).optional()
    })
    .strict()
  app.post('/api/conversations/:id/messages', async (req) => {
    const { id } = parseOr400(IdParams, req.params, 'parameters')
    const b = parseOr400(PostBody, req.body ?? {}, 'body')
    return opts.api.postMessage(id, b.kind, b.body ?? {}, {
      ...(b.copies !== undefined ? { copies: b.copies } : {}),
      ...(b.copiesTimeoutMs !== undefined ? { copiesTimeoutMs: b.copiesTimeoutMs } : {})
    })
  })

  app.get('/api/archives', async () => ({ archives: await opts.api.listArchives() }))
  const ArchiveParams = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }).strict()
  const OpenBody = z
    .object({ waitMs: z.number().int().min(0).max(120_000).optional(), all: z.boolean().optional() })
    .strict()
  const MessagesQuery = z
    .object({
      offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      limit: z.coerce.number().int().min(0).max(500).optional(),
      q: z.string().max(200).optional()
    })
    .strict()
  app.get('/api/archives/:id/progress', async (req) => {
    const { id } = parseOr400(ArchiveParams, req.params, 'parameters')
    return { progress: await opts.api.archiveOpenProgress(id) }
  })
  app.post('/api/archives/:id/open', async (req) => {
    const { id } = parseOr400(ArchiveParams, req.params, 'parameters')
    const b = parseOr400(OpenBody, req.body ?? {}, 'body')
    return opts.api.openArchive(id, {
      ...(b.waitMs !== undefined ? { waitMs: b.waitMs } : {}),
      ...(b.all !== undefined ? { all: b.all } : {})
    })
  })
  app.get('/api/archives/:id/messages', async (req) => {
    const { id } = parseOr400(ArchiveParams, req.params, 'parameters')
    const q = parseOr400(MessagesQuery, req.query ?? {}, 'query')
    return opts.api.archiveMessages(id, {
      ...(q.offset !== undefined ? { offset: q.offset } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.q !== undefined ? { q: q.q } : {})
    })
  })
  app.post('/api/archives/:id/close', async (req) => {
    const { id } = parseOr400(ArchiveParams, req.params, 'parameters')
    return { closed: await opts.api.closeArchive(id) }
  })

  app.post('/api/devices/:device/revoke', async (req) => {
    const p = parseOr400(z.object({ device: z.string().min(1).max(80) }).strict(), req.params, 'parameters')
    return opts.api.revoke(p.device)
  })

  return app
}
