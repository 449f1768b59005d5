import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { isAddress } from './address.js'
import { KernelErrors } from './errors.js'

/**
 * Node configuration, parsed once: defaults < config file (HOME/config.json) <
 * CONCLAVE_* environment < command-line flags. Only bin/ and src/node read the
 * environment; everything below receives the parsed object.
 */

const HostPortSchema = z
  .string()
  .regex(/^[A-Za-z0-9.\-_:[\]]+:\d{1,5}$/, 'expected HOST:PORT')
  .transform((s, ctx) => {
    const i = s.lastIndexOf(':')
    const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1')
    const port = Number(s.slice(i + 1))
    if (port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: 'port out of range' })
      return z.NEVER
    }
    return { host, port }
  })
export type HostPort = { host: string; port: number }

/** Longest wait for copies: well below the local API's request timeouts. */
export const MAX_COPIES_TIMEOUT_MS = 120_000

export const RoleSchema = z.enum(['access', 'relay'])
export type Role = z.infer<typeof RoleSchema>

export const ConfigSchema = z
  .object({
    home: z.string().min(1),
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(0),
        /** Binding anything but loopback exposes the API; it must be asked for. */
        allowNonLoopback: z.boolean().default(false)
      })
      .strict()
      .prefault({}),
    /** null = the public HyperDHT bootstrap nodes. */
    bootstrap: z
      .array(z.object({ host: z.string(), port: z.number().int() }).strict())
      .nullable()
      .default(null),
    /** Address the DHT node binds; null = 127.0.0.1 when every bootstrap node is loopback, else all interfaces. */
    dhtHost: z.string().nullable().default(null),
    /**
     * The DHT socket is reachable by peers at the address they see (a public address, or
     * a network without NAT between the devices): skip the firewall detection and take
     * connections directly instead of holepunching. false = detect (docs/network.md).
     */
    dhtReachable: z.boolean().default(false),
    roles: z.array(RoleSchema).min(1).default(['access', 'relay']),
    /** Always-on devices index; phones should not (DESIGN §4). */
    indexer: z.boolean().default(true),
    socks5: z.object({ host: z.string(), port: z.number().int() }).strict().nullable().default(null),
    /** TCP port of the direct transport; 0 = the port of the last run if it is free, else any. */
    directPort: z.number().int().min(0).max(65535).default(0),
    /**
     * The `host:port` other devices should dial for the direct transport
     * (a port forward, a DNS or .onion name); null = the listening address,
     * or the address peers see when listening on every interface.
     */
    directAddress: z.string().refine(isAddress, 'expected HOST:PORT').nullable().default(null),
    /**
     * Port windows (docs/network.md): map the direct port at the gateway
     * (UPnP IGD or NAT-PMP) only inside short windows every device of the
     * cluster computes alike. Off by default: it opens a port to the Internet.
     */
    windows: z
      .object({
        enabled: z.boolean().default(false),
        /** Slot length S: one window in every slot. */
        slotSeconds: z.number().int().min(2).max(86_400).default(600),
        /** Window length W; must exceed twice the worst clock offset by a margin. */
        windowSeconds: z.number().int().min(1).max(3600).default(30),
        protocol: z.enum(['auto', 'upnp', 'natpmp']).default('auto'),
        /** The gateway's IPv4 address; null = SSDP multicast, then the default route for NAT-PMP. */
        gateway: z.ipv4().nullable().default(null)
      })
      .strict()
      .refine((w) => w.windowSeconds <= w.slotSeconds, {
        message: 'windowSeconds must not exceed slotSeconds',
        path: ['windowSeconds']
      })
      .prefault({}),
    /**
     * Tor onion mode (docs/network.md): dial only through `socks5`, publish
     * only `directAddress` (a .onion name), listen on loopback, no DHT, no
     * port windows, and no name resolved on this machine.
     */
    onion: z.boolean().default(false),
    ackIntervalMs: z.number().int().min(50).max(60_000).default(1000),
    /** Nodes (this one included) that must hold an append before it is acknowledged (docs/durability.md). */
    copies: z.number().int().min(1).max(16).default(2),
    /** How long an append waits for those copies before it is reported as not durable. */
    copiesTimeoutMs: z.number().int().min(0).max(MAX_COPIES_TIMEOUT_MS).default(15_000),
    /** A conversation with no message for this long is archived even if it never closed; 0 = never. */
    archiveIdleMs: z
      .number()
      .int()
      .min(0)
      .max(10 * 365 * 86_400_000)
      .default(30 * 86_400_000),
    logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']).default('info')
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.onion) return
    if (!c.socks5)
      ctx.addIssue({ code: 'custom', path: ['onion'], message: "onion mode needs socks5 (Tor's SOCKS port)" })
    if (!c.directAddress || !/\.onion:\d+$/i.test(c.directAddress))
      ctx.addIssue({
        code: 'custom',
        path: ['onion'],
        message: 'onion mode needs directAddress set to the onion service (xyz.onion:PORT)'
      })
    if (c.windows.enabled)
      ctx.addIssue({
        code: 'custom',
        path: ['onion'],
        message: 'onion mode and port windows exclude each other'
      })
    if (c.socks5 && !/^(127\.\d+\.\d+\.\d+|::1)$/.test(c.socks5.host))
      ctx.addIssue({
        code: 'custom',
        path: ['onion'],
        message: 'onion mode needs socks5 given as an IP literal (nothing is resolved here), on loopback'
      })
  })
