import { isConclaveError } from '../kernel/errors.js'
import { Resource } from '../kernel/lifecycle.js'
import { type Logger, silentLogger } from '../kernel/log.js'
import { NodeErrors } from './errors.js'
import { discoverGateway, type Mapping, type MappingProtocol, type PortMapper } from './port-mapping.js'
import { assessOffsets, currentOrNextWindow, type OffsetAssessment, type PortWindow } from './windows.js'

/** What `conclave status` shows of the port windows (docs/network.md, "Port windows"). */
export interface WindowsStatus {
  enabled: boolean
  slotSeconds: number
  windowSeconds: number
  protocol: MappingProtocol | 'auto'
  /** The window open now, or the next one (Unix ms). */
  next: { start: number; end: number } | null
  open: boolean
  /** The mapping held at the gateway now, or null. */
  mapping: (Mapping & { external: string | null; until: number }) | null
  /** The public `ip:port` of the last mapping (where peers dial inside the next windows), or null. */
  external: string | null
  /** `CODE: message` of the last gateway failure, or null since the last success. */
  lastError: string | null
  maxOffsetMs: number | null
  requiredWindowMs: number
  /** Set when the measured clock offsets are too large for the window (see assessOffsets). */
  offsetWarning: string | null
}

export interface PortWindowsOptions {
  /** windowKey(cluster encryption key) */
  key: Uint8Array
  slotMs: number
  windowMs: number
  protocol: MappingProtocol | 'auto'
  gateway: string | null
  /** Per gateway request. */
  timeoutMs?: number
  /** The TCP port to map (the direct listener's), or null while there is none. */
  port: () => number | null
  /** Measured clock offsets of the connected devices (heartbeats). */
  offsets: () => Iterable<number | null>
  /** Called when a window opens (after the mapping was tried) and when it closes. */
  onWindow?: (phase: 'open' | 'close', w: PortWindow) => void
  now?: () => number
  log?: Logger
}

const DESCRIPTION = 'conclave direct'

/**
 * How long before a window's end the node starts removing its mapping:
 * the removal (a gateway request, then the gateway's own rule update) takes
 * time, more on a busy machine, and the port must be closed when the window
 * ends, not some hundreds of ms later. An eighth of the window at most.
 */
export function unmapLeadMs(windowMs: number): number {
  return Math.min(500, Math.floor(windowMs / 8))
}

/**
 * Maps the direct port at the gateway inside each window and nowhere else:
 * at a window's start it asks for a mapping whose lease outlives the window
 * by 1–2 s, it removes it just before the window ends (unmapLeadMs), and `close()`
 * removes a mapping still held. A gateway that fails, answers garbage or
 * does not answer is logged (once per distinct error) and shown in
 * `status().lastError`; the node goes on, and the next window tries again.
 */
export class PortWindows extends Resource {
  readonly #o: Required<Omit<PortWindowsOptions, 'onWindow' | 'gateway'>> &
    Pick<PortWindowsOptions, 'onWindow' | 'gateway'>
  #timer: NodeJS.Timeout | null = null
  #window: PortWindow | null = null
  #open = false
  #mapper: PortMapper | null = null
  #mapping: (Mapping & { external: string | null; until: number }) | null = null
  #external: string | null = null
  #lastError: string | null = null
  /** Gateway work, one step at a time (map, unmap, close). */
  #chain: Promise<void> = Promise.resolve()

