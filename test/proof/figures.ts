/**
 * What every proof suite prints: one JSON line of figures. The zero goals
 * (`lost`, `failedOpens`, `crashes`, `hangs`, `divergent`) are the suite's
 * claims; `refused` counts what it showed to be refused. Suites add their own
 * fields (per-case counts, timings).
 */
export interface Figures {
  suite: string
  seed: number
  runs: number
  lost: number
  failedOpens: number
  crashes: number
  hangs: number
  divergent: number
  refused: number
  ms: number
  [extra: string]: unknown
}

export function figures(suite: string, seed: number): Figures {
  return {
    suite,
    seed,
    runs: 0,
    lost: 0,
    failedOpens: 0,
    crashes: 0,
    hangs: 0,
    divergent: 0,
    refused: 0,
    ms: 0
  }
}

export { prng } from '../helpers/prng.js'

/** A stable `code` of a refusal, or null when the error has none (a crash, not a refusal). */
export function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.length > 0 ? code : null
}

/** Reads `--name=value` flags of a runner's command line. */
export function flag(argv: readonly string[], name: string, fallback: number): number {
  const hit = argv.find((a) => a.startsWith(`--${name}=`))
  if (!hit) return fallback
  const n = Number(hit.slice(name.length + 3))
  if (!Number.isFinite(n)) throw new Error(`--${name} expects a number`)
  return n
}
