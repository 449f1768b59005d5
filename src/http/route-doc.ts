import { posix } from 'node:path'
import { z } from 'zod'
import { commonErrors, type RouteSpec } from './route.js'

/**
 * The route reference of docs/http.md, generated from the route table
 * (src/http/routes.ts) by scripts/http-doc.js; test/http/http-doc.test.ts
 * fails when the doc and the table disagree.
 */

export const BEGIN_MARKER = '<!-- generated: routes -->'
export const END_MARKER = '<!-- /generated -->'

type Json = {
  type?: string
  const?: unknown
  enum?: unknown[]
  minLength?: number
  maxLength?: number
  pattern?: string
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  items?: Json
  properties?: Record<string, Json>
  required?: string[]
  additionalProperties?: Json | boolean
  description?: string
}

/** A code's HTTP status, from the registered codes (src/kernel/errors.ts). */
export type StatusOf = (code: string) => number | undefined

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function range(min: number | undefined, max: number | undefined, unit = ''): string {
  const big = (n: number | undefined) => n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER
  const lo = big(min) ? undefined : min
  const hi = big(max) ? undefined : max
  const u = unit ? ` ${unit}` : ''
  if (lo !== undefined && hi !== undefined) return lo === hi ? `${lo}${u}` : `${lo}–${hi}${u}`
  if (lo !== undefined) return `≥ ${lo}${u}`
  if (hi !== undefined) return `≤ ${hi}${u}`
  return ''
}

