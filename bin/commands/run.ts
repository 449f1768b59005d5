import { loadConfig } from '../../src/kernel/config.js'
import { hasIdentity, identityFromSeed, writeIdentity } from '../../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../../src/kernel/identity/mnemonic.js'
import { type Command, parse, println } from '../cli.js'

export const run: Command = {
  name: 'run',
  summary: 'start the node (initialises an empty home first) and print the login link',
  usage:
    'conclave run [--port P] [--bootstrap HOST:PORT,…] [--role access,relay] [--socks5 HOST:PORT] [--no-indexer]',
  async run(ctx) {
    const { values } = parse(ctx.argv, {
      port: { type: 'string' },
      bootstrap: { type: 'string' },
      role: { type: 'string' },
      socks5: { type: 'string' },
      'no-indexer': { type: 'boolean' }
    })
    const config = loadConfig({
      home: ctx.home,
      env: ctx.env,
      flags: {
        ...(values.port !== undefined ? { port: values.port } : {}),
        ...(values.bootstrap !== undefined ? { bootstrap: values.bootstrap } : {}),
        ...(values.role !== undefined ? { role: values.role } : {}),
        ...(values.socks5 !== undefined ? { socks5: values.socks5 } : {}),
        ...(values['no-indexer'] ? { indexer: 'false' } : {})
      }
    })
    if (!hasIdentity(config.home)) {
      const mnemonic = generateMnemonic()
      const { identity, secrets } = identityFromSeed(mnemonicToSeed(mnemonic), { device: 0 })
      writeIdentity(config.home, identity, secrets)
      println(ctx, 'This home was empty: created a new account. Your recovery words (shown once):')
      println(ctx, mnemonic)
    }
    println(ctx, 'the node is not available yet in this version: identity ready, nothing to run')
    return 0
  }
}
