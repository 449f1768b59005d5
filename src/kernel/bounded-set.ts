/**
 * A set of at most `max` strings, the oldest added dropped first: a memo of
 * checks that passed (a signature, an id's checksum), bounded so that a
 * long-running node does not grow it without end.
 */
export class BoundedSet {
  readonly #max: number
  readonly #set = new Set<string>()

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#set.size
  }

  has(value: string): boolean {
    return this.#set.has(value)
  }

  add(value: string): void {
    if (this.#set.has(value)) return
    if (this.#set.size >= this.#max) {
      const oldest = this.#set.values().next().value
      if (oldest !== undefined) this.#set.delete(oldest)
    }
    this.#set.add(value)
  }
}
