import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'brittle'
import { readRuntime, readToken } from '../../src/node/runtime-file.js'

/**
 * Network namespaces for the gateway tests: a LAN (where the node runs), a
 * gateway between LAN and WAN, and a WAN host. Addresses exist only inside
 * these namespaces; nothing is routed off the machine.
 *
 *   lan  cl0 10.201.0.2/24  ── veth ──  cg0 10.201.0.1/24  gw  wan0 10.202.0.1/24 ── veth ── cw0 10.202.0.2/24  wan
 *
 * The gateway also holds its public address 192.0.1.1 on wan0 (the one
 * miniupnpd reports), and the WAN host routes it through the gateway, so a
 * WAN host can dial the address a node publishes after a port window. The
 * LAN is not routed from the WAN: only what the gateway forwards reaches it.
 */
export interface GatewayNet {
  lan: string
  gw: string
  wan: string
  lanIp: string
  gwLanIp: string
  gwWanIp: string
  wanIp: string
  /** The gateway's public address (on wan0, reported by miniupnpd as its external IP). */
  extIp: string
  /** argv prefix that runs a command in a namespace: ['ip', 'netns', 'exec', ns]. */
  exec(ns: string): string[]
}

function sh(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' })
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` }
}

function must(args: string[]): string {
  const r = sh(args)
  if (!r.ok) throw new Error(`${args.join(' ')}: ${r.out}`)
  return r.out
}

/**
 * Brittle's options for a test that cannot run where `why` is set: skipped, and
 * said where the run's output shows it — reported as skipped, never as passed.
 */
export function skipWhen(name: string, why: string | null): { skip: boolean } {
  if (why !== null) {
    console.log(`# SKIPPED: ${name}: ${why}`)
    console.error(`SKIPPED: ${name}: ${why}`)
  }
  return { skip: why !== null }
}

/** Why the namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(tools: string[] = []): string | null {
  if (process.getuid?.() !== 0) return 'not root: creating network namespaces needs CAP_NET_ADMIN'
  for (const tool of ['ip', ...tools]) {
    if (!sh(['sh', '-c', `command -v ${tool}`]).ok)
      return `${tool} is not installed (scripts/system-deps.sh installs it)`
  }
  const probe = `cvprobe${randomBytes(3).toString('hex')}`
  const r = sh(['ip', 'netns', 'add', probe])
  if (!r.ok) return `ip netns add failed: ${r.out.trim()}`
  sh(['ip', 'netns', 'delete', probe])
  return null
}

export function createGatewayNet(t: Test): GatewayNet {
  const id = randomBytes(3).toString('hex')
  const net: GatewayNet = {
    lan: `cvlan${id}`,
    gw: `cvgw${id}`,
    wan: `cvwan${id}`,
    lanIp: '10.201.0.2',
    gwLanIp: '10.201.0.1',
    gwWanIp: '10.202.0.1',
    wanIp: '10.202.0.2',
    extIp: '192.0.1.1',
    exec: (ns) => ['ip', 'netns', 'exec', ns]
  }
  for (const ns of [net.lan, net.gw, net.wan]) {
    must(['ip', 'netns', 'add', ns])
    t.teardown(() => void sh(['ip', 'netns', 'delete', ns]), { order: Number.POSITIVE_INFINITY })
  }
  must(['ip', 'link', 'add', 'cl0', 'netns', net.lan, 'type', 'veth', 'peer', 'name', 'cg0', 'netns', net.gw])
  must([
    'ip',
    'link',
    'add',
    'cw0',
    'netns',
    net.wan,
    'type',
    'veth',
    'peer',
    'name',
    'wan0',
    'netns',
    net.gw
  ])
  const cmds: string[][] = [
    ['-n', net.lan, 'addr', 'add', `${net.lanIp}/24`, 'dev', 'cl0'],
    ['-n', net.gw, 'addr', 'add', `${net.gwLanIp}/24`, 'dev', 'cg0'],
    ['-n', net.gw, 'addr', 'add', `${net.gwWanIp}/24`, 'dev', 'wan0'],
    ['-n', net.gw, 'addr', 'add', `${net.extIp}/32`, 'dev', 'wan0'],
    ['-n', net.wan, 'addr', 'add', `${net.wanIp}/24`, 'dev', 'cw0'],
    ['-n', net.lan, 'link', 'set', 'lo', 'up'],
    ['-n', net.gw, 'link', 'set', 'lo', 'up'],
    ['-n', net.wan, 'link', 'set', 'lo', 'up'],
    ['-n', net.lan, 'link', 'set', 'cl0', 'up'],
    ['-n', net.gw, 'link', 'set', 'cg0', 'up'],
    ['-n', net.gw, 'link', 'set', 'wan0', 'up'],
    ['-n', net.wan, 'link', 'set', 'cw0', 'up'],
    ['-n', net.lan, 'route', 'add', 'default', 'via', net.gwLanIp],
    ['-n', net.wan, 'route', 'add', `${net.extIp}/32`, 'via', net.gwWanIp]
  ]
  for (const c of cmds) must(['ip', ...c])
  must([...net.exec(net.gw), 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  return net
}

/** A child process in a namespace, killed (by its pid) when the test ends. */
export function spawnIn(
  t: Test,
  net: GatewayNet,
  ns: string,
  argv: string[]
): { proc: ChildProcess; output: () => string } {
  const proc = spawn(net.exec(ns)[0]!, [...net.exec(ns).slice(1), ...argv], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  t.teardown(
    async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      await new Promise((r) => {
        const timer = setTimeout(() => {
          proc.kill('SIGKILL')
          r(null)
        }, 3000)
        proc.once('exit', () => {
          clearTimeout(timer)
          r(null)
        })
      })
    },
    { order: -2 }
  )
  return { proc, output: () => out }
}

