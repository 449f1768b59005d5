import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ConclaveError } from '../kernel/errors.js'
import type { NodeApi } from '../node/node-api.js'
import {
  cookieToken,
  CSRF_HEADER,
  csrfToken,
  headerToken,
  isLoopbackHost,
  sameToken,
  WRITE_METHODS
} from './auth.js'
import { HttpErrors } from './errors.js'
import { isPageRequest, sendErrorPage } from './page-routes.js'
import { parseOr400, type RouteContext, type RouteSpec } from './route.js'
import { routes } from './routes.js'

export { CSRF_HEADER, csrfToken, hostName, isLoopbackHost, SESSION_COOKIE, TOKEN_HEADER } from './auth.js'
export { parseOr400 } from './route.js'

export interface ServerOptions {
  api: NodeApi
  /** The node's API token (HOME/api-token). */
  token: string
  /** Largest accepted request body. */
  bodyLimit?: number
  logger?: boolean
}

/** What a page asked for without a session says: where the login link comes from. */
const LOGIN_HINT =
  '<p>This page needs a session: open the login link that <code>conclave run</code> printed when this node started (<code>open http://127.0.0.1:PORT/login?token=…</code>). The link stays valid across restarts.</p>'

/** `METHOD path` of the routes that need no token (`auth: 'public'`). */
const PUBLIC_ROUTES = new Set(routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.path}`))

/**
 * Registers one route of the table: its path parameters, query and body are
 * checked against its schemas in that order (400 HTTP_BAD_REQUEST), then its
 * handler runs.
 */
function register(app: FastifyInstance, spec: RouteSpec, ctx: RouteContext): void {
  if ((spec.auth === 'write') !== WRITE_METHODS.has(spec.method))
    throw new Error(`route ${spec.method} ${spec.path}: auth ${spec.auth} does not fit its method`)
  const handle = spec.handler(ctx)
  app.route({
    method: spec.method,
    url: spec.path,
    handler: async (req, reply) =>
      handle({
        params: spec.params ? parseOr400(spec.params, req.params, 'parameters') : undefined,
        query: spec.query ? parseOr400(spec.query, req.query ?? {}, 'query') : undefined,
        body: spec.body ? parseOr400(spec.body, req.body ?? {}, 'body') : undefined,
        req,
        reply
      })
  })
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
    if (PUBLIC_ROUTES.has(`${req.method} ${path}`)) return
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

  const ctx: RouteContext = { api: opts.api, token, csrf }
  for (const spec of routes) register(app, spec, ctx)

  return app
}
