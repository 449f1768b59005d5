import { z } from 'zod'
import { LogMsSchema } from './messages.js'

export const HlcSchema = z.object({
  wall: LogMsSchema,
  logical: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
})
export type Hlc = z.infer<typeof HlcSchema>

export interface HybridClockOptions {
  /** Remote clocks further ahead of our wall time than this are not adopted beyond it. Default 60 s. */
  maxAheadMs?: number
  /** Resume from a clock value persisted earlier, so time never runs backwards across restarts. */
  initial?: Hlc
}

export const DEFAULT_MAX_AHEAD_MS = 60_000

/** Orders two clock values: by wall time, then by the logical counter. */
export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical
}

/**
 * Hybrid logical clock (Kulkarni et al.). Pure: the caller passes the
 * machine's wall time in, so this file never reads a clock and tests can
 * drive it.
 *
 * `receive` caps what it adopts from a remote at `wallMs + maxAheadMs`: one
 * peer with a clock a year ahead must not drag every honest node's clock
 * (and so the conversation's median log time) with it.
 */
export class HybridClock {
  #wall: number
  #logical: number
  readonly maxAheadMs: number

  constructor(opts: HybridClockOptions = {}) {
    this.#wall = opts.initial?.wall ?? 0
    this.#logical = opts.initial?.logical ?? 0
    this.maxAheadMs = opts.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS
  }

  /** The last value issued or merged, without advancing. */
  peek(): Hlc {
    return { wall: this.#wall, logical: this.#logical }
  }

  /** A new timestamp for a local event (e.g. an entry about to be appended). */
  now(wallMs: number): Hlc {
    if (wallMs > this.#wall) {
      this.#wall = wallMs
      this.#logical = 0
    } else {
      this.#logical++
    }
    return this.peek()
  }

  /** Merges a timestamp seen on a remote entry. */
  receive(remote: Hlc, wallMs: number): Hlc {
    const cap = wallMs + this.maxAheadMs
    const rWall = Math.min(remote.wall, cap)
    const rLogical = rWall === remote.wall ? remote.logical : 0
    const wall = Math.max(this.#wall, rWall, wallMs)
    let logical: number
    if (wall === this.#wall && wall === rWall) logical = Math.max(this.#logical, rLogical) + 1
    else if (wall === this.#wall) logical = this.#logical + 1
    else if (wall === rWall) logical = rLogical + 1
    else logical = 0
    this.#wall = wall
    this.#logical = logical
    return this.peek()
  }
}
