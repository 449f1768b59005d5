import { join } from 'node:path'
import type { Test } from 'brittle'
import { loadConfig } from '../../src/kernel/config.js'
import { identityFromSeed, writeIdentity } from '../../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../../src/kernel/identity/mnemonic.js'
import { ConclaveNode } from '../../src/node/node.js'
import { tmpHome } from './cli.js'

/**
 * A real ConclaveNode in this process (real store, real swarm on the given
 * bootstrap or none at all), closed at teardown. For tests of the HTTP layer
 * with app.inject(); end-to-end tests use separate processes instead.
 */
export async function inProcessNode(
  t: Test,
  opts: { bootstrap?: string; mnemonic?: string } = {}
): Promise<{ node: ConclaveNode; home: string; mnemonic: string }> {
  const home = join(tmpHome(t, 'node'), 'h')
  const mnemonic = opts.mnemonic ?? generateMnemonic()
  const { identity, secrets } = identityFromSeed(mnemonicToSeed(mnemonic), { device: 0 })
  writeIdentity(home, identity, secrets)
  // an empty bootstrap list: an isolated DHT, as on a machine with no network
  const config = loadConfig({ home, env: {}, flags: { bootstrap: opts.bootstrap ?? '127.0.0.1:1' } })
  const node = new ConclaveNode({ config, log: (await import('../../src/kernel/log.js')).silentLogger })
  await node.ready()
  t.teardown(() => node.close(), { order: 0 })
  return { node, home, mnemonic }
}
