import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { ensureToken } from '../../src/http/listen.js'
import { renderRoutes, renderTypes, routeName, spliceGenerated } from '../../src/http/route-doc.js'
import { routes } from '../../src/http/routes.js'
import { buildServer } from '../../src/http/server.js'
import { loadErrorModules } from '../../src/kernel/error-modules.js'
import { registeredCodes } from '../../src/kernel/errors.js'
import { inProcessNode } from '../helpers/in-process-node.js'

const DOC = join(process.cwd(), 'docs', 'http.md')
const TYPES = 'src/node/node-api.ts'

async function generated(list = routes): Promise<string> {
  await loadErrorModules(join(process.cwd(), 'dist'))
  const codes = registeredCodes()
  const types = renderTypes(list, readFileSync(join(process.cwd(), TYPES), 'utf8'), TYPES)
  return renderRoutes(list, (code) => codes.get(code)?.status, types)
}

/** `METHOD path` of every route the doc describes (its `### \`GET /path\`` headings). */
function documentedRoutes(doc: string): string[] {
  return [...doc.matchAll(/^### `([A-Z]+ \/[^`]*)`$/gm)].map((m) => m[1]!)
}

/**
 * `METHOD path` of every route in fastify's own route tree
 * (`printRoutes({ commonPrefix: false })`: one segment per line, indented 4 per level).
 */
function fastifyRoutes(tree: string): string[] {
  const out: string[] = []
  const stack: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^([│├└─\s]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!m) continue
    const depth = m[1]!.length / 4 - 1
    stack.length = depth
    stack.push(m[2]!)
    for (const method of m[3]?.split(', ') ?? []) out.push(`${method} ${stack.join('')}`)
  }
  return out
}

test('docs/http.md: the route reference is what scripts/http-doc.js generates from the route table', async (t) => {
  const doc = readFileSync(DOC, 'utf8')
  const want = spliceGenerated(doc, await generated())
  const lines = [want.split('\n'), doc.split('\n')] as const
  const at = lines[0].findIndex((l, i) => l !== lines[1][i])
  t.ok(
    want === doc,
    want === doc
      ? 'docs/http.md is up to date'
      : `docs/http.md is out of date at line ${at + 1}: run npm run build && node scripts/http-doc.js\n` +
          `  generated: ${lines[0][at]}\n  in the doc: ${lines[1][at]}`
  )
  t.ok(doc.includes('## Security, in the order it is checked'), 'the written parts outside the markers stay')
  t.ok(doc.includes('## Pages'), 'the pages section stays')
  // the comparison notices a route that is gone from the table
  t.not(spliceGenerated(doc, await generated(routes.slice(1))), doc, 'a route less changes the doc')
  t.alike(documentedRoutes(want), routes.map(routeName), 'one section per route, in table order')
})

test('every route fastify registers is in docs/http.md, and every documented route is registered', async (t) => {
  const { node, home } = await inProcessNode(t)
  const app = buildServer({ api: node, token: ensureToken(home) })
  t.teardown(() => app.close())
  await app.ready()
  const registered = fastifyRoutes(app.printRoutes({ commonPrefix: false }))
  t.ok(registered.length >= routes.length, `${registered.length} method and path pairs registered`)
  const doc = readFileSync(DOC, 'utf8')
  const documented = documentedRoutes(doc)

  const withoutHead = registered.filter((r) => !r.startsWith('HEAD ')).sort()
  t.alike(withoutHead, [...documented].sort(), 'the registered routes (HEAD aside) are the documented ones')
  const heads = registered.filter((r) => r.startsWith('HEAD ')).map((r) => r.replace(/^HEAD/, 'GET'))
  t.alike(
    heads.sort(),
    documented.filter((r) => r.startsWith('GET ')).sort(),
    'HEAD is registered for each GET route, as the doc says, and for no other'
  )
  for (const r of documented) {
    const [method, url] = r.split(' ') as ['GET' | 'POST', string]
    if (!app.hasRoute({ method, url })) t.fail(`documented but not registered: ${r}`)
  }
  t.ok(
    doc.includes('Every GET route also answers HEAD'),
    'the doc says GET routes answer HEAD (checked above)'
  )
})
