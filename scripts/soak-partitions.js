// The long partition run (docs/partitions.md): five real nodes in network namespaces,
// partitioned and healed 20 times while writing. Prints one JSON line of figures on stdout
// (progress on stderr) and exits 1 when an acknowledged write was lost or a heal took more
// than 10 s to give identical views. Needs root and `npm run build` first.
//   node scripts/soak-partitions.js [--nodes 5] [--cycles 20] [--seed 1] [--min-ms 5000] [--max-ms 40000]
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    cycles: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    'min-ms': { type: 'string', default: '5000' },
    'max-ms': { type: 'string', default: '40000' }
  }
})
const { soakPartitions } = await import('../dist/test/proof/partitions.js')

const figures = await soakPartitions({
  nodes: Number(values.nodes),
  cycles: Number(values.cycles),
  seed: Number(values.seed),
  minPartitionMs: Number(values['min-ms']),
  maxPartitionMs: Number(values['max-ms'])
})
console.log(JSON.stringify(figures))
if ('skipped' in figures) process.exit(0)
process.exit(
  figures.lost === 0 && figures.notConverged === 0 && figures.maxHealToIdenticalMs <= 10_000 ? 0 : 1
)