const NFT_TABLE = 'cvupnp'

/**
 * Debian's miniupnpd (nftables backend) on the gateway: UPnP IGD on the LAN
 * side (SSDP + SOAP on port 5000) and NAT-PMP on 5351, forwarding from wan0.
 * It declares the public address the gateway holds on wan0 as its external
 * address (it refuses to map behind a private WAN address only).
 */
export async function startMiniupnpd(
  t: Test,
  net: GatewayNet,
  dir: string
): Promise<{ output: () => string }> {
  const nft = join(dir, 'init.nft')
  writeFileSync(
    nft,
    `table inet ${NFT_TABLE} {
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`
  )
  must([...net.exec(net.gw), 'nft', '-f', nft])
  const conf = join(dir, 'miniupnpd.conf')
  writeFileSync(
    conf,
    [
      'ext_ifname=wan0',
      `ext_ip=${net.extIp}`,
      'listening_ip=cg0',
      'http_port=5000',
      'enable_natpmp=yes',
      'enable_upnp=yes',
      'secure_mode=yes',
      'min_lifetime=1',
      `upnp_table_name=${NFT_TABLE}`,
      `upnp_nat_table_name=${NFT_TABLE}`,
      `lease_file=${join(dir, 'leases')}`,
      'system_uptime=no',
      'uuid=3e8b5a4c-1111-4222-8333-123456789abc',
      'allow 1024-65535 10.201.0.0/24 1024-65535',
      'deny 0-65535 0.0.0.0/0 0-65535',
      ''
    ].join('\n')
  )
  // its own pid file: the default (/var/run/miniupnpd.pid) would keep a second gateway from starting
  const d = spawnIn(t, net, net.gw, ['miniupnpd', '-f', conf, '-d', '-P', join(dir, 'miniupnpd.pid')])
  const deadline = Date.now() + 10_000
  while (!/Listening for NAT-PMP/.test(d.output())) {
    if (d.proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`miniupnpd did not start:\n${d.output()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { output: d.output }
}

/** The TCP ports miniupnpd forwards now (its DNAT rules in the gateway's nftables), with their target. */
export function forwardedPorts(net: GatewayNet): Map<number, string> {
  const out = new Map<number, string>()
  const r = sh([...net.exec(net.gw), 'nft', 'list', 'chain', 'inet', NFT_TABLE, 'prerouting_miniupnpd'])
  for (const m of r.out.matchAll(/dport (\d+) dnat ip to ([\d.]+:\d+)/g)) out.set(Number(m[1]), m[2]!)
  return out
}

/**
 * A TCP connection from namespace `ns` to `host:port`: 'connected', the
 * error code (ECONNREFUSED, …) or 'timeout' after `timeoutMs`.
 */
export function tcpConnect(
  net: GatewayNet,
  ns: string,
  host: string,
  port: number,
  timeoutMs = 1500
): string {
  const r = spawnSync(
    'ip',
    [
      ...net.exec(ns).slice(1),
      process.execPath,
      '-e',
      `const s=require('net').connect(${port},${JSON.stringify(host)});` +
        `s.on('connect',()=>{console.log('connected');process.exit()});` +
        `s.on('error',e=>{console.log(e.code);process.exit()});` +
        `setTimeout(()=>{console.log('timeout');process.exit()},${timeoutMs})`
    ],
    { encoding: 'utf8' }
  )
  return r.stdout.trim() || `no answer: ${r.stderr.trim()}`
}

/**
 * A firewall of its own in namespace `ns`: new incoming connections from
 * other hosts are rejected (loopback stays open), as for a phone behind its
 * carrier's NAT; connections it opens itself work.
 */
export function refuseInbound(net: GatewayNet, ns: string): void {
  const r = spawnSync(net.exec(ns)[0]!, [...net.exec(ns).slice(1), 'nft', '-f', '-'], {
    input: `table inet cvinbound {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "lo" accept
    ct state new reject
  }
}
`,
    encoding: 'utf8'
  })
  if (r.status !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`)
}

