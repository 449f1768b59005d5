import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { loadErrorModules } from '../../src/kernel/error-modules.js'
import { ConclaveError, KernelErrors, registeredCodes } from '../../src/kernel/errors.js'

function documented(): Map<string, number> {
  const text = readFileSync(join(process.cwd(), 'docs', 'errors.md'), 'utf8')
  const out = new Map<string, number>()
  for (const m of text.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/gm))
    out.set(m[1]!, Number(m[2]))
  return out
}

test('docs/errors.md lists exactly the codes in the code, with their HTTP status', async (t) => {
  const modules = await loadErrorModules(join(process.cwd(), 'dist'))
  t.ok(modules.length >= 1, `found ${modules.length} error modules`)
  const codes = registeredCodes()
  const docs = documented()
  const missingInDocs = [...codes.keys()].filter((c) => !docs.has(c)).sort()
  const staleInDocs = [...docs.keys()].filter((c) => !codes.has(c)).sort()
  const wrongStatus = [...codes].filter(([c, s]) => docs.has(c) && docs.get(c) !== s.status).map(([c]) => c)
  t.alike(missingInDocs, [], `codes missing from docs/errors.md: ${missingInDocs.join(', ') || 'none'}`)
  t.alike(staleInDocs, [], `documented codes that no longer exist: ${staleInDocs.join(', ') || 'none'}`)
  t.alike(wrongStatus, [], `status differs: ${wrongStatus.join(', ') || 'none'}`)
})

test('coded errors carry code, status, cause and data', (t) => {
  const cause = new Error('inner')
  const e = KernelErrors.CONFIG_INVALID('bad port', { cause, data: { field: 'port' } })
  t.ok(e instanceof ConclaveError)
  t.is(e.code, 'CONFIG_INVALID')
  t.is(e.status, 400)
  t.is(e.cause, cause)
  t.alike(e.toJSON(), { code: 'CONFIG_INVALID', message: 'bad port', data: { field: 'port' } })
})
