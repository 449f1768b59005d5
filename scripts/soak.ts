/**
 * `npm run soak`: the long versions of the proof suites (docs/reliability.md),
 * one JSON line of figures each. Flags: --seed=N --kills=N --inputs=N
 * (per decoder) --apply=N (entries through the conversation apply)
 * --cluster-apply=N (through the cluster apply) --archives=N.
 */
import { runAttacks } from '../test/proof/attacks.js'
import { runCrash } from '../test/proof/crash.js'
import { flag } from '../test/proof/figures.js'
import { runApplyFuzz } from '../test/proof/fuzz-apply.js'
import { runClusterApplyFuzz } from '../test/proof/fuzz-cluster-apply.js'
import { runDecoderFuzz } from '../test/proof/fuzz.js'

const argv = process.argv.slice(2)
const seed = flag(argv, 'seed', Date.now() % 1_000_000)
const log = (line: string): void => console.error(`# ${line}`)
const print = (f: unknown): void =>
  console.log(JSON.stringify({ at: new Date().toISOString(), ...(f as object) }))

print(await runCrash({ seed, kills: flag(argv, 'kills', 200), log }))
print(await runDecoderFuzz({ seed, inputs: flag(argv, 'inputs', 1_000_000), log }))
print(await runApplyFuzz({ seed, inputs: flag(argv, 'apply', 1_000_000), log }))
print(await runClusterApplyFuzz({ seed, inputs: flag(argv, 'cluster-apply', 1_000_000), log }))
print(await runAttacks({ seed, archives: flag(argv, 'archives', 2000) }))
