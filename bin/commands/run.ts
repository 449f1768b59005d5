import { loadConfig } from '../../src/kernel/config.js'
import { KernelErrors } from '../../src/kernel/errors.js'
import {
  hasIdentity,
  identityFromSeed,
  loadIdentity,
  writeIdentity
} from '../../src/kernel/identity/home-store.js'
import { createLogger } from '../../src/kernel/log.js'
import { generateMnemonic, mnemonicToSeed } from '../../src/kernel/identity/mnemonic.js'
import { type LocalApi, listenLocalApi } from '../../src/http/listen.js'
import { ConclaveNode } from '../../src/node/node.js'
import { type RecoveryProgress, recoverDevice } from '../../src/node/recover.js'
import { type Command, parse, println } from '../cli.js'
import { releaseYoungGeneration } from '../young-generation.js'

export const run: Command = {
  name: 'run',
  summary: 'start the node (initialises an empty home first) and print the login link',
  usage:
    'conclave run [--port P] [--bootstrap HOST:PORT,…] [--role access,relay] [--socks5 HOST:PORT] [--direct-port P] [--direct-address HOST:PORT] [--no-indexer] [--copies N] [--copies-timeout S] [--port-windows] [--window-seconds W] [--slot-seconds S] [--gateway IP] [--gateway-protocol auto|upnp|natpmp] [--onion]',
  help: `Starts this device's node: opens the store, the cluster log, the swarm and the local
HTTP API on 127.0.0.1, then prints the login link. Runs until Ctrl-C (SIGINT) or SIGTERM.
An empty home is initialised first (the 24 words are printed once).

  --port P              local API port (0 = any free port, printed; default 0)
  --bootstrap H:P,…     DHT bootstrap nodes instead of the public ones (tests: a local testnet)
  --role access,relay   this device's roles (default both; relay only on a home that
                        joined as a relay and keeps public keys only)
  --socks5 H:P          dial direct connections through a SOCKS5 proxy (e.g. Tor at
                        127.0.0.1:9050; names, .onion too, are resolved by the proxy)
  --direct-port P       TCP port for direct connections from other devices (default 0:
                        the port of the last run if free, else any free port)
  --direct-address H:P  the address other devices should dial, when it is not the
                        listening one (a port forward, a DNS name, a .onion service)
  --port-windows        map the direct port at the gateway (UPnP IGD or NAT-PMP) only
                        inside short windows every own device computes alike from the
                        cluster key (default off; docs/network.md, "Port windows")
  --window-seconds W    window length (default 30; must exceed twice the worst clock
                        offset by 1 s, status warns otherwise)
  --slot-seconds S      one window somewhere in every S seconds (default 600)
  --gateway IP          the gateway's IPv4 address (default: SSDP multicast for UPnP,
                        the default route for NAT-PMP)
  --gateway-protocol P  auto (UPnP, then NAT-PMP; default), upnp or natpmp
  --onion               Tor onion mode: needs --socks5 (an IP literal) and
                        --direct-address xyz.onion:PORT; no DHT, listens on loopback,
                        resolves no name here ("conclave onion-service" prints the torrc lines)
  --no-indexer          do not index (phones and other often-offline devices)
  --copies N            nodes (this one included) that must hold a message before
                        it is acknowledged (default 2; 1 = as soon as it is stored here)
  --copies-timeout S    how long a post waits for them (default 15)
  --recover-timeout S   on a recovered home: how long to look for the account's
                        other devices before giving up (default 120)

A home made by "conclave recover" is first recovered: the node finds the account's
other devices with the seed alone, moves this device to a new writer epoch, and
downloads the cluster log (progress on stderr) before it starts.`,
  async run(ctx) {
    const { values } = parse(ctx.argv, {
      port: { type: 'string' },
      bootstrap: { type: 'string' },
      role: { type: 'string' },
      socks5: { type: 'string' },
      'direct-port': { type: 'string' },
      'direct-address': { type: 'string' },
      'no-indexer': { type: 'boolean' },
      copies: { type: 'string' },
      'copies-timeout': { type: 'string' },
      'recover-timeout': { type: 'string' },
      'port-windows': { type: 'boolean' },
      'window-seconds': { type: 'string' },
      'slot-seconds': { type: 'string' },
      gateway: { type: 'string' },
      'gateway-protocol': { type: 'string' },
      onion: { type: 'boolean' }
    })
    const recoverTimeout = values['recover-timeout']
    if (recoverTimeout !== undefined && !/^\d{1,6}$/.test(recoverTimeout))
      throw KernelErrors.CLI_USAGE('--recover-timeout takes a whole number of seconds')
    let config = loadConfig({
      home: ctx.home,
      env: ctx.env,
      flags: {
        ...(values.port !== undefined ? { port: values.port } : {}),
        ...(values.bootstrap !== undefined ? { bootstrap: values.bootstrap } : {}),
        ...(values.role !== undefined ? { role: values.role } : {}),
        ...(values.socks5 !== undefined ? { socks5: values.socks5 } : {}),
        ...(values['direct-port'] !== undefined ? { directPort: values['direct-port'] } : {}),
        ...(values['direct-address'] !== undefined ? { directAddress: values['direct-address'] } : {}),
        ...(values['no-indexer'] ? { indexer: 'false' } : {}),
        ...(values.copies !== undefined ? { copies: values.copies } : {}),
        ...(values['copies-timeout'] !== undefined ? { copiesTimeout: values['copies-timeout'] } : {}),
        ...(values['port-windows'] ? { portWindows: 'true' } : {}),
        ...(values['window-seconds'] !== undefined ? { windowSeconds: values['window-seconds'] } : {}),
        ...(values['slot-seconds'] !== undefined ? { slotSeconds: values['slot-seconds'] } : {}),
        ...(values.gateway !== undefined ? { gateway: values.gateway } : {}),
        ...(values['gateway-protocol'] !== undefined ? { gatewayProtocol: values['gateway-protocol'] } : {}),
        ...(values.onion ? { onion: 'true' } : {})
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
    const { identity, secrets } = loadIdentity(config.home)
    if (identity.recovered) {
      // a recovery downloads everything: the young generation may grow for it
      releaseYoungGeneration()
      const log = createLogger(config.logLevel)
      const bar = progressBar(ctx.stderr)
      println(ctx, "recovering this device from its seed: looking for the account's other devices…")
      const r = await recoverDevice({
        config,
        log,
        ...(recoverTimeout !== undefined ? { searchTimeoutMs: Number(recoverTimeout) * 1000 } : {}),
        onProgress: bar.update
      })
      bar.end()
      println(
        ctx,
        `recovered device ${r.device} (${r.deviceId}): writer epoch ${r.previousEpoch} → ${r.epoch}, ` +
          `${r.cores} cores, ${formatBytes(r.bytes)} downloaded in ${(r.ms / 1000).toFixed(1)} s`
      )
      if (!r.final) println(ctx, `warning: ${r.notFinal ?? 'the cluster view is not final yet'}`)
    }
    if (
      values.role === undefined &&
      ctx.env.CONCLAVE_ROLE === undefined &&
      config.roles.includes('access') &&
      // recovery rewrites the secrets from the seed, which never leaves this one out
      secrets.device.xwingSecretKey === undefined
    ) {
      // a home that joined as a relay keeps public keys only: it runs as a relay unless told otherwise
      config = { ...config, roles: ['relay'] }
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
    if (status.direct.listen) println(ctx, `direct ${status.direct.listen}`)
    println(ctx, 'ready')
    releaseYoungGeneration()

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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

/**
 * Recovery progress on stderr: a bar redrawn in place on a terminal, a
 * line per phase change or every two seconds otherwise (logs, tests).
 */
function progressBar(out: NodeJS.WritableStream): { update: (p: RecoveryProgress) => void; end: () => void } {
  const tty = (out as { isTTY?: boolean }).isTTY === true
  let lastLine = 0
  let lastStep = ''
  let drawn = false
  let finished = false
  const complete = (p: RecoveryProgress) =>
    p.phase === 'downloading' && p.cores.total > 0 && p.cores.done === p.cores.total
  return {
    update(p) {
      const frac =
        p.phase !== 'downloading'
          ? 0
          : p.bytes.total > 0
            ? Math.min(1, p.bytes.done / p.bytes.total)
            : p.cores.total > 0
              ? p.cores.done / p.cores.total
              : 0
      const width = 24
      const filled = Math.round(frac * width)
      const bar = p.cores.total > 0
      const text =
        p.phase === 'searching'
          ? `${p.step}… ${p.peers} device(s) connected`
          : p.phase === 'downloading' && bar
            ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(frac * 100)}% ` +
              `${p.cores.done}/${p.cores.total} cores, ${formatBytes(p.bytes.done)} / ${formatBytes(p.bytes.total)}`
            : `${p.step}…`
      const now = Date.now()
      // a line per step: a run that stops somewhere shows where
      const key = `${p.phase}:${p.step}`
      if (tty) {
        out.write(`\r\x1b[2K${text}`)
        drawn = true
      } else if (key !== lastStep || now - lastLine >= 2000 || (complete(p) && !finished)) {
        finished = complete(p)
        out.write(`recovery: ${text}\n`)
        lastLine = now
      }
      lastStep = key
    },
    end() {
      if (tty && drawn) out.write('\n')
    }
  }
}