  constructor(opts: PortWindowsOptions) {
    super()
    this.#o = {
      timeoutMs: 3000,
      now: Date.now,
      log: silentLogger,
      ...opts
    }
  }

  protected override async _open(): Promise<void> {
    // find the gateway now, not when the first window opens: discovery can take seconds (SSDP
    // waits for answers), and a window is only a few seconds long
    void this.#step(() => this.#prepare())
    this.#schedule()
  }

  protected override async _close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    // a mapping is never left behind: wait for the step in flight, then remove what it made
    await this.#step(() => this.#unmap('node closing'))
  }

  /** The window open now, or the next one. */
  get window(): PortWindow {
    return currentOrNextWindow(this.#o.key, this.#o.now(), this.#o.slotMs, this.#o.windowMs)
  }

  /** Whether a window is open now (by this device's clock). */
  get isOpen(): boolean {
    return this.#open
  }

  /** The public `ip:port` of the last successful mapping, or null. */
  get external(): string | null {
    return this.#external
  }

  assessment(): OffsetAssessment {
    return assessOffsets(this.#o.offsets(), this.#o.windowMs)
  }

  status(): WindowsStatus {
    const w = this.window
    const a = this.assessment()
    return {
      enabled: true,
      slotSeconds: this.#o.slotMs / 1000,
      windowSeconds: this.#o.windowMs / 1000,
      protocol: this.#o.protocol,
      next: { start: w.start, end: w.end },
      open: this.#open,
      mapping: this.#mapping,
      external: this.#external,
      lastError: this.#lastError,
      maxOffsetMs: a.maxOffsetMs,
      requiredWindowMs: a.requiredWindowMs,
      offsetWarning: a.warning
    }
  }

  /** When the node stops holding window w: its end less the removal's lead. */
  #closeAt(w: PortWindow): number {
    return w.end - unmapLeadMs(this.#o.windowMs)
  }

  /** The window whose mapping may be made or held at `now`, or the next one. */
  #windowAt(now: number): PortWindow {
    const w = currentOrNextWindow(this.#o.key, now, this.#o.slotMs, this.#o.windowMs)
    return now >= this.#closeAt(w)
      ? currentOrNextWindow(this.#o.key, w.end, this.#o.slotMs, this.#o.windowMs)
      : w
  }

  #schedule(): void {
    if (this.closing) return
    const now = this.#o.now()
    const at = this.#open && this.#window ? this.#closeAt(this.#window) : this.#windowAt(now).start
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, Math.min(at - now, 2 ** 31 - 1)))
    this.#timer.unref()
  }

  #tick(): void {
    this.#timer = null
    if (this.closing) return
    const now = this.#o.now()
    if (this.#open && this.#window && now >= this.#closeAt(this.#window)) {
      const w = this.#window
      this.#open = false
      void this.#step(() => this.#unmap('window closed'))
      this.#notify('close', w)
    }
    const w = this.#windowAt(now)
    if (!this.#open && now >= w.start && now < this.#closeAt(w)) {
      this.#open = true
      this.#window = w
      void this.#step(() => this.#map(w)).then(() => this.#notify('open', w))
    }
    this.#schedule()
  }

  #notify(phase: 'open' | 'close', w: PortWindow): void {
    try {
      this.#o.onWindow?.(phase, w)
    } catch (err) {
      this.#o.log.warn('port windows: a listener failed', { err: err as Error })
    }
  }

  #step(work: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(work, work)
    this.#chain = next.catch(() => {})
    return this.#chain
  }

  /** Looks for the gateway ahead of the windows; a failure is left to the first window to report. */
  async #prepare(): Promise<void> {
    if (this.closing || this.#mapper) return
    try {
      this.#mapper = await this.#discover()
    } catch (err) {
      this.#o.log.debug('port windows: no gateway found ahead of the first window', { err: err as Error })
    }
  }

  #discover(): Promise<PortMapper> {
    return discoverGateway({
      protocol: this.#o.protocol,
      gateway: this.#o.gateway,
      timeoutMs: this.#o.timeoutMs,
      log: this.#o.log
    })
  }

  async #map(w: PortWindow): Promise<void> {
    if (this.closing) return
    const port = this.#o.port()
    // The lease outlives the window by 1–2 s and the node removes the mapping itself just before
    // the window's end (#closeAt): a gateway whose lease runs out first (miniupnpd) drops the connections made
    // inside the window along with it. A node that dies keeps the port open that much longer.
    const left = this.#closeAt(w) - this.#o.now()
    // a window with too little left is skipped: the mapping would be gone before a peer dialed
    if (port === null || left < Math.min(1000, (this.#o.windowMs - unmapLeadMs(this.#o.windowMs)) / 2)) return
    const lifetimeS = Math.ceil((w.end - this.#o.now()) / 1000) + 1
    try {
      this.#mapper ??= await this.#discover()
      const mapper = this.#mapper
      const mapping = await mapper.map(port, port, lifetimeS, DESCRIPTION)
      if (this.#o.now() >= this.#closeAt(w) || this.closing || !this.#open) {
        // the window closed while the gateway answered: take it back at once
        await mapper.unmap(mapping.internalPort, mapping.externalPort)
        return
      }
      const ip = await mapper.externalAddress().catch((err: unknown) => {
        this.#failed(err)
        return null
      })
      const external = ip === null ? null : `${ip}:${mapping.externalPort}`
      this.#mapping = { ...mapping, external, until: w.end }
      if (external !== null) this.#external = external
      this.#lastError = null
      this.#o.log.info('port window open: direct port mapped', {
        gateway: mapping.gateway,
        protocol: mapping.protocol,
        external,
        lifetimeS: mapping.lifetimeS,
        until: new Date(w.end).toISOString()
      })
    } catch (err) {
      this.#mapper = null // look for the gateway afresh next time
      this.#failed(err)
    }
  }

  async #unmap(why: string): Promise<void> {
    const m = this.#mapping
    if (!m) return
    this.#mapping = null
    const mapper = this.#mapper
    if (!mapper) return
    try {
      await mapper.unmap(m.internalPort, m.externalPort)
      this.#o.log.info('port window closed: mapping removed', { external: m.external, why })
    } catch (err) {
      // its lease (no longer than the window) ends it at the gateway anyway
      this.#failed(err)
    }
  }

  #failed(err: unknown): void {
    const e = isConclaveError(err)
      ? err
      : NodeErrors.NODE_GATEWAY_INVALID(`port mapping failed: ${(err as Error)?.message ?? String(err)}`, {
          cause: err
        })
    const text = `${e.code}: ${e.message}`
    if (text !== this.#lastError) this.#o.log.warn('port window: gateway error', { err: e })
    this.#lastError = text
  }
}
