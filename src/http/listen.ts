import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { randomBytes } from '../kernel/crypto/hash.js'
import type { Logger } from '../kernel/log.js'
import type { NodeApi } from '../node/node-api.js'
import { RUNTIME_FILE, TOKEN_FILE } from '../node/runtime-file.js'
import { HttpErrors } from './errors.js'
import { buildServer } from './server.js'

const LOOPBACK_BINDS = new Set(['127.0.0.1', '::1', 'localhost'])

/** The API token of a home: created once (0600) and kept across restarts, so the login link stays valid. */
export function ensureToken(home: string): string {
  const file = join(home, TOKEN_FILE)
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim()
    if (t) return t
  }
  const token = randomBytes(32).toString('base64url')
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  return token
}

export interface LocalApi {
  app: FastifyInstance
  port: number
  url: string
  loginUrl: string
  close(): Promise<void>
}

/**
 * Puts the local API in front of a node: loopback only unless explicitly
 * allowed (with a warning), and records where it listens in HOME/api.json
 * for the CLI.
 */
export async function listenLocalApi(opts: {
  api: NodeApi
  home: string
  host: string
  port: number
  allowNonLoopback: boolean
  log: Logger
}): Promise<LocalApi> {
  if (!LOOPBACK_BINDS.has(opts.host)) {
    if (!opts.allowNonLoopback) {
      throw HttpErrors.HTTP_BIND_REFUSED(
        `refusing to bind the local API to ${opts.host}: loopback only unless api.allowNonLoopback`
      )
    }
    opts.log.warn(
      'the local API is bound to a non-loopback address: anyone who reaches it with the token controls this node',
      {
        host: opts.host
      }
    )
  }
  const token = ensureToken(opts.home)
  const app = buildServer({ api: opts.api, token })
  await app.listen({ host: opts.host, port: opts.port })
  const port = (app.server.address() as AddressInfo).port
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`
  const runtimeFile = join(opts.home, RUNTIME_FILE)
  writeFileSync(runtimeFile, `${JSON.stringify({ pid: process.pid, port, url })}\n`, { mode: 0o600 })
  return {
    app,
    port,
    url,
    loginUrl: `${url}/login?token=${encodeURIComponent(token)}`,
    async close() {
      rmSync(runtimeFile, { force: true })
      await app.close()
    }
  }
}
