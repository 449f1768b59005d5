import test from 'brittle'
import { skipWhen } from '../helpers/netns.js'
import { namespaceSupport, planCycles, runPartitions } from '../proof/partitions.js'

// The short version of the partition run (docs/partitions.md): three real nodes, each in its
// own network namespace, partitioned and healed three times while every node writes. The
// long version is scripts/soak-partitions.js.
const SHORT = { nodes: 3, cycles: 3, seed: 7, minPartitionMs: 5_000, maxPartitionMs: 22_000 }

const skip = skipWhen('e2e/partitions', namespaceSupport())

test(
  'partitions: 3 nodes in network namespaces, cut and healed 3 times while writing: nothing acknowledged is lost, identical views within 10 s of each heal',
  { timeout: 300_000, ...skip },
  async (t) => {
    const plan = planCycles({
      nodes: SHORT.nodes,
      cycles: SHORT.cycles,
      seed: SHORT.seed,
      minMs: SHORT.minPartitionMs,
      maxMs: SHORT.maxPartitionMs
    })
    t.alike(
      new Set(plan.map((p) => p.shape)),
      new Set(['isolate', 'oneway', 'apart']),
      'the plan goes through every shape'
    )
    t.ok(
      plan.some((p) => p.partitionMs > 20_000),
      "one partition outlasts the direct transport's 20 s idle timeout"
    )

    const f = await runPartitions({
      ...SHORT,
      log: (line) => t.comment(line),
      onCleanup: (fn) => t.teardown(fn)
    })
    console.log(JSON.stringify(f))

    t.is(f.cycleFigures.length, SHORT.cycles, 'every cycle ran')
    t.ok(f.acknowledged > 0, `${f.acknowledged} of ${f.writes} posts acknowledged while partitioned`)
    t.ok(f.notDurable > 0, `${f.notDurable} posts on cut-off nodes answered NODE_NOT_DURABLE (stored only)`)
    t.is(f.failed, 0, 'every post was answered: acknowledged or NODE_NOT_DURABLE')
    t.is(f.lost, 0, 'no acknowledged post is missing on any node')
    t.is(f.notDurableMissing, 0, 'the posts stored while cut off reached every node after the heal')
    t.is(f.notConverged, 0, 'every heal led to identical views')
    for (const c of f.cycleFigures) {
      t.ok(
        c.healToIdenticalMs !== null && c.healToIdenticalMs <= 10_000,
        `cycle ${c.cycle} (${c.shape}, ${c.partitionMs} ms): identical views ${c.healToIdenticalMs} ms after the heal`
      )
    }
  }
)
