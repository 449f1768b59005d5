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
const { namespaceSupport, runPartitions } = await import('../dist/test/proof/partitions.js')

const why = namespaceSupport()
if (why !== null) {
  console.error(`SKIPPED: partitions soak: ${why}`)
  console.log(JSON.stringify({ suite: 'partitions', skipped: why }))
  process.exit(0)
}

let cleanup = null
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`# partitions: ${signal}, tearing down`)
    void (cleanup ?? (() => Promise.resolve()))().finally(() => process.exit(130))
  })
}
const figures = await runPartitions({
  nodes: Number(values.nodes),
  cycles: Number(values.cycles),
  seed: Number(values.seed),
  minPartitionMs: Number(values['min-ms']),
  maxPartitionMs: Number(values['max-ms']),
  onCleanup: (fn) => (cleanup = fn)
})
console.log(JSON.stringify(figures))
process.exit(
  figures.lost === 0 && figures.notConverged === 0 && figures.maxHealToIdenticalMs <= 10_000 ? 0 : 1
)
