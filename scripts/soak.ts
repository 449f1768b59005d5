/**
 * `npm run soak`: the long versions of the proof suites (docs/reliability.md),
 * one JSON line of figures each. Flags: --seed=N --kills=N --inputs=N
 * (per decoder) --apply=N (entries through the conversation apply)
 * --cluster-apply=N (through the cluster apply) --archives=N,
 * --partition-nodes=N --partition-cycles=N (the partition run: 5 nodes, 20
 * cycles, partitions of 5–40 s; it needs root, else it says skipped), and
 * --suites=crash,decoders,apply,cluster-apply,attacks,partitions to run only some.
 */
import { runAttacks } from '../test/proof/attacks.js'
import { runCrash } from '../test/proof/crash.js'
import { flag } from '../test/proof/figures.js'
import { runApplyFuzz } from '../test/proof/fuzz-apply.js'
import { runClusterApplyFuzz } from '../test/proof/fuzz-cluster-apply.js'
import { soakPartitions } from '../test/proof/partitions.js'
import { runDecoderFuzz } from '../test/proof/fuzz.js'

const argv = process.argv.slice(2)
const seed = flag(argv, 'seed', Date.now() % 1_000_000)
const log = (line: string): void => console.error(`# ${line}`)
const print = (f: unknown): void =>
  console.log(JSON.stringify({ at: new Date().toISOString(), ...(f as object) }))

const ALL = ['crash', 'decoders', 'apply', 'cluster-apply', 'attacks', 'partitions']
const suites =
  argv
    .find((a) => a.startsWith('--suites='))
    ?.slice('--suites='.length)
    .split(',') ?? ALL
const unknown = suites.filter((s) => !ALL.includes(s))
if (unknown.length > 0) throw new Error(`--suites: unknown ${unknown.join(', ')} (known: ${ALL.join(', ')})`)
const run = (name: string): boolean => suites.includes(name)

if (run('crash')) print(await runCrash({ seed, kills: flag(argv, 'kills', 200), log }))
if (run('decoders')) print(await runDecoderFuzz({ seed, inputs: flag(argv, 'inputs', 1_000_000), log }))
if (run('apply')) print(await runApplyFuzz({ seed, inputs: flag(argv, 'apply', 1_000_000), log }))
if (run('cluster-apply'))
  print(await runClusterApplyFuzz({ seed, inputs: flag(argv, 'cluster-apply', 1_000_000), log }))
if (run('attacks')) print(await runAttacks({ seed, archives: flag(argv, 'archives', 2000) }))
if (run('partitions')) {
  const nodes = flag(argv, 'partition-nodes', 5)
  const cycles = flag(argv, 'partition-cycles', 20)
  print(await soakPartitions({ nodes, cycles, seed, minPartitionMs: 5_000, maxPartitionMs: 40_000 }))
}
