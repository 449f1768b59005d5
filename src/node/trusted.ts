import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { hexSchema } from '../kernel/encoding.js'
import { writeFileAtomic } from '../kernel/identity/home-store.js'

/**
 * HOME/trusted.json: signing keys of own devices learned out of band (from
 * the pairing package), admitted by the firewall before the cluster view has
 * synced. Without it a freshly joined device would refuse the very peer it
 * must sync the view from.
 */
export const TRUSTED_FILE = 'trusted.json'
const TrustedSchema = z.object({ v: z.literal(1), signingKeys: z.array(hexSchema(32)) }).strict()

export function readTrusted(home: string): string[] {
  try {
    return TrustedSchema.parse(JSON.parse(readFileSync(join(home, TRUSTED_FILE), 'utf8'))).signingKeys
  } catch {
    return []
  }
}

export function writeTrusted(home: string, signingKeys: string[]): void {
  writeFileAtomic(join(home, TRUSTED_FILE), `${JSON.stringify({ v: 1, signingKeys }, null, 2)}\n`, 0o600)
}