export type Config = z.infer<typeof ConfigSchema>

/** Flags and environment variables a user may set, as strings. */
export interface ConfigInputs {
  home?: string | undefined
  env?: Record<string, string | undefined>
  flags?: Partial<
    Record<
      | 'port'
      | 'bootstrap'
      | 'role'
      | 'socks5'
      | 'indexer'
      | 'directPort'
      | 'directAddress'
      | 'copies'
      | 'copiesTimeout'
      | 'archiveIdle'
      | 'logLevel'
      | 'portWindows'
      | 'windowSeconds'
      | 'slotSeconds'
      | 'gateway'
      | 'gatewayProtocol'
      | 'onion',
      string
    >
  >
}

export function resolveHome(flagHome: string | undefined, env: Record<string, string | undefined>): string {
  return resolve(flagHome ?? env.CONCLAVE_HOME ?? join(homedir(), '.conclave'))
}

function parseList<T>(raw: string, item: z.ZodType<T>, what: string): T[] {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return parts.map((p) => {
    const r = item.safeParse(p)
    if (!r.success)
      throw KernelErrors.CONFIG_INVALID(`${what}: "${p}": ${r.error.issues[0]?.message ?? 'invalid'}`)
    return r.data
  })
}

function parseIntStrict(raw: string, what: string): number {
  if (!/^\d+$/.test(raw)) throw KernelErrors.CONFIG_INVALID(`${what}: expected a whole number, got "${raw}"`)
  return Number(raw)
}

function parseBool(raw: string, what: string): boolean {
  if (/^(1|true|yes)$/i.test(raw)) return true
  if (/^(0|false|no)$/i.test(raw)) return false
  throw KernelErrors.CONFIG_INVALID(`${what}: expected true or false, got "${raw}"`)
}

