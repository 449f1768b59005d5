import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { isIPv4 } from 'node:net'
import type { ConclaveError } from '../kernel/errors.js'
import { type Logger, silentLogger } from '../kernel/log.js'
import { NodeErrors } from './errors.js'

/**
 * Port mapping at the home gateway: UPnP IGD (SSDP search, then SOAP over
 * HTTP) and NAT-PMP (RFC 6886, UDP 5351). Written here rather than taken
 * from a package (docs/decisions/0008-port-mapping.md). Nothing here
 * resolves a name: the gateway is an IPv4 literal (configured, the SSDP
 * responder, or the default route), and a description URL naming another
 * host than the one that answered is refused. Every failure is a coded
 * NODE_GATEWAY_* error; nothing here throws anything else.
 */

export type MappingProtocol = 'upnp' | 'natpmp'

export interface Mapping {
  protocol: MappingProtocol
  /** The gateway's address (`ip:port` of its control endpoint). */
  gateway: string
  /** Our LAN address the gateway forwards to. */
  internalClient: string
  internalPort: number
  externalPort: number
  /** The lease the gateway granted, in seconds; 0 = permanent (an IGDv1 that allows no other), removed by us. */
  lifetimeS: number
}

export interface PortMapper {
  readonly protocol: MappingProtocol
  readonly gateway: string
  /** The gateway's public IPv4 address. */
  externalAddress(): Promise<string>
  /** Maps external TCP `externalPort` to our `internalPort` for `lifetimeS` seconds (≥ 1). */
  map(internalPort: number, externalPort: number, lifetimeS: number, description: string): Promise<Mapping>
  /** Removes the mapping; a mapping that is already gone is not an error. */
  unmap(internalPort: number, externalPort: number): Promise<void>
}

export interface DiscoverOptions {
  /** 'auto' tries UPnP, then NAT-PMP. */
  protocol?: MappingProtocol | 'auto'
  /** The gateway's IPv4 address: SSDP is sent there (unicast) and NAT-PMP too; null = multicast / default route. */
  gateway?: string | null
  /** Per request (SSDP wait, HTTP request, NAT-PMP retransmissions). */
  timeoutMs?: number
  log?: Logger
}

export const SSDP_ADDRESS = '239.255.255.250'
export const SSDP_PORT = 1900
export const NATPMP_PORT = 5351
const MAX_BODY_BYTES = 64 * 1024
const DEFAULT_TIMEOUT_MS = 3000
const SEARCH_TARGETS = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2'
]
const WAN_SERVICE = /^urn:schemas-upnp-org:service:(WANIPConnection|WANPPPConnection):\d+$/

/** Finds a gateway that speaks the protocol asked for; NODE_GATEWAY_* when none does. */
export async function discoverGateway(opts: DiscoverOptions = {}): Promise<PortMapper> {
  const protocol = opts.protocol ?? 'auto'
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const log = opts.log ?? silentLogger
  if (opts.gateway != null && !isIPv4(opts.gateway)) {
    throw NodeErrors.NODE_GATEWAY_NOT_FOUND(
      `the gateway ${JSON.stringify(opts.gateway)} is not an IPv4 literal`
    )
  }
  const errors: ConclaveError[] = []
  if (protocol === 'upnp' || protocol === 'auto') {
    try {
      return await discoverUpnp(opts.gateway ?? null, timeoutMs)
    } catch (err) {
      if (protocol === 'upnp') throw err
      log.debug('port mapping: no UPnP gateway', { err: err as Error })
      errors.push(err as ConclaveError)
    }
  }
  const gw = opts.gateway ?? defaultGateway()
  if (gw === null) {
    throw errors[0] ?? NodeErrors.NODE_GATEWAY_NOT_FOUND('no default route: no NAT-PMP gateway to ask')
  }
  const client = new NatPmpMapper(gw, timeoutMs)
  try {
    await client.externalAddress()
    return client
  } catch (err) {
    // a UPnP gateway that answered garbage says more than a NAT-PMP one that did not answer
    const upnp = errors.find((e) => e.code !== 'NODE_GATEWAY_NOT_FOUND')
    if (upnp && (err as ConclaveError).code === 'NODE_GATEWAY_TIMEOUT') throw upnp
    if ((err as ConclaveError).code === 'NODE_GATEWAY_TIMEOUT') {
      throw NodeErrors.NODE_GATEWAY_NOT_FOUND(
        `no UPnP gateway answered the SSDP search and no NAT-PMP gateway answers at ${gw}`,
        { cause: err, data: { gateway: gw } }
      )
    }
    throw err
  }
}

