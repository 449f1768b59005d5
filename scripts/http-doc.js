// Regenerates the route reference of docs/http.md (between `<!-- generated: routes -->` and
// `<!-- /generated -->`) from the route table of the compiled code (npm run build first):
//   node scripts/http-doc.js
// test/http/http-doc.test.ts fails when the doc and the routes disagree.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const load = (p) => import(pathToFileURL(join(process.cwd(), p)).href)

const { loadErrorModules } = await load('dist/src/kernel/error-modules.js')
await loadErrorModules(join(process.cwd(), 'dist'))
const { registeredCodes } = await load('dist/src/kernel/errors.js')
const { routes } = await load('dist/src/http/routes.js')
const { renderRoutes, renderTypes, spliceGenerated } = await load('dist/src/http/route-doc.js')

const codes = registeredCodes()
const typesPath = 'src/node/node-api.ts'
const types = renderTypes(routes, readFileSync(typesPath, 'utf8'), typesPath)
const generated = renderRoutes(routes, (code) => codes.get(code)?.status, types)
const doc = readFileSync('docs/http.md', 'utf8')
writeFileSync('docs/http.md', spliceGenerated(doc, generated))
