import { loadConfig } from '../../src/kernel/config.js'
import { hasIdentity, identityFromSeed, writeIdentity } from '../../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../../src/kernel/identity/mnemonic.js'
import { type LocalApi, listenLocalApi } from '../../src/http/listen.js'
import { ConclaveNode } from '../../src/node/node.js'
import { type Command, parse, println } from '../cli.js'

export const run: Command = {
  name: 'run',
  summary: 'start the node (initialises an empty home first) and print the login link',
  usage:
    'conclave run [--port P] [--bootstrap HOST:PORT,…] [--role access,relay] [--socks5 HOST:PORT] [--no-indexer]',
  help: `Starts this device's node: opens the store, the cluster log, the swarm and the local
HTTP API on 127.0.0.1, then prints the login link. Runs until Ctrl-C (SIGINT) or SIGTERM.
An empty home is initialised first (the 24 words are printed once).

  --port P              local API port (0 = any free port, printed; default 0)
  --bootstrap H:P,…     DHT bootstrap nodes instead of the public ones (tests: a local testnet)
  --role access,relay   this device's roles (default both)
  --socks5 H:P          dial direct connections through a SOCKS5 proxy
  --no-indexer          do not index (phones and other often-offline devices)`,
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
      println(
        ctx,
        'This home was empty: created a new account. Your recovery words (shown once, write them down):'
      )
      println(ctx, mnemonic)
      println(ctx)
    }
    const node = new ConclaveNode({ config })
    await node.ready()
    let api: LocalApi
    try {
      api = await listenLocalApi({
        api: node,
        home: config.home,
        host: config.api.host,
        port: config.api.port,
        allowNonLoopback: config.api.allowNonLoopback,
        log: node.log
      })
    } catch (err) {
      await node.close()
      throw err
    }
    const status = await node.status()
    println(
      ctx,
      `conclave node running: account ${status.accountId}, device ${status.device} (${status.deviceId})`
    )
    println(ctx, `open ${api.loginUrl}`)
    println(ctx, `api ${api.url}`)
    println(ctx, 'ready')

    await new Promise<void>((resolve) => {
      let closing = false
      const stop = (signal: string) => {
        if (closing) return
        closing = true
        println(ctx, `${signal}: closing`)
        api
          .close()
          .catch(() => {})
          .then(() => node.close())
          .then(resolve, (err) => {
            ctx.stderr.write(`error while closing: ${(err as Error).message}\n`)
            resolve()
          })
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    })
    // a DHT socket or timer left by a dependency must not keep a stopped node alive
    setTimeout(() => process.exit(0), 200)
    return 0
  }
}
