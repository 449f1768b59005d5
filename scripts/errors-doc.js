// Regenerates docs/errors.md from the compiled code (npm run build first):
//   node scripts/errors-doc.js
// test/kernel/errors-doc.test.ts fails when the doc and the code disagree.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const { loadErrorModules } = await import(
  pathToFileURL(join(process.cwd(), 'dist/src/kernel/error-modules.js')).href
)
await loadErrorModules(join(process.cwd(), 'dist'))
const { registeredCodes } = await import(pathToFileURL(join(process.cwd(), 'dist/src/kernel/errors.js')).href)
const rows = [...registeredCodes()].sort(([a], [b]) => a.localeCompare(b))
const out = [
  '# Error codes',
  '',
  'Every error Conclave reports carries a stable `code`. The CLI prints `CODE: message` on',
  'stderr and exits 1 (2 for `CLI_USAGE`); the local API answers with the HTTP status below',
  'and a JSON body `{ "code", "message", "data"? }`. Codes are prefixed by area. This file is',
  'generated from the code (`node scripts/errors-doc.js`); a test keeps the two in step.'
]
let area = ''
for (const [code, spec] of rows) {
  const a = code.split('_')[0]
  if (a !== area) {
    area = a
    out.push('', `## ${a}`, '', '| code | HTTP | meaning |', '| --- | --- | --- |')
  }
  out.push(`| \`${code}\` | ${spec.status} | ${spec.doc} |`)
}
writeFileSync('docs/errors.md', `${out.join('\n')}\n`)
