import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'brittle'

// dist/test/consensus/ → repository root
const root = fileURLToPath(new URL('../../../', import.meta.url))

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sources(p))
    else if (name.endsWith('.ts')) out.push(p)
  }
  return out
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\s*\(/, 'new Date()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bprocess\./, 'process'],
  [/\blocaleCompare\s*\(/, 'localeCompare (locale-dependent order)'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(/, 'timers'],
  [/randomBytes/, 'randomness']
]

test('consensus/ is pure: no clock, randomness, process or I/O, and imports only src/kernel and packages', (t) => {
  const files = sources(join(root, 'consensus'))
  t.ok(files.length > 10, `${files.length} source files`)
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const rel = file.slice(root.length)
    for (const [re, what] of FORBIDDEN) t.absent(re.test(text), `${rel}: ${what}`)
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1]!
      const target = resolve(dirname(file), spec)
      const ok = spec.startsWith('.')
        ? target.startsWith(join(root, 'consensus/')) || target.startsWith(join(root, 'src/kernel/'))
        : !spec.startsWith('node:')
      t.ok(ok, `${rel} imports ${spec}`)
    }
  }
})
