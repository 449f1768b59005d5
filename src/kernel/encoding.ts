import { z } from 'zod'

/**
 * Canonical JSON: object keys sorted, no whitespace, no undefined members.
 * Used wherever bytes are signed or hashed so that every node produces the
 * same bytes for the same value. Refuses values JSON cannot carry exactly.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canon(value))
}

function canon(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('canonicalJson: non-finite number')
    return v
  }
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : canon(x)))
  if (typeof v === 'object') {
    if (Buffer.isBuffer(v) || v instanceof Uint8Array)
      throw new TypeError('canonicalJson: encode bytes as hex first')
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k]
      if (x !== undefined) out[k] = canon(x)
    }
    return out
  }
  throw new TypeError(`canonicalJson: cannot encode ${typeof v}`)
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8')
}

/** Lowercase hex of exactly `bytes` bytes (or any even length when omitted). */
export function hexSchema(bytes?: number) {
  return bytes === undefined
    ? z.string().regex(/^(?:[0-9a-f]{2})*$/, 'expected lowercase hex')
    : z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes of lowercase hex`)
}

export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
export const unhex = (s: string): Buffer => Buffer.from(s, 'hex')