/** The IPv4 default gateway from /proc/net/route (Linux), or null. */
export function defaultGateway(): string | null {
  let text: string
  try {
    text = readFileSync('/proc/net/route', 'utf8')
  } catch {
    return null
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 3 || f[1] !== '00000000' || !/^[0-9A-Fa-f]{8}$/.test(f[2]!)) continue
    const n = Number.parseInt(f[2]!, 16)
    if (n === 0) continue
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.')
  }
  return null
}

// --- UPnP IGD ------------------------------------------------------------------

interface SsdpAnswer {
  location: URL
  from: string
}

/** Sends M-SEARCH (multicast, or unicast to `gateway`) and reads the first usable answer. */
async function ssdpSearch(gateway: string | null, timeoutMs: number): Promise<SsdpAnswer> {
  const socket = dgram.createSocket({ type: 'udp4' })
  try {
    return await new Promise<SsdpAnswer>((resolve, reject) => {
      let garbage: string | null = null
      const timer = setTimeout(() => {
        reject(
          garbage !== null
            ? NodeErrors.NODE_GATEWAY_INVALID(`the SSDP answer is not usable: ${garbage}`, {
                data: { gateway }
              })
            : NodeErrors.NODE_GATEWAY_NOT_FOUND(
                `no UPnP gateway answered an SSDP search ${gateway ? `at ${gateway}` : 'on the LAN'} in ${timeoutMs} ms`,
                { data: { gateway } }
              )
        )
      }, timeoutMs)
      socket.on('error', (err) => {
        clearTimeout(timer)
        reject(NodeErrors.NODE_GATEWAY_NOT_FOUND(`SSDP search failed: ${err.message}`, { cause: err }))
      })
      socket.on('message', (msg, rinfo) => {
        if (gateway !== null && rinfo.address !== gateway) return
        const answer = parseSsdpAnswer(msg, rinfo.address)
        if (typeof answer === 'string') {
          garbage = `${answer} (from ${rinfo.address})`
          return
        }
        clearTimeout(timer)
        resolve(answer)
      })
      socket.bind(0, () => {
        const target = gateway ?? SSDP_ADDRESS
        for (const st of SEARCH_TARGETS) {
          const req = Buffer.from(
            `M-SEARCH * HTTP/1.1\r\nHOST: ${SSDP_ADDRESS}:${SSDP_PORT}\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\n\r\n`
          )
          socket.send(req, SSDP_PORT, target)
        }
      })
    })
  } finally {
    socket.close()
  }
}

/** An SSDP answer's LOCATION, or a reason it is not usable. */
export function parseSsdpAnswer(msg: Buffer, from: string): SsdpAnswer | string {
  if (msg.length > 4096) return 'answer longer than 4096 bytes'
  const text = msg.toString('latin1')
  if (!/^HTTP\/1\.[01] 200\b/.test(text)) return 'not an HTTP 200 answer'
  const m = /^location:[ \t]*(\S+)[ \t]*$/im.exec(text)
  if (!m) return 'no LOCATION header'
  let location: URL
  try {
    location = new URL(m[1]!)
  } catch {
    return `LOCATION ${JSON.stringify(m[1]!.slice(0, 100))} is not a URL`
  }
  if (location.protocol !== 'http:') return `LOCATION ${location.href} is not http`
  // no name is resolved, and a responder cannot send us to another host
  if (location.hostname !== from) return `LOCATION ${location.href} names another host than ${from}`
  return { location, from }
}

interface HttpAnswer {
  status: number
  body: string
  localAddress: string
}

