import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import { randomBytes } from '../../src/kernel/crypto/hash.js'
import { silentLogger } from '../../src/kernel/log.js'
import { BLIND_CORES_FILE, BlindCores } from '../../src/node/blind-cores.js'
import { tmpDir } from '../helpers/tmp.js'
import { until } from '../helpers/wait.js'
import { connectStores as connect } from '../substrate/helpers.js'

async function store(t: Test, dir: string): Promise<Corestore> {
  const s = new Corestore(dir)
  await s.ready()
  t.teardown(() => s.close(), { order: 10 })
  return s
}

test('a relay keeps encrypted cores it cannot read: all blocks, later appends, and after a restart', async (t) => {
  const owner = await store(t, await tmpDir(t, 'conclave-blind-owner-'))
  const home = await tmpDir(t, 'conclave-blind-relay-')
  const relayStore = await store(t, join(home, 'store'))
  const core = owner.get({ name: 'writer', encryption: { key: randomBytes(32) } })
  await core.ready()
  await core.append([Buffer.from('plain words one'), Buffer.from('plain words two')])
  const key = core.key.toString('hex')
  connect(owner, relayStore)

  const blind = new BlindCores({ store: relayStore, home, log: silentLogger })
  await blind.ready()
  t.is(await blind.add([key, key]), 1, 'one new core (a key given twice counts once)')
  t.is(await blind.add([key]), 0, 'held already')
  const held = relayStore.get({ key: core.key })
  await held.ready()
  await until('the relay has both blocks', () => held.contiguousLength === 2)
  const block = await held.get(0)
  t.absent(block!.toString('utf8').includes('plain words'), 'what it holds is ciphertext')
  await core.append(Buffer.from('plain words three'))
  await until('and the one appended later', () => held.contiguousLength === 3)
  await held.close()
  t.alike(JSON.parse(readFileSync(join(home, BLIND_CORES_FILE), 'utf8')), { v: 1, cores: [key] }, 'listed')
  await blind.close()

  const again = new BlindCores({ store: relayStore, home, log: silentLogger })
  await again.ready()
  t.alike(again.keys(), [key], 'held again after a restart')
  await again.close()
})

test('a broken list is learned again, never a failed start', async (t) => {
  const home = await tmpDir(t, 'conclave-blind-broken-')
  const relayStore = await store(t, join(home, 'store'))
  writeFileSync(join(home, BLIND_CORES_FILE), '{"v":1,"cores":["zz"]}')
  const blind = new BlindCores({ store: relayStore, home, log: silentLogger })
  await blind.ready()
  t.alike(blind.keys(), [], 'nothing held')
  const key = randomBytes(32).toString('hex')
  t.is(await blind.add([key]), 1)
  t.alike(JSON.parse(readFileSync(join(home, BLIND_CORES_FILE), 'utf8')).cores, [key], 'rewritten')
  await blind.close()
})
