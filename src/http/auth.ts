import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'

export const SESSION_COOKIE = 'conclave_session'
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

export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

export function cookieToken(req: FastifyRequest): string | undefined {
  const raw = req.headers.cookie
  if (!raw) return undefined
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='))
  }
  return undefined
}

export function headerToken(req: FastifyRequest): string | undefined {
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

export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