function httpRequest(
  url: URL,
  timeoutMs: number,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }
): Promise<HttpAnswer> {
  const where = url.host
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port === '' ? 80 : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: init.method,
        headers: {
          ...init.headers,
          ...(init.body === undefined ? {} : { 'content-length': Buffer.byteLength(init.body) })
        },
        agent: false
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > MAX_BODY_BYTES) {
            req.destroy(
              NodeErrors.NODE_GATEWAY_INVALID(
                `the gateway at ${where} sent more than ${MAX_BODY_BYTES} bytes`
              )
            )
            return
          }
          chunks.push(c)
        })
        res.on('end', () => {
          clearTimeout(timer)
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            localAddress: localAddress || (req.socket?.localAddress ?? '')
          })
        })
        res.on('error', fail)
      }
    )
    let localAddress = ''
    req.on('socket', (s) => s.on('connect', () => (localAddress = s.localAddress ?? '')))
    const fail = (err: Error) => {
      clearTimeout(timer)
      if ((err as ConclaveError).code?.startsWith?.('NODE_GATEWAY_')) return reject(err)
      const code = (err as NodeJS.ErrnoException).code
      if (
        code === 'ECONNREFUSED' ||
        code === 'ECONNRESET' ||
        code === 'EHOSTUNREACH' ||
        code === 'ENETUNREACH'
      ) {
        return reject(
          NodeErrors.NODE_GATEWAY_REFUSED(`the gateway at ${where} refused the connection (${code})`, {
            cause: err,
            data: { gateway: where }
          })
        )
      }
      reject(
        NodeErrors.NODE_GATEWAY_INVALID(`the gateway at ${where} broke the HTTP exchange: ${err.message}`, {
          cause: err,
          data: { gateway: where }
        })
      )
    }
    const timer = setTimeout(() => {
      req.destroy(
        NodeErrors.NODE_GATEWAY_TIMEOUT(`the gateway at ${where} did not answer in ${timeoutMs} ms`, {
          data: { gateway: where }
        })
      )
    }, timeoutMs)
    req.on('error', fail)
    req.on('close', () => {
      if (localAddress === '') localAddress = req.socket?.localAddress ?? ''
    })
    req.end(init.body)
  })
}

function xmlUnescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** The text of the first element `name` (any namespace prefix), or null. */
export function xmlText(xml: string, name: string): string | null {
  const m = new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${name}\\s*>`).exec(xml)
  return m ? xmlUnescape(m[1]!.trim()) : null
}

/** The WAN connection service of an IGD description: its type and absolute control URL. */
export function findWanService(xml: string, location: URL): { serviceType: string; control: URL } | null {
  const base = xmlText(xml, 'URLBase')
  for (const m of xml.matchAll(/<(?:[\w.-]+:)?service(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?service\s*>/g)) {
    const block = m[1]!
    const serviceType = xmlText(block, 'serviceType')
    const controlURL = xmlText(block, 'controlURL')
    if (!serviceType || !controlURL || !WAN_SERVICE.test(serviceType)) continue
    let control: URL
    try {
      control = new URL(controlURL, base ? new URL(base, location) : location)
    } catch {
      continue
    }
    if (control.protocol !== 'http:' || control.hostname !== location.hostname) continue
    return { serviceType, control }
  }
  return null
}

async function discoverUpnp(gateway: string | null, timeoutMs: number): Promise<UpnpMapper> {
  const { location } = await ssdpSearch(gateway, timeoutMs)
  const desc = await httpRequest(location, timeoutMs, { method: 'GET' })
  if (desc.status !== 200) {
    throw NodeErrors.NODE_GATEWAY_INVALID(
      `the gateway's description ${location.href} answered HTTP ${desc.status}`,
      {
        data: { gateway: location.host, status: desc.status }
      }
    )
  }
  const service = findWanService(desc.body, location)
  if (!service) {
    throw NodeErrors.NODE_GATEWAY_INVALID(
      `the gateway's description ${location.href} names no WANIPConnection or WANPPPConnection service`,
      { data: { gateway: location.host } }
    )
  }
  return new UpnpMapper(service.serviceType, service.control, timeoutMs)
}

class UpnpMapper implements PortMapper {
  readonly protocol = 'upnp' as const
  readonly gateway: string
  readonly #serviceType: string
  readonly #control: URL
  readonly #timeoutMs: number

  constructor(serviceType: string, control: URL, timeoutMs: number) {
    this.#serviceType = serviceType
    this.#control = control
    this.#timeoutMs = timeoutMs
    this.gateway = control.host
  }

