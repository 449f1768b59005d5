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