/** String settings (from env or flags) → a partial config object. */
function fromStrings(s: NonNullable<ConfigInputs['flags']>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (s.port !== undefined) out.api = { port: parseIntStrict(s.port, `${where} port`) }
  if (s.bootstrap !== undefined) out.bootstrap = parseList(s.bootstrap, HostPortSchema, `${where} bootstrap`)
  if (s.role !== undefined) out.roles = parseList(s.role, RoleSchema, `${where} role`)
  if (s.socks5 !== undefined)
    out.socks5 = s.socks5 === '' ? null : parseList(s.socks5, HostPortSchema, `${where} socks5`)[0]
  if (s.indexer !== undefined) out.indexer = parseBool(s.indexer, `${where} indexer`)
  if (s.directPort !== undefined) out.directPort = parseIntStrict(s.directPort, `${where} direct port`)
  if (s.directAddress !== undefined) out.directAddress = s.directAddress === '' ? null : s.directAddress
  if (s.copies !== undefined) out.copies = parseIntStrict(s.copies, `${where} copies`)
  if (s.copiesTimeout !== undefined)
    out.copiesTimeoutMs = parseIntStrict(s.copiesTimeout, `${where} copies timeout (seconds)`) * 1000
  if (s.archiveIdle !== undefined)
    out.archiveIdleMs = parseIntStrict(s.archiveIdle, `${where} archive idle (seconds)`) * 1000
  if (s.logLevel !== undefined) out.logLevel = s.logLevel
  const windows: Record<string, unknown> = {}
  if (s.portWindows !== undefined) windows.enabled = parseBool(s.portWindows, `${where} port windows`)
  if (s.windowSeconds !== undefined)
    windows.windowSeconds = parseIntStrict(s.windowSeconds, `${where} window seconds`)
  if (s.slotSeconds !== undefined)
    windows.slotSeconds = parseIntStrict(s.slotSeconds, `${where} slot seconds`)
  if (s.gateway !== undefined) windows.gateway = s.gateway === '' ? null : s.gateway
  if (s.gatewayProtocol !== undefined) windows.protocol = s.gatewayProtocol
  if (Object.keys(windows).length > 0) out.windows = windows
  if (s.onion !== undefined) out.onion = parseBool(s.onion, `${where} onion`)
  return out
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/

/**
 * A DHT on a loopback testnet must itself bind loopback: bound to all
 * interfaces it would announce an address its loopback peers cannot reach
 * back on (seen here: the client side of a connection completes while the
 * server side never sees it).
 */
export function dhtBindHost(config: Pick<Config, 'dhtHost' | 'bootstrap'>): string | undefined {
  if (config.dhtHost) return config.dhtHost
  if (
    config.bootstrap &&
    config.bootstrap.length > 0 &&
    config.bootstrap.every((b) => LOOPBACK.test(b.host))
  ) {
    return '127.0.0.1'
  }
  return undefined
}

/**
 * Whether the DHT node takes connections directly, without holepunching
 * (HyperDHT's `firewalled: false`): when `dhtReachable` says so, or when it
 * binds a loopback address — every peer that reaches it then does so at that
 * address. On loopback the holepunch path left the dialler, in most first
 * dials, with a stream the other side never saw, until it timed out after
 * ≈ 15 s (docs/network.md, "The DHT node").
 */
export function dhtDirect(config: Pick<Config, 'dhtHost' | 'bootstrap' | 'dhtReachable'>): boolean {
  if (config.dhtReachable) return true
  const host = dhtBindHost(config)
  return host !== undefined && LOOPBACK.test(host)
}

export function readConfigFile(home: string): Record<string, unknown> {
  const file = join(home, 'config.json')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw KernelErrors.CONFIG_UNREADABLE(`cannot read ${file}`, { cause: err })
  }
  try {
    const v: unknown = JSON.parse(text)
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch (err) {
    throw KernelErrors.CONFIG_UNREADABLE(`${file} is not a JSON object`, { cause: err, data: { file } })
  }
}

export function loadConfig(inputs: ConfigInputs = {}): Config {
  const env = inputs.env ?? {}
  const home = resolveHome(inputs.home, env)
  const file = readConfigFile(home)
  const envLayer = fromStrings(
    {
      port: env.CONCLAVE_PORT,
      bootstrap: env.CONCLAVE_BOOTSTRAP,
      role: env.CONCLAVE_ROLE,
      socks5: env.CONCLAVE_SOCKS5,
      indexer: env.CONCLAVE_INDEXER,
      directPort: env.CONCLAVE_DIRECT_PORT,
      directAddress: env.CONCLAVE_DIRECT_ADDRESS,
      copies: env.CONCLAVE_COPIES,
      copiesTimeout: env.CONCLAVE_COPIES_TIMEOUT,
      archiveIdle: env.CONCLAVE_ARCHIVE_IDLE,
      logLevel: env.CONCLAVE_LOG_LEVEL,
      portWindows: env.CONCLAVE_PORT_WINDOWS,
      windowSeconds: env.CONCLAVE_WINDOW_SECONDS,
      slotSeconds: env.CONCLAVE_SLOT_SECONDS,
      gateway: env.CONCLAVE_GATEWAY,
      gatewayProtocol: env.CONCLAVE_GATEWAY_PROTOCOL,
      onion: env.CONCLAVE_ONION
    },
    'CONCLAVE_*'
  )
  const flagLayer = fromStrings(inputs.flags ?? {}, '--')
  const merged = merge(merge(merge({}, file), envLayer), flagLayer)
  merged.home = home
  const r = ConfigSchema.safeParse(merged)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw KernelErrors.CONFIG_INVALID(
      `${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}`,
      {
        data: { issues: r.error.issues }
      }
    )
  }
  return r.data
}
