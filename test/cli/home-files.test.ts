import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'

test('a malformed conversations.json stops `run` with NODE_FILE_INVALID and is left as it is', async (t) => {
  const home = join(tmpHome(t, 'files'), 'h')
  t.is((await conclave(['--home', home, 'init', '--json'])).code, 0)
  const file = join(home, 'conversations.json')
  for (const bad of ['{ "v": 1, "conversations": [ {', '{"v":2,"conversations":[]}', 'null']) {
    writeFileSync(file, bad, { mode: 0o600 })
    const run = await conclave(['--home', home, 'run', '--port', '0', '--bootstrap', '127.0.0.1:9'])
    t.is(run.code, 1, `refused: ${bad}`)
    t.ok(run.stderr.startsWith('NODE_FILE_INVALID:'), run.stderr.trim().split('\n')[0])
    t.is(readFileSync(file, 'utf8'), bad, 'the file is untouched')
  }
})
