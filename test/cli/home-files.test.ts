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

test('onion-service prints the torrc lines for the direct port, and needs a fixed one', async (t) => {
  const h = tmpHome(t, 'onion')
  const r = await conclave(['--home', h, 'onion-service', '--direct-port', '4711'])
  t.is(r.code, 0, r.stderr)
  t.ok(r.stdout.includes('HiddenServiceDir /var/lib/tor/conclave/\n'), 'HiddenServiceDir')
  t.ok(
    r.stdout.includes('HiddenServicePort 4711 127.0.0.1:4711\n'),
    'HiddenServicePort → the loopback listener'
  )
  t.ok(
    r.stdout.includes('conclave run --onion --socks5 127.0.0.1:9050 --direct-port 4711'),
    'and the run line'
  )
  const none = await conclave(['--home', h, 'onion-service'])
  t.is(none.code, 2, 'no port: usage error')
  t.ok(none.stderr.startsWith('CLI_USAGE'), none.stderr)
})
