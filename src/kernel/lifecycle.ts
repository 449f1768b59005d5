import { EventEmitter } from 'node:events'
import { KernelErrors } from './errors.js'

/**
 * Ready/close lifecycle in the manner of `ready-resource`: the constructor does
 * no I/O, `ready()` and `close()` are idempotent and memoised, subclasses
 * implement `_open()` / `_close()`, and a close that races an open waits for the
 * open to settle first so that nothing half-open is left behind.
 */
export abstract class Resource extends EventEmitter {
  opening: Promise<void> | null = null
  closing: Promise<void> | null = null
  opened = false
  closed = false

  protected async _open(): Promise<void> {}
  protected async _close(): Promise<void> {}

  ready(): Promise<void> {
    if (this.closing) return Promise.reject(KernelErrors.KERNEL_CLOSED(`${this.constructor.name} is closed`))
    if (!this.opening) this.opening = this.#open()
    return this.opening
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.#close()
    return this.closing
  }

  async #open(): Promise<void> {
    await this._open()
    this.opened = true
    this.emit('ready')
  }

  async #close(): Promise<void> {
    if (this.opening) {
      try {
        await this.opening
      } catch {
        // an open that failed still gets its _close to release what it took
      }
    }
    await this._close()
    this.closed = true
    this.emit('close')
  }

  /** Throws KERNEL_CLOSED once close() has started. */
  protected assertOpen(): void {
    if (this.closing) throw KernelErrors.KERNEL_CLOSED(`${this.constructor.name} is closed`)
  }
}

/**
 * Runs `work` one run at a time. A trigger while a run is going asks for one
 * more run after it (any number of triggers in between make one), so every
 * trigger is followed by a run that started after it; the promise a trigger
 * returns settles when the runs it joined are over.
 */
export class Rerun {
  readonly #work: () => Promise<void>
  readonly #stopped: () => boolean
  #running: Promise<void> | null = null
  #again = false

  constructor(work: () => Promise<void>, stopped: () => boolean = () => false) {
    this.#work = work
    this.#stopped = stopped
  }

  trigger(): Promise<void> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    const loop = async (): Promise<void> => {
      try {
        do {
          this.#again = false
          await this.#work()
        } while (this.#again && !this.#stopped())
      } finally {
        this.#running = null
      }
    }
    this.#running = loop()
    return this.#running
  }

  /** The current run (and the reruns it was asked for), or a resolved promise. */
  get idle(): Promise<void> {
    return this.#running ?? Promise.resolve()
  }
}