  async #soap(action: string, args: Array<[string, string | number]>): Promise<HttpAnswer> {
    const body =
      '<?xml version="1.0"?>\r\n' +
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
      `<s:Body><u:${action} xmlns:u="${this.#serviceType}">` +
      args.map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('') +
      `</u:${action}></s:Body></s:Envelope>\r\n`
    const res = await httpRequest(this.#control, this.#timeoutMs, {
      method: 'POST',
      headers: {
        'content-type': 'text/xml; charset="utf-8"',
        soapaction: `"${this.#serviceType}#${action}"`
      },
      body
    })
    if (res.status === 200 && new RegExp(`<(?:[\\w.-]+:)?${action}Response[\\s>/]`).test(res.body)) return res
    const code = xmlText(res.body, 'errorCode')
    if (res.status === 500 && code !== null && /^\d{1,4}$/.test(code)) {
      const description = xmlText(res.body, 'errorDescription') ?? ''
      throw NodeErrors.NODE_GATEWAY_REFUSED(
        `the gateway at ${this.gateway} refused ${action}: UPnP error ${code}${description ? ` ${description.slice(0, 100)}` : ''}`,
        {
          data: {
            gateway: this.gateway,
            action,
            upnpError: Number(code),
            description: description.slice(0, 100)
          }
        }
      )
    }
    throw NodeErrors.NODE_GATEWAY_INVALID(
      `the gateway at ${this.gateway} answered ${action} with HTTP ${res.status} and no ${action}Response`,
      { data: { gateway: this.gateway, action, status: res.status } }
    )
  }

  async externalAddress(): Promise<string> {
    const res = await this.#soap('GetExternalIPAddress', [])
    const ip = xmlText(res.body, 'NewExternalIPAddress')
    if (ip === null || !isIPv4(ip)) {
      throw NodeErrors.NODE_GATEWAY_INVALID(`the gateway at ${this.gateway} gave no IPv4 external address`, {
        data: { gateway: this.gateway }
      })
    }
    return ip
  }

  async map(
    internalPort: number,
    externalPort: number,
    lifetimeS: number,
    description: string
  ): Promise<Mapping> {
    // our LAN address as the gateway sees it: the local end of a connection to it
    const probe = await this.#localAddress()
    const args = (lease: number): Array<[string, string | number]> => [
      ['NewRemoteHost', ''],
      ['NewExternalPort', externalPort],
      ['NewProtocol', 'TCP'],
      ['NewInternalPort', internalPort],
      ['NewInternalClient', probe],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', description],
      ['NewLeaseDuration', lease]
    ]
    let lifetime = Math.max(1, Math.ceil(lifetimeS))
    try {
      await this.#soap('AddPortMapping', args(lifetime))
    } catch (err) {
      // 725 OnlyPermanentLeasesSupported (IGDv1): map without a lease; the caller removes it at the window's end
      if ((err as ConclaveError).data?.upnpError !== 725) throw err
      lifetime = 0
      await this.#soap('AddPortMapping', args(0))
    }
    return {
      protocol: 'upnp',
      gateway: this.gateway,
      internalClient: probe,
      internalPort,
      externalPort,
      lifetimeS: lifetime
    }
  }

  async unmap(_internalPort: number, externalPort: number): Promise<void> {
    try {
      await this.#soap('DeletePortMapping', [
        ['NewRemoteHost', ''],
        ['NewExternalPort', externalPort],
        ['NewProtocol', 'TCP']
      ])
    } catch (err) {
      // 714 NoSuchEntryInArray: already gone (its lease ran out)
      if ((err as ConclaveError).data?.upnpError !== 714) throw err
    }
  }

  async #localAddress(): Promise<string> {
    const res = await httpRequest(this.#control, this.#timeoutMs, { method: 'GET' })
    if (!isIPv4(res.localAddress)) {
      throw NodeErrors.NODE_GATEWAY_INVALID(`no IPv4 LAN address towards the gateway at ${this.gateway}`, {
        data: { gateway: this.gateway }
      })
    }
    return res.localAddress
  }
}

// --- NAT-PMP (RFC 6886) ----------------------------------------------------------

const NATPMP_RESULTS: Record<number, string> = {
  1: 'unsupported version',
  2: 'not authorized / refused',
  3: 'network failure',
  4: 'out of resources',
  5: 'unsupported opcode'
}

