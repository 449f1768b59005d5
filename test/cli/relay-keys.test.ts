import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { xwingPublicKeyFromSecret } from '../../src/kernel/crypto/xwing.js'
import { hex } from '../../src/kernel/encoding.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import { startNode, statusOf } from '../helpers/node-process.js'
import { createTestnet } from '../helpers/testnet.js'

const secretsOf = (home: string) => JSON.parse(readFileSync(join(home, 'secrets.json'), 'utf8'))

test('a relay keeps public keys only: its X-Wing secret is dropped at start, and the access role is refused', async (t) => {
  const net = await createTestnet(t, 3)
  const home = join(tmpHome(t, 'relay'), 'h')
  t.is(
    (await conclave(['--home', home, 'init', '--no-keep-root', '--json'])).code,
    0,
    'init without the root'
  )
  const before = secretsOf(home)
  const secret: string = before.device.xwingSecretKey
  t.ok(secret, 'a new home has its X-Wing secret')

  const relay = await startNode(t, home, { bootstrap: net.bootstrapFlag, args: ['--role', 'relay'] })
  t.is(await relay.stop(), 0, 'the relay ran and stopped')
  const after = secretsOf(home)
  t.is(after.device.xwingSecretKey, undefined, 'the secret is gone from secrets.json')
  t.is(
    after.device.xwingPublicKey,
    hex(xwingPublicKeyFromSecret(Buffer.from(secret, 'hex'))),
    'its public key stays'
  )
  t.is(after.device.signingSecretKey, before.device.signingSecretKey, 'the other keys are kept')
  t.absent(readFileSync(join(home, 'secrets.json'), 'utf8').includes(secret), 'no trace of the secret')

  const again = await startNode(t, home, { bootstrap: net.bootstrapFlag })
  t.alike((await statusOf(again)).roles, ['relay'], 'without --role it runs as a relay')
  await again.stop()

  const access = await conclave([
    '--home',
    home,
    'run',
    '--port',
    '0',
    ...['--bootstrap', net.bootstrapFlag],
    '--role',
    'access'
  ])
  t.is(access.code, 1, 'asked to run with the access role, it refuses')
  t.ok(/^NODE_RELAY_ONLY:/m.test(access.stderr), access.stderr.trim())
  t.alike(secretsOf(home), after, 'and changes nothing')
})
