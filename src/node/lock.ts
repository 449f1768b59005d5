import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { NodeErrors } from './errors.js'

export const LOCK_FILE = 'node.lock'

/** Whether process `pid` exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One running node per home. The lock file holds the owner's pid; a lock
 * left by a process that died (kill -9) is taken over, a live one refused.
 * RocksDB's own lock would also refuse a second opener, but with a far less
 * helpful message, and only after we had started touching other files.
 */
export function acquireLock(home: string): () => void {
  const file = join(home, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(file, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let pid = Number.NaN
      try {
        pid = Number(readFileSync(file, 'utf8').trim())
      } catch {
        // unreadable lock: treat as stale
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw NodeErrors.NODE_LOCKED(`another node (pid ${pid}) is running on ${home}`, {
          data: { pid, home }
        })
      }
      rmSync(file, { force: true })
    }
  }
  throw NodeErrors.NODE_LOCKED(`could not take the lock on ${home}`)
}
