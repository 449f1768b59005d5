import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { z } from 'zod'
import { hexSchema, unhex } from '../kernel/encoding.js'
import { writeFileAtomic } from '../kernel/identity/home-store.js'
import { Resource } from '../kernel/lifecycle.js'
import type { Logger } from '../kernel/log.js'

/** HOME/blind-cores.json: the conversation writer cores a relay keeps, without any key that reads them. */
export const BLIND_CORES_FILE = 'blind-cores.json'
/** At most this many cores are kept (a hostile or runaway sender cannot make a relay open without end). */
export const MAX_BLIND_CORES = 20_000

const FileSchema = z.object({ v: z.literal(1), cores: z.array(hexSchema(32)).max(MAX_BLIND_CORES) }).strict()

export interface BlindCoresComponents {
  store: Corestore
  home: string
  log: Logger
}

/**
 * A relay's blind copies of conversation writer cores (docs/archive.md,
 * "Relays"). The own access devices name the writer cores of their
 * conversations; the relay opens each by its public key, downloads all of it
 * and keeps following it. The blocks are hypercore-encrypted with the
 * conversation's key, which the relay never has: it verifies and serves
 * ciphertext, and counts as a copy for durability.
 */
export class BlindCores extends Resource {
  readonly #c: BlindCoresComponents
  readonly #cores = new Map<string, Hypercore<unknown>>()

  constructor(components: BlindCoresComponents) {
    super()
    this.#c = components
  }

  protected override async _open(): Promise<void> {
    for (const key of this.#readFile()) await this.#hold(key)
  }

  protected override async _close(): Promise<void> {
    for (const core of this.#cores.values()) await core.close().catch(() => {})
    this.#cores.clear()
  }

  /** The keys (hex) of the cores held. */
  keys(): string[] {
    return [...this.#cores.keys()]
  }

  /** Starts holding every core of `keys` not held yet; returns how many were new. */
  async add(keys: string[]): Promise<number> {
    let added = 0
    for (const key of keys) {
      if (this.closing || this.#cores.has(key)) continue
      if (this.#cores.size >= MAX_BLIND_CORES) {
        this.#c.log.warn('relay: no more conversation cores kept', { max: MAX_BLIND_CORES })
        break
      }
      await this.#hold(key)
      added++
    }
    if (added > 0) this.#writeFile()
    return added
  }

  async #hold(key: string): Promise<void> {
    const core = this.#c.store.get({ key: unhex(key) })
    await core.ready()
    this.#cores.set(key, core)
    // all of it, and whatever is appended later
    core.download({ start: 0, end: -1 })
  }

  /** The list is not precious (the access devices send it again): a broken file is reported and rebuilt. */
  #readFile(): string[] {
    const file = join(this.#c.home, BLIND_CORES_FILE)
    try {
      return FileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).cores
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#c.log.warn('relay: the list of conversation cores is unreadable; it is learned again', {
          file,
          err: err as Error
        })
      }
      return []
    }
  }

  #writeFile(): void {
    const body = { v: 1, cores: this.keys() }
    writeFileAtomic(join(this.#c.home, BLIND_CORES_FILE), `${JSON.stringify(body, null, 2)}\n`, 0o600)
  }
}