/** A JSON Schema (from zod) as a compact type and rule. */
function describe(s: Json): { type: string; rule: string } {
  if (s.const !== undefined) return { type: JSON.stringify(s.const).replace(/"/g, "'"), rule: '' }
  if (s.enum) return { type: s.enum.map((v) => JSON.stringify(v).replace(/"/g, "'")).join(' | '), rule: '' }
  switch (s.type) {
    case 'string': {
      const rules = [range(s.minLength, s.maxLength, 'characters')]
      if (s.pattern) rules.push(`matches \`${s.pattern}\``)
      return { type: 'string', rule: rules.filter(Boolean).join(', ') }
    }
    case 'integer':
    case 'number':
      return { type: s.type, rule: range(s.minimum, s.maximum) }
    case 'boolean':
      return { type: 'boolean', rule: '' }
    case 'array': {
      const item = describe(s.items ?? {})
      const rules = [range(s.minItems, s.maxItems, 'items')]
      if (item.rule) rules.push(`each ${item.rule}`)
      const t = item.type.includes(' | ') ? `(${item.type})[]` : `${item.type}[]`
      return { type: t, rule: rules.filter(Boolean).join(', ') }
    }
    case 'object':
      if (s.properties) return { type: 'object', rule: `fields ${Object.keys(s.properties).join(', ')}` }
      return { type: 'object', rule: 'any keys' }
    default:
      return { type: 'any', rule: '' }
  }
}

const PARTS = [
  ['params', 'path'],
  ['query', 'query'],
  ['body', 'body']
] as const

/** The fields a route accepts: one table row per field of its params, query and body schemas. */
export function requestRows(spec: RouteSpec): string[] {
  const rows: string[] = []
  for (const [key, where] of PARTS) {
    const schema = spec[key]
    if (!schema) continue
    const json = z.toJSONSchema(schema, { io: 'input' }) as Json
    const required = new Set(json.required ?? [])
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      const d = describe(prop)
      const rule = [d.rule, prop.description ?? ''].filter(Boolean).join('; ')
      rows.push(
        `| ${where} | \`${name}\` | \`${cell(d.type)}\` | ${required.has(name) ? 'yes' : 'no'} | ${cell(rule) || '—'} |`
      )
    }
    if (json.additionalProperties === false) continue
    rows.push(`| ${where} | (other keys) | | | accepted |`)
  }
  return rows
}

const AUTH: Record<RouteSpec['auth'], string> = {
  public: 'none (the token is in the query)',
  read: 'token header, or the session cookie',
  write: 'token header, or the session cookie with the CSRF header; Origin, when sent, must be this server'
}

/** Every code a route can answer, with its status, in status then code order. */
export function routeErrors(spec: RouteSpec, statusOf: StatusOf): Array<{ code: string; status: number }> {
  const codes = [...new Set([...commonErrors(spec), ...spec.errors])]
  return codes
    .map((code) => {
      const status = statusOf(code)
      if (status === undefined)
        throw new Error(`route ${spec.method} ${spec.path}: unknown error code ${code}`)
      return { code, status }
    })
    .sort((a, b) => a.status - b.status || a.code.localeCompare(b.code))
}

/** `GET /api/status` */
export const routeName = (spec: Pick<RouteSpec, 'method' | 'path'>): string => `${spec.method} ${spec.path}`

/** The generated route reference (what goes between the markers). */
export function renderRoutes(routes: readonly RouteSpec[], statusOf: StatusOf, types: string): string {
  const out: string[] = [
    BEGIN_MARKER,
    '<!-- Generated from src/http/routes.ts by `node scripts/http-doc.js` (after `npm run build`); edit the route table, not this part. -->',
    '',
    '## Routes',
    '',
    'Every route of the server. This part is generated from the route table (`src/http/routes.ts`)',
    'by `node scripts/http-doc.js`; a test keeps the two in step. A route checks the parts its',
    'table lists (path, query, JSON body) and refuses unknown keys in them; a part it has no',
    'table for is ignored. Query values arrive as text: numbers in a query are parsed. Every',
    'route can also answer `500 INTERNAL_ERROR`. Every GET route also answers HEAD, as a read that',
    'needs the token.',
    '',
    '| route | answers | auth |',
    '| --- | --- | --- |'
  ]
  for (const r of routes) out.push(`| \`${routeName(r)}\` | ${r.kind} | ${r.auth} |`)
  for (const r of routes) {
    out.push('', `### \`${routeName(r)}\``, '')
    out.push(`- **auth**: ${AUTH[r.auth]}`)
    out.push(`- **answer**: ${r.answer}${r.answerType ? ` (type \`${r.answerType}\`)` : ''}`)
    const errors = routeErrors(r, statusOf)
    out.push(`- **errors**: ${errors.map((e) => `\`${e.status} ${e.code}\``).join(', ')}`)
    if (r.notes) out.push(`- ${r.notes}`)
    const rows = requestRows(r)
    if (rows.length)
      out.push('', '| in | name | type | required | rule |', '| --- | --- | --- | --- | --- |', ...rows)
  }
  if (types) out.push('', types)
  out.push(END_MARKER)
  return out.join('\n')
}

/**
 * The answer types the routes name, with the types they use that are
 * declared beside them: their declarations as written in src/node/node-api.ts.
 */
export function renderTypes(routes: readonly RouteSpec[], source: string, sourcePath: string): string {
  const decls = new Map<string, string>()
  for (const m of source.matchAll(/^(?:\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n)?export (?:interface|type) (\w+)/gm)) {
    const start = m.index
    const name = m[1]!
    let end: number
    const open = source.indexOf('{', start + m[0].length)
    const lineEnd = source.indexOf('\n', start + m[0].length)
    if (m[0].includes('export type') && (open === -1 || open > lineEnd)) end = lineEnd
    else {
      let depth = 0
      end = open
      for (; end < source.length; end++) {
        if (source[end] === '{') depth++
        else if (source[end] === '}' && --depth === 0) break
      }
      end++
    }
    decls.set(name, source.slice(start, end))
  }
  const wanted: string[] = []
  const visit = (name: string): void => {
    if (wanted.includes(name) || !decls.has(name)) return
    wanted.push(name)
    for (const ref of decls.get(name)!.matchAll(/\b([A-Z]\w+)\b/g)) visit(ref[1]!)
  }
  for (const r of routes) if (r.answerType) visit(r.answerType)
  for (const r of routes) {
    if (r.answerType && !decls.has(r.answerType))
      throw new Error(`route ${routeName(r)}: no type ${r.answerType} in ${sourcePath}`)
  }
  if (!wanted.length) return ''
  // types they name that come from elsewhere: `import type { A, B } from './x.js'`
  const imported = new Map<string, string>()
  for (const m of source.matchAll(/^import type \{([^}]+)\} from '([^']+)'/gm))
    for (const n of m[1]!.split(',')) imported.set(n.trim(), m[2]!)
  const elsewhere = new Set<string>()
  for (const n of wanted)
    for (const ref of decls.get(n)!.matchAll(/\b([A-Z]\w+)\b/g))
      if (imported.has(ref[1]!)) elsewhere.add(ref[1]!)
  const file = (spec: string): string => posix.join(posix.dirname(sourcePath), spec).replace(/\.js$/, '.ts')
  const from = [...elsewhere].sort().map((n) => `\`${n}\` (\`${file(imported.get(n)!)}\`)`)
  return [
    '### Answer types',
    '',
    `As declared in \`${sourcePath}\`.` +
      (from.length ? ` Declared elsewhere and described in the docs of their area: ${from.join(', ')}.` : ''),
    '',
    '```ts',
    wanted.map((n) => decls.get(n)!).join('\n\n'),
    '```'
  ].join('\n')
}

/** docs/http.md with its generated part replaced (markers must be there, once each). */
export function spliceGenerated(doc: string, generated: string): string {
  const a = doc.indexOf(BEGIN_MARKER)
  const b = doc.indexOf(END_MARKER)
  if (a === -1 || b === -1 || b < a || doc.indexOf(BEGIN_MARKER, a + 1) !== -1)
    throw new Error(`docs/http.md needs one ${BEGIN_MARKER} … ${END_MARKER} part`)
  return doc.slice(0, a) + generated + doc.slice(b + END_MARKER.length)
}
