import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import type { StatusReport } from '../../src/node/node-api.js'
import { tmpHome } from '../helpers/cli.js'
import { netnsUnavailable, skipWhen } from '../helpers/netns.js'
import { eventually, startNode } from '../helpers/node-process.js'

function must(args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`)
}

const skip = skipWhen('e2e/onion', netnsUnavailable(['microsocks', 'tcpdump', 'nsenter']))

/**
 * The node runs in a network namespace whose default route leads out of a
 * veth (to a static neighbour), so any DNS query it made would leave on the
 * wire, where tcpdump watches port 53. The SOCKS5 proxy (microsocks, standing
 * in for Tor, which cannot reach its network here) runs in the same
 * namespace through `ip netns exec`, which gives it a hosts file naming the
 * onion address; the node runs through `nsenter`, which does not: had the
 * node resolved the name itself, the query would show in the capture.
 */
test(
  'onion mode: dials an onion name through SOCKS5 and no DNS query leaves the node',
  { timeout: 120_000, ...skip },
  async (t) => {
    const ns = `cvtor${randomBytes(3).toString('hex')}`
    must(['ip', 'netns', 'add', ns])
    t.teardown(() => void spawnSync('ip', ['netns', 'delete', ns]), { order: Number.POSITIVE_INFINITY })
    must(['ip', 'link', 'add', 'tv0', 'netns', ns, 'type', 'veth', 'peer', 'name', 'tv1', 'netns', ns])
    for (const c of [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', '10.203.0.1/24', 'dev', 'tv0'],
      ['link', 'set', 'tv0', 'up'],
      ['link', 'set', 'tv1', 'up'],
      ['route', 'add', 'default', 'via', '10.203.0.2'],
      ['neigh', 'add', '10.203.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'tv0']
    ])
      must(['ip', '-n', ns, ...c])
    const onion = `${randomBytes(35)
      .toString('hex')
      .slice(0, 56)
      .replace(/[0189]/g, 'a')}.onion`
    const etc = join('/etc/netns', ns)
    mkdirSync(etc, { recursive: true })
    t.teardown(() => rmSync(etc, { recursive: true, force: true }), { order: Number.POSITIVE_INFINITY })
    writeFileSync(join(etc, 'hosts'), `127.0.0.1 localhost\n127.0.0.1 ${onion}\n`)

    const inNs = ['ip', 'netns', 'exec', ns]
    const nodeNs = ['nsenter', `--net=/run/netns/${ns}`]
    const procs: Array<{ kill: () => void }> = []
    t.teardown(() => procs.forEach((p) => p.kill()), { order: -2 })
    const run = (argv: string[]) => {
      const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      p.stdout.on('data', (d: Buffer) => (out += d))
      p.stderr.on('data', (d: Buffer) => (out += d))
      procs.push({ kill: () => p.kill('SIGTERM') })
      return { output: () => out, proc: p }
    }

    const capture = run([...inNs, 'tcpdump', '-i', 'any', '-n', '-l', '-U', 'port 53'])
    await eventually('tcpdump listening', async () => /listening on/.test(capture.output()), 10_000, 50)
    run([...inNs, 'microsocks', '-i', '127.0.0.1', '-p', '1080'])
    await eventually('microsocks', async () => canConnect(nodeNs, 1080), 10_000, 100)
    const queries = () =>
      capture
        .output()
        .split('\n')
        .filter((l) => / (A|AAAA)\? /.test(l))

    // 1. the direct transport dials the onion name through the proxy
    const dial = spawnSync(
      nodeNs[0]!,
      [
        ...nodeNs.slice(1),
        process.execPath,
        join(process.cwd(), 'dist', 'test', 'helpers', 'onion-dial.js'),
        '1080',
        onion
      ],
      { encoding: 'utf8', timeout: 30_000 }
    )
    const result = JSON.parse(dial.stdout.trim().split('\n').pop() ?? '{}') as {
      dialled?: boolean
      error?: string
    }
    t.ok(
      result.dialled,
      `dialled ${onion.slice(0, 12)}….onion through SOCKS5 and reached the service key${result.error ? ` (${result.error})` : ''}`
    )

    // 2. a whole node in onion mode: no DHT bootstrap names resolved either
    const home = join(tmpHome(t, 'onion'), 'h')
    const node = await startNode(t, home, {
      wrap: nodeNs,
      args: [
        '--onion',
        '--socks5',
        '127.0.0.1:1080',
        '--direct-port',
        '4711',
        '--direct-address',
        `${onion}:4711`
      ]
    })
    const s = JSON.parse((await node.cli(['status', '--json'])).stdout) as StatusReport
    t.ok(s.direct.onion, 'status: onion mode')
    t.is(s.direct.listen, '127.0.0.1:4711', 'listens on loopback for the onion service')
    t.is(s.direct.address, `${onion}:4711`, 'publishes the onion address')
    t.is(s.swarm.dhtNodes, 0, 'no DHT node contacted')
    await new Promise((r) => setTimeout(r, 2000))
    t.is(await node.stop(), 0, 'the onion-mode node exits cleanly')
    t.alike(queries(), [], 'no DNS query on the wire while dialling and running in onion mode')

    // 3. control: a lookup by the same kind of process in the same place is captured
    const control = `capture-control-${randomBytes(4).toString('hex')}.invalid`
    spawnSync(
      nodeNs[0]!,
      [...nodeNs.slice(1), process.execPath, '-e', `require('dns').lookup('${control}', () => {})`],
      {
        timeout: 10_000
      }
    )
    const seen = await eventually(
      'the control query in the capture',
      async () => queries().some((l) => l.includes(control)),
      10_000,
      100
    ).catch(() => false)
    t.ok(seen, `the capture sees a local lookup (${control})`)
    t.absent(capture.output().includes(onion), 'the onion name never appears in a DNS packet')
  }
)

function canConnect(prefix: string[], port: number): boolean {
  const r = spawnSync(
    prefix[0]!,
    [
      ...prefix.slice(1),
      process.execPath,
      '-e',
      `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`
    ],
    { timeout: 5000 }
  )
  return r.status === 0
}