/** Cuts every TCP connection in namespace `ns` to or from `peerIp` (ss -K: both ends see a reset). */
export function cutTcp(net: GatewayNet, ns: string, peerIp: string): void {
  must([...net.exec(ns), 'ss', '-K', 'dst', peerIp])
}

/** Calls a node's local API; throws on any answer but 200. */
export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>

/**
 * The local API of a node running in namespace `ns` on `home` (it listens on
 * that namespace's loopback): a relay in the namespace joins a Unix socket in
 * `dir` to it, so a call costs no process (as `conclave status` would).
 */
export async function apiIn(
  t: Test,
  net: GatewayNet,
  ns: string,
  home: string,
  dir: string
): Promise<ApiCall> {
  const runtime = readRuntime(home)
  const token = readToken(home)
  if (!runtime || !token) throw new Error(`no runtime file in ${home}`)
  const socketPath = join(dir, `api-${runtime.port}.sock`)
  const relay = spawnIn(t, net, ns, [
    process.execPath,
    '-e',
    `const net=require('net');net.createServer(c=>{const u=net.connect(${runtime.port},'127.0.0.1');` +
      `c.pipe(u).pipe(c);u.on('error',()=>c.destroy());c.on('error',()=>u.destroy())})` +
      `.listen(${JSON.stringify(socketPath)},()=>console.log('relay ready'))`
  ])
  const deadline = Date.now() + 10_000
  while (!relay.output().includes('relay ready')) {
    if (relay.proc.exitCode !== null || Date.now() > deadline) throw new Error(`API relay: ${relay.output()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return <T>(method: string, path: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const data = body === undefined ? null : Buffer.from(JSON.stringify(body))
      const req = http.request(
        {
          socketPath,
          path,
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {})
          }
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d) => (text += d))
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
            else resolve(JSON.parse(text) as T)
          })
        }
      )
      req.on('error', reject)
      req.end(data ?? undefined)
    })
}
