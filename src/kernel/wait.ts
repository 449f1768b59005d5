/**
 * Polls `check` until it returns a truthy value, which it returns; after
 * `timeoutMs` it throws `timed out waiting for WHAT; last: …` with the last
 * value or error. For callers that wait on something they cannot subscribe
 * to (another process, a remote node); anything with an event uses it.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 200
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return v
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/**
 * `p`, or a rejection with `Error('timeout')` once `ms` have passed (`p` goes
 * on; a rejection of `p` passes through as an Error). For a step that may wait
 * for a peer nobody asks, or forever.
 */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    )
  })
}
