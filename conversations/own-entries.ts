import type { Listed, OwnEntries } from './apply.js'

/** What apply last did with one of this device's entries. */
export interface OwnOutcome {
  listed: Listed | null
  /** The code apply recorded if it skipped the entry. */
  skipped: string | null
}

/**
 * What apply did with the entries this device is appending right now, as
 * apply ran them: `postBatch` reports it without reading the view back
 * (that read took ≈ 1.2 ms of a post). Only entries from the first length
 * an in-flight append waits for are kept, and nothing once none is in
 * flight. A reorder that runs an entry again overwrites its outcome, so what
 * is here is what the tip of the view says.
 */
export class OwnResults implements OwnEntries {
  readonly #writer: () => Buffer
  readonly #outcomes = new Map<number, OwnOutcome>()
  /** First length each in-flight append waits for. */
  readonly #waiting = new Map<number, number>()
  #next = 0
  #from = Infinity

  constructor(writer: () => Buffer) {
    this.#writer = writer
  }

  get writer(): Buffer {
    return this.#writer()
  }

  /** An append whose first entry will have `first` as its length begins; call the result when it is done. */
  begin(first: number): () => void {
    const id = this.#next++
    this.#waiting.set(id, first)
    this.#from = Math.min(this.#from, first)
    return () => {
      this.#waiting.delete(id)
      this.#from = Math.min(Infinity, ...this.#waiting.values())
      for (const length of this.#outcomes.keys()) if (length < this.#from) this.#outcomes.delete(length)
    }
  }

  applied(length: number, listed: Listed | null): void {
    if (length >= this.#from) this.#outcomes.set(length, { listed, skipped: null })
  }

  skipped(length: number, code: string): void {
    if (length >= this.#from) this.#outcomes.set(length, { listed: null, skipped: code })
  }

  /** The outcomes of lengths first…first+count-1, or null if apply has not reported one of them. */
  take(first: number, count: number): OwnOutcome[] | null {
    const out: OwnOutcome[] = []
    for (let i = 0; i < count; i++) {
      const o = this.#outcomes.get(first + i)
      if (o === undefined) return null
      out.push(o)
    }
    return out
  }
}
