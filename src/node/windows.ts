import { blake2b, labelledHash } from '../kernel/crypto/hash.js'

/**
 * Port windows (docs/network.md, "Port windows"): from a key every device of
 * the cluster shares, each S-second slot holds one W-second window at an
 * offset only those devices can compute. A node maps its direct port at the
 * gateway only inside its windows; a device that lost contact dials inside
 * them. Pure functions: the schedule is the same on every device whose clock
 * agrees, and nothing here reads a clock.
 */

/** Label of the window key, expanded from the cluster encryption key every own device holds. */
export const WINDOW_KEY_LABEL = 'conclave/v1/cluster/port-windows'

/** Slack added to twice the worst clock offset: W must be at least 2 × max|offset| + this. */
export const WINDOW_MARGIN_MS = 1000

export interface PortWindow {
  /** floor(start / slotMs) */
  slot: number
  /** Unix ms, inclusive. */
  start: number
  /** Unix ms, exclusive. */
  end: number
}

/** The 32-byte key the schedule is computed from; friends (who lack the cluster key) cannot. */
export function windowKey(clusterEncryptionKey: Uint8Array): Buffer {
  return labelledHash(WINDOW_KEY_LABEL, [clusterEncryptionKey])
}

function assertShape(slotMs: number, windowMs: number): void {
  if (!Number.isSafeInteger(slotMs) || !Number.isSafeInteger(windowMs) || windowMs <= 0 || windowMs > slotMs)
    throw new RangeError(
      `window ${windowMs} ms must be a positive whole number no longer than its slot ${slotMs} ms`
    )
}

/**
 * The window of slot `slot`: [slot·S + off, slot·S + off + W) with
 * off = BLAKE2b-keyed MAC of the slot number (8 bytes, big-endian), first 6
 * bytes as an integer, modulo S − W + 1. The window never crosses its slot.
 */
export function windowOf(key: Uint8Array, slot: number, slotMs: number, windowMs: number): PortWindow {
  assertShape(slotMs, windowMs)
  if (!Number.isSafeInteger(slot) || slot < 0) throw new RangeError(`slot ${slot} is not a whole number ≥ 0`)
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(slot))
  const mac = blake2b(msg, 32, key)
  const off = mac.readUIntBE(0, 6) % (slotMs - windowMs + 1)
  const start = slot * slotMs + off
  return { slot, start, end: start + windowMs }
}

/** The window open at `now`, or else the next one to open. */
export function currentOrNextWindow(
  key: Uint8Array,
  now: number,
  slotMs: number,
  windowMs: number
): PortWindow {
  const slot = Math.floor(now / slotMs)
  const w = windowOf(key, slot, slotMs, windowMs)
  return now < w.end ? w : windowOf(key, slot + 1, slotMs, windowMs)
}

/** The next `n` windows from `now` (the open one first, if any). */
export function upcomingWindows(
  key: Uint8Array,
  now: number,
  slotMs: number,
  windowMs: number,
  n: number
): PortWindow[] {
  const first = currentOrNextWindow(key, now, slotMs, windowMs)
  const out = [first]
  for (let i = 1; i < n; i++) out.push(windowOf(key, first.slot + i, slotMs, windowMs))
  return out
}

export interface OffsetAssessment {
  /** The largest |offset| among the measured peers, or null when none was measured. */
  maxOffsetMs: number | null
  /** The shortest window the offsets allow: 2 × maxOffset + margin. */
  requiredWindowMs: number
  /** false when the window is shorter than that: devices may open and dial at different moments. */
  ok: boolean
  /** A sentence for status, or null when ok. */
  warning: string | null
}

/**
 * Whether a window of `windowMs` covers the measured clock offsets: each
 * device opens its window by its own clock, so two devices whose clocks
 * differ by d share only W − d of it; with offsets measured from this node,
 * two peers can differ by up to 2 × max|offset|.
 */
export function assessOffsets(
  offsetsMs: Iterable<number | null>,
  windowMs: number,
  marginMs = WINDOW_MARGIN_MS
): OffsetAssessment {
  let max: number | null = null
  for (const o of offsetsMs) if (o !== null && Number.isFinite(o)) max = Math.max(max ?? 0, Math.abs(o))
  const requiredWindowMs = 2 * Math.ceil(max ?? 0) + marginMs
  const ok = windowMs >= requiredWindowMs
  return {
    maxOffsetMs: max,
    requiredWindowMs,
    ok,
    warning: ok
      ? null
      : `clock offsets up to ${Math.round(max ?? 0)} ms need windows of at least ${requiredWindowMs} ms (now ${windowMs} ms): set the clocks (NTP) or lengthen the window`
  }
}
