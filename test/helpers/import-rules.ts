import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'

/**
 * The import directions of DESIGN §2: which of our top-level areas each area
 * may import. Imports of npm packages and node: builtins are not restricted
 * here. test/ and bench/ may import everything.
 */
export const ALLOWED: Record<string, string[]> = {
  'src/kernel': [],
  consensus: ['src/kernel'],
  conversations: ['src/kernel', 'consensus'],
  cluster: ['src/kernel'],
  archive: ['src/kernel'],
  'src/node': ['src/kernel', 'consensus', 'conversations', 'cluster', 'archive'],
  'src/http': ['src/node', 'src/kernel'],
  bin: ['src/kernel', 'src/node', 'src/http']
}

const AREAS = Object.keys(ALLOWED).sort((a, b) => b.length - a.length)

export function areaOf(file: string): string | null {
  const f = file.split(sep).join('/')
  for (const a of AREAS) if (f === a || f.startsWith(`${a}/`)) return a
  return null
}

const IMPORT_RE =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g

export function importsOf(source: string): string[] {
  const out: string[] = []
  for (const m of source.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (spec) out.push(spec)
  }
  return out
}

export interface Violation {
  file: string
  spec: string
  from: string
  to: string
}

/** Checks one file (path relative to the repository root) with its source text. */
export function check(file: string, source: string): Violation[] {
  const from = areaOf(file)
  if (!from) return []
  const out: Violation[] = []
  for (const spec of importsOf(source)) {
    if (!spec.startsWith('.')) continue
    const target = normalize(join(dirname(file), spec))
      .split(sep)
      .join('/')
    const to = areaOf(target)
    if (to === from) continue
    if (to === null || !ALLOWED[from]!.includes(to)) out.push({ file, spec, from, to: to ?? target })
  }
  return out
}

export function sourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(root, p))
    }
  }
  for (const top of ['src', 'consensus', 'conversations', 'cluster', 'archive', 'bin']) {
    try {
      walk(join(root, top))
    } catch {
      // an area that does not exist yet has nothing to check
    }
  }
  return out
}

export function checkTree(root: string): Violation[] {
  return sourceFiles(root).flatMap((f) => check(f, readFileSync(join(root, f), 'utf8')))
}
