import { loadConfig } from '../../src/kernel/config.js'
import { KernelErrors } from '../../src/kernel/errors.js'
import { type Command, parse, println } from '../cli.js'

export const onionService: Command = {
  name: 'onion-service',
  summary: "print the torrc lines that publish this node's direct listener as a Tor onion service",
  usage: 'conclave onion-service [--direct-port P] [--dir PATH]',
  help: `Prints the two torrc lines (HiddenServiceDir, HiddenServicePort) that make Tor publish
this node's direct listener as an onion service, then the run flags that use it. The
listener must have a fixed port: --direct-port, else CONCLAVE_DIRECT_PORT or directPort
in HOME/config.json.

  --direct-port P   the direct listener's port (1-65535)
  --dir PATH        Tor's folder for the service keys (default /var/lib/tor/conclave/)

After restarting Tor, HiddenServiceDir/hostname holds the onion name; run the node with
  conclave run --onion --socks5 127.0.0.1:9050 --direct-port P --direct-address NAME.onion:P`,
  async run(ctx) {
    const { values } = parse(ctx.argv, { 'direct-port': { type: 'string' }, dir: { type: 'string' } })
    const config = loadConfig({
      home: ctx.home,
      env: ctx.env,
      flags: values['direct-port'] !== undefined ? { directPort: values['direct-port'] } : {}
    })
    const port = config.directPort
    if (port === 0)
      throw KernelErrors.CLI_USAGE(
        'an onion service needs a fixed direct port: give --direct-port P (1-65535)'
      )
    const dir = values.dir ?? '/var/lib/tor/conclave/'
    if (/[\s#]/.test(dir)) throw KernelErrors.CLI_USAGE('--dir must not contain spaces or #')
    println(ctx, `HiddenServiceDir ${dir}`)
    println(ctx, `HiddenServicePort ${port} 127.0.0.1:${port}`)
    println(ctx)
    println(
      ctx,
      `# then: conclave run --onion --socks5 127.0.0.1:9050 --direct-port ${port} --direct-address $(cat ${dir.replace(/\/?$/, '/')}hostname):${port}`
    )
    return 0
  }
}
