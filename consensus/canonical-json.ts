import { compareStrings } from './digest.js'

/** Text that is already canonical JSON (e.g. a stored ballot), embedded as is. */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * JSON with object and Map keys sorted by code units, Sets as sorted arrays,
 * no whitespace, undefined members dropped, non-finite numbers as null and
 * bigints as decimal strings: equal states give equal bytes on every node.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (v instanceof RawJson) return v.text
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false'
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null'
    case 'bigint':
      return JSON.stringify(v.toString())
    case 'string':
      return JSON.stringify(v)
    case 'object':
      break
    default:
      return 'null'
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (ArrayBuffer.isView(v)) return `[${Array.from(v as unknown as ArrayLike<number>).join(',')}]`
  if (v instanceof Set) return canonicalJson([...v].map(String).sort(compareStrings))
  const entries: Array<[string, unknown]> =
    v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x]) : Object.entries(v as object)
  entries.sort((a, b) => compareStrings(a[0], b[0]))
  const parts: string[] = []
  for (const [k, x] of entries) if (x !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(x)}`)
  return `{${parts.join(',')}}`
}
