/**
 * Fuzz suite runner: every decoder, then apply on three nodes. One JSON line.
 *
 *   node dist/test/proof/fuzz.js --seed=1 --inputs=1000000 --apply=1000000
 */
import { fileURLToPath } from 'node:url'
import { type Figures, figures, flag } from './figures.js'
import { DECODERS, type DecoderFigures, fuzzDecoder } from './fuzz-decoders.js'

export async function runDecoderFuzz(opts: {
  seed: number
  inputs: number
  log?: (line: string) => void
}): Promise<Figures & { decoders: DecoderFigures[] }> {
  const started = Date.now()
  const f = figures('fuzz-decoders', opts.seed)
  const decoders: DecoderFigures[] = []
  for (const d of DECODERS) {
    const t0 = Date.now()
    const r = fuzzDecoder(d, opts.seed, Math.max(1, Math.round(opts.inputs * d.share)))
    decoders.push(r)
    f.runs += r.runs
    f.refused += r.refused
    f.crashes += r.crashes
    f.hangs += r.hangs
    opts.log?.(`fuzz: ${d.name} ${r.runs} inputs in ${Date.now() - t0} ms, ${r.crashes} crashes`)
  }
  f.seedsAccepted = decoders.every((d) => d.seedsAccepted)
  f.ms = Date.now() - started
  return { ...f, decoders }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const seed = flag(argv, 'seed', 1)
  const log = (line: string): void => console.error(line)
  console.log(JSON.stringify(await runDecoderFuzz({ seed, inputs: flag(argv, 'inputs', 1_000_000), log })))
  const { runApplyFuzz } = await import('./fuzz-apply.js')
  console.log(JSON.stringify(await runApplyFuzz({ seed, inputs: flag(argv, 'apply', 1_000_000), log })))
}
