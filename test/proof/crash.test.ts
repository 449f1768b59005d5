import test from 'brittle'
import { runCrash } from './crash.js'

test('crash: 20 SIGKILLs of a worker writing acknowledged entries lose none, and every start opens the store', async (t) => {
  const f = await runCrash({ seed: 20, kills: 20, maxDelayMs: 2000 })
  t.comment(JSON.stringify(f))
  t.is(f.runs, 21, 'twenty killed starts and a last one that checks')
  t.ok((f.acknowledged as number) > 0, `${String(f.acknowledged)} entries acknowledged`)
  t.ok((f.killsWhileWriting as number) > 0, 'some kills came while it was writing')
  t.is(f.lost, 0, 'no acknowledged entry lost')
  t.is(f.failedOpens, 0, 'every start opened the store')
})
