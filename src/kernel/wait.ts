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
