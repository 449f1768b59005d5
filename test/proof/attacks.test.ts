import test from 'brittle'
import { runAttacks } from './attacks.js'

test('attacks: forged certificates and invites, a revoked device, unknown keys, a forked core, tampered archives, forged HTTP requests are all refused', async (t) => {
  const f = await runAttacks({ seed: 3, archives: 200 })
  t.comment(JSON.stringify(f))
  for (const c of f.cases) {
    t.ok(c.attempts > 0, `${c.name}: attempted`)
    t.is(
      c.refused,
      c.attempts,
      `${c.name}: ${c.refused}/${c.attempts} refused ${JSON.stringify(c.codes)}${c.notes ? ` (${c.notes})` : ''}`
    )
  }
  t.is(f.crashes, 0, `no step failed ${JSON.stringify(f.failures)}`)
  t.is(f.cases.length, 9, 'every case ran')
})
