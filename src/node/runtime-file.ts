import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'

/** HOME/api.json: where the running node's local API listens (written at start, removed at close). */
export const RUNTIME_FILE = 'api.json'
/** HOME/api-token: the API token, 0600, kept across restarts. */
export const TOKEN_FILE = 'api-token'

export const RuntimeInfoSchema = z
  .object({ pid: z.number().int(), port: z.number().int(), url: z.string() })
  .strict()
export type RuntimeInfo = z.infer<typeof RuntimeInfoSchema>

export function readRuntime(home: string): RuntimeInfo | null {
  try {
    return RuntimeInfoSchema.parse(JSON.parse(readFileSync(join(home, RUNTIME_FILE), 'utf8')))
  } catch {
    return null
  }
}

export function readToken(home: string): string | null {
  try {
    return readFileSync(join(home, TOKEN_FILE), 'utf8').trim()
  } catch {
    return null
  }
}
