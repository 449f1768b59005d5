import test from 'brittle'
import { runCrash } from './crash.js'

test('crash: 20 SIGKILLs of a worker writing acknowledged entries lose none, and every start opens the store', async (t) => {
  // stallMs: this process is blocked just before each kill, so the worker's last reports are heard only after it
  const f = await runCrash({ seed: 20, kills: 20, maxDelayMs: 2000, stallMs: 300 })
  t.comment(JSON.stringify(f))
  t.is(f.runs, 21, 'twenty killed starts and a last one that checks')
  t.ok((f.acknowledged as number) > 0, `${String(f.acknowledged)} entries acknowledged`)
  t.ok((f.killsWhileWriting as number) > 0, 'some kills came while it was writing')
  t.is(f.lost, 0, 'no acknowledged entry lost')
  t.is(f.failedOpens, 0, 'every start opened the store')
})

test('crash: a worker that acknowledges entries it never appended is caught', async (t) => {
  const f = await runCrash({ seed: 3, kills: 1, minDelayMs: 4000, maxDelayMs: 4500, lie: true })
  t.comment(JSON.stringify(f))
  t.is(f.killsWhileWriting, 1, 'killed while writing')
  t.ok((f.acknowledged as number) >= 10, `${String(f.acknowledged)} entries acknowledged`)
  t.ok((f.lost as number) > 0, `${String(f.lost)} acknowledged entries counted lost`)
  t.is(f.failedOpens, 0, 'every start opened the store')
})
