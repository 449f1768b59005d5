import test from 'brittle'
import { HANG_MS } from './fuzz-decoders.js'
import { runDecoderFuzz } from './fuzz.js'
import { runApplyFuzz } from './fuzz-apply.js'
import { runClusterApplyFuzz } from './fuzz-cluster-apply.js'

test('fuzz: every decoder takes 10k mutated and random inputs without a crash or a hang', async (t) => {
  const f = await runDecoderFuzz({ seed: 7, inputs: 10_000 })
  t.comment(
    JSON.stringify({ ...f, decoders: f.decoders.map((d) => [d.name, d.runs, d.accepted, d.refused]) })
  )
  for (const d of f.decoders) {
    t.ok(d.seedsAccepted, `${d.name}: its real entries decode`)
    t.ok(d.refused > 0, `${d.name}: ${d.refused} of ${d.runs} refused with a code`)
    if (d.crashes > 0) t.fail(`${d.name}: ${d.firstCrash}`)
  }
  t.is(f.crashes, 0, 'no crash')
  // The soak counts a call over HANG_MS (1 s) as a hang; here, two files at a time on two cores,
  // a call is allowed 5 s of wall time (a busy machine once stretched one to 1.0 s; a decoder that
  // loops never returns at all).
  const slowest = Math.max(...f.decoders.map((d) => d.maxMs))
  t.ok(slowest < 5 * HANG_MS, `no hang: the slowest call took ${Math.round(slowest)} ms`)
})

for (const [what, where, run] of [
  ['apply', 'nodes', runApplyFuzz],
  ['the cluster apply', 'devices', runClusterApplyFuzz]
] as const) {
  test(`fuzz: 1,000 mutated entries through ${what} on three ${where} leave them with one view`, async (t) => {
    const f = await run({ seed: 7, inputs: 1000, batch: 100, checkEvery: 2 })
    t.comment(JSON.stringify(f))
    t.is(f.runs, 1000, 'every entry appended')
    t.ok(f.refused > 900, `${f.refused} skipped with a code`)
    // a mutation apply takes must be a real entry again (say, a byte mutation that added a space)
    t.is(f.acceptedOther, 0, `what apply took (${f.accepted}) is real entries again`)
    t.is(f.crashes, 0, 'no base failed')
    t.is(f.hangs, 0, 'every round converged')
    t.is(f.divergent, 0, `same view hash and the same skips on the three ${where}`)
  })
}
