/**
 * Log time of a conversation: the lower median of the latest clock values
 * of its members, where a member not yet heard from counts as 0.
 *
 * Equivalently: log time reaches T once a strict majority of members has
 * sent an entry stamped at least T, so a minority with fast (or lying)
 * clocks cannot move deadlines. Each member's latest value only grows, so
 * the median never decreases and `logNow = max(previous, median)` equals
 * the current median.
 *
 * Incremental: a min-heap holds the `need` members with the largest values
 * (need = strict majority); its minimum is the median. Because values only
 * grow, the members outside the heap never need ordering — one that rises
 * above the heap's minimum simply swaps in. O(log members) per message.
 */
export class LogClock {
  readonly need: number
  /** Everything below works on member indices; which member is where does not change any value read. */
  readonly #members: readonly string[]
  readonly #index = new Map<string, number>()
  readonly #latest: Float64Array
  /** Min-heap of member indices, ordered by latest value. */
  readonly #heap: Int32Array
  /** Position of each member in the heap, -1 when outside it. */
  readonly #pos: Int32Array

  constructor(members: readonly string[]) {
    const k = members.length
    this.need = k - Math.floor((k - 1) / 2)
    this.#members = members
    this.#members.forEach((m, i) => this.#index.set(m, i))
    this.#latest = new Float64Array(k)
    this.#heap = new Int32Array(Math.min(this.need, k))
    this.#pos = new Int32Array(k).fill(-1)
    for (let i = 0; i < this.#heap.length; i++) {
      this.#heap[i] = i
      this.#pos[i] = i
    }
  }

  /** The lower median of the members' latest values. */
  get median(): number {
    return this.#heap.length === 0 ? 0 : this.#latest[this.#heap[0]!]!
  }

  latest(account: string): number {
    const i = this.#index.get(account)
    return i === undefined ? 0 : this.#latest[i]!
  }

  /** Members heard from, with their latest value (for serialization). */
  heard(): Map<string, number> {
    const out = new Map<string, number>()
    this.#members.forEach((m, i) => {
      if (this.#latest[i]! > 0) out.set(m, this.#latest[i]!)
    })
    return out
  }

  /** Records a member's clock; returns whether its latest value grew. Unknown accounts are ignored. */
  observe(account: string, t: number): boolean {
    const i = this.#index.get(account)
    if (i === undefined || t <= this.#latest[i]!) return false
    this.#latest[i] = t
    const p = this.#pos[i]!
    if (p >= 0) {
      this.#siftDown(p)
    } else if (this.#heap.length > 0 && t > this.#latest[this.#heap[0]!]!) {
      this.#pos[this.#heap[0]!] = -1
      this.#heap[0] = i
      this.#pos[i] = 0
      this.#siftDown(0)
    }
    return true
  }

  #siftDown(start: number): void {
    const heap = this.#heap
    const latest = this.#latest
    const pos = this.#pos
    const n = heap.length
    let i = start
    const item = heap[i]!
    const v = latest[item]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && latest[heap[r]!]! < latest[heap[l]!]! ? r : l
      if (latest[heap[c]!]! >= v) break
      heap[i] = heap[c]!
      pos[heap[i]!] = i
      i = c
    }
    heap[i] = item
    pos[item] = i
  }
}

/**
 * Stateless form of the same rule, for hosts that keep their own map:
 * `max(previous, lower median of latest)`, where `latest` has one value per
 * current member (0 for a member not heard from).
 */
export function logNow(previous: number, latest: readonly number[]): number {
  if (latest.length === 0) return previous
  const sorted = [...latest].sort((a, b) => a - b)
  return Math.max(previous, sorted[Math.floor((sorted.length - 1) / 2)]!)
}
