import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Every compiled `errors.js` below `dir` (each area declares its codes in
 * one), leaving out `test` and `node_modules` folders.
 */
export function errorModules(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== 'test' && name !== 'node_modules') out.push(...errorModules(p))
    } else if (name === 'errors.js') out.push(p)
  }
  return out
}

/**
 * Imports every error module below `dir` (the compiled tree, `dist`), so that
 * `registeredCodes()` holds every code; what the generated docs and their
 * tests read. Returns the modules imported.
 */
export async function loadErrorModules(dir: string): Promise<string[]> {
  const modules = errorModules(dir)
  for (const m of modules) await import(pathToFileURL(m).href)
  return modules
}
