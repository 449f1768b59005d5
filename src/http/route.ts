import type { FastifyReply, FastifyRequest } from 'fastify'
import type { z } from 'zod'
import type { NodeApi } from '../node/node-api.js'
import { HttpErrors } from './errors.js'

/**
 * Who may call a route: `public` needs no token (the login link, which
 * carries its own); `read` takes the token header or the session cookie;
 * `write` the token header, or the cookie with the CSRF header, and a
 * matching Origin when one is sent. GET routes read, POST routes write.
 */
export type RouteAuth = 'public' | 'read' | 'write'

/** What a route answers on success: an HTML page, JSON, or a redirect. */
export type RouteKind = 'page' | 'api' | 'redirect'

/** What every handler of one server shares. */
export interface RouteContext {
  api: NodeApi
  /** The node's API token. */
  token: string
  /** The session's CSRF token (`csrfToken(token)`). */
  csrf: string
}

/** A request's checked parts (undefined where the route has no schema for it). */
export interface RouteInput<P, Q, B> {
  params: P
  query: Q
  body: B
  req: FastifyRequest
  reply: FastifyReply
}

export type RouteHandler<P = unknown, Q = unknown, B = unknown> = (
  input: RouteInput<P, Q, B>
) => Promise<unknown>

/**
 * One route of the local HTTP server: what the server registers and what
 * docs/http.md is generated from (scripts/http-doc.js).
 */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST'
  /** Fastify path; `:name` is a path parameter. */
  path: string
  kind: RouteKind
  auth: RouteAuth
  /** Path parameters, query and JSON body: checked in that order, a failure is 400 HTTP_BAD_REQUEST. */
  params?: z.ZodType<P>
  query?: z.ZodType<Q>
  body?: z.ZodType<B>
  /** What a success answers (Markdown, for docs/http.md). */
  answer: string
  /** The TypeScript type of a JSON answer in src/node/node-api.ts, when one describes it. */
  answerType?: string
  /** Further notes for docs/http.md (Markdown). */
  notes?: string
  /**
   * Error codes of this route itself; the codes of the security checks,
   * validation and body size follow from `auth`, the schemas and the method.
   */
  errors: readonly string[]
  /** Called once per server: the handler, with any state it keeps for that server. */
  handler(ctx: RouteContext): RouteHandler<P, Q, B>
}

/** Defines a route, inferring its checked input types from its schemas. */
export function route<P = undefined, Q = undefined, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec
}

/** Parses with zod; a failure is a 400 carrying the issues. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value)
  if (!r.success) {
    throw HttpErrors.HTTP_BAD_REQUEST(`invalid ${where}`, { data: { issues: r.error.issues } })
  }
  return r.data
}

/** The codes a route can answer by its auth, schemas and method (besides 500 INTERNAL_ERROR). */
export function commonErrors(
  spec: Pick<RouteSpec, 'method' | 'auth' | 'params' | 'query' | 'body'>
): string[] {
  const out = ['HTTP_FORBIDDEN_HOST']
  if (spec.auth !== 'public') out.push('HTTP_UNAUTHORIZED')
  if (spec.auth === 'write') out.push('HTTP_FORBIDDEN_ORIGIN', 'HTTP_CSRF')
  const write = spec.method === 'POST'
  if (spec.params || spec.query || spec.body || write) out.push('HTTP_BAD_REQUEST')
  if (write) out.push('HTTP_PAYLOAD_TOO_LARGE')
  return out
}