class NatPmpMapper implements PortMapper {
  readonly protocol = 'natpmp' as const
  readonly gateway: string
  readonly #host: string
  readonly #timeoutMs: number

  constructor(host: string, timeoutMs: number) {
    this.#host = host
    this.#timeoutMs = timeoutMs
    this.gateway = `${host}:${NATPMP_PORT}`
  }

  /** Sends `req`, retransmitting at 250 ms, 500 ms, … (RFC 6886 §3.1) until an answer or the timeout. */
  async #request(req: Buffer, size: number): Promise<{ reply: Buffer; localAddress: string }> {
    const socket = dgram.createSocket({ type: 'udp4' })
    const expectOp = 128 + req[1]!
    try {
      return await new Promise((resolve, reject) => {
        let wait = 250
        let resend: NodeJS.Timeout | null = null
        const send = () => {
          socket.send(req)
          resend = setTimeout(send, (wait *= 2) / 2)
        }
        const done = (err: Error | null, value?: { reply: Buffer; localAddress: string }) => {
          clearTimeout(timer)
          if (resend) clearTimeout(resend)
          if (err) reject(err)
          else resolve(value!)
        }
        const timer = setTimeout(
          () =>
            done(
              NodeErrors.NODE_GATEWAY_TIMEOUT(
                `the NAT-PMP gateway at ${this.gateway} did not answer in ${this.#timeoutMs} ms`,
                {
                  data: { gateway: this.gateway }
                }
              )
            ),
          this.#timeoutMs
        )
        socket.on('error', (err) =>
          done(
            NodeErrors.NODE_GATEWAY_REFUSED(`NAT-PMP to ${this.gateway} failed: ${err.message}`, {
              cause: err,
              data: { gateway: this.gateway }
            })
          )
        )
        socket.on('message', (msg, rinfo) => {
          if (rinfo.address !== this.#host || rinfo.port !== NATPMP_PORT) return
          if (msg.length < 4 || msg[0] !== 0 || msg[1] !== expectOp) {
            return done(
              NodeErrors.NODE_GATEWAY_INVALID(
                `the NAT-PMP gateway at ${this.gateway} sent a malformed reply`,
                {
                  data: { gateway: this.gateway, bytes: msg.length }
                }
              )
            )
          }
          const result = msg.readUInt16BE(2)
          if (result !== 0) {
            return done(
              NodeErrors.NODE_GATEWAY_REFUSED(
                `the NAT-PMP gateway at ${this.gateway} refused: result ${result} (${NATPMP_RESULTS[result] ?? 'unknown'})`,
                { data: { gateway: this.gateway, result } }
              )
            )
          }
          if (msg.length !== size) {
            return done(
              NodeErrors.NODE_GATEWAY_INVALID(
                `the NAT-PMP gateway at ${this.gateway} sent ${msg.length} bytes, not ${size}`,
                {
                  data: { gateway: this.gateway, bytes: msg.length }
                }
              )
            )
          }
          done(null, { reply: msg, localAddress: socket.address().address })
        })
        // connected: the local address is the one the gateway sees, and only its answers arrive
        socket.connect(NATPMP_PORT, this.#host, send)
      })
    } finally {
      socket.close()
    }
  }

  async externalAddress(): Promise<string> {
    const { reply } = await this.#request(Buffer.from([0, 0]), 12)
    return `${reply[8]}.${reply[9]}.${reply[10]}.${reply[11]}`
  }

  async map(internalPort: number, externalPort: number, lifetimeS: number): Promise<Mapping> {
    const req = Buffer.alloc(12)
    req[1] = 2 // map TCP
    req.writeUInt16BE(internalPort, 4)
    req.writeUInt16BE(externalPort, 6)
    req.writeUInt32BE(Math.max(1, Math.ceil(lifetimeS)), 8)
    const { reply, localAddress } = await this.#request(req, 16)
    return {
      protocol: 'natpmp',
      gateway: this.gateway,
      internalClient: localAddress,
      internalPort: reply.readUInt16BE(8),
      externalPort: reply.readUInt16BE(10),
      lifetimeS: reply.readUInt32BE(12)
    }
  }

  async unmap(internalPort: number): Promise<void> {
    const req = Buffer.alloc(12)
    req[1] = 2
    req.writeUInt16BE(internalPort, 4)
    await this.#request(req, 16)
  }
}
