import type { Test } from 'brittle'

/**
 * The part of brittle's `Test` the shared test helpers use (teardown, and
 * `fail` from a base's 'fault' listener), for a proof suite that runs outside
 * brittle (`npm run soak`). The helpers build real stores and swarms either
 * way; this only collects their teardowns and failures.
 */
export class Scope {
  readonly failures: string[] = []
  readonly #teardowns: Array<{ fn: () => unknown; order: number; i: number }> = []

  get test(): Test {
    const teardowns = this.#teardowns
    const failures = this.failures
    const t = {
      name: 'proof',
      teardown(fn: () => unknown, opts: { order?: number } = {}) {
        teardowns.push({ fn, order: opts.order ?? 0, i: teardowns.length })
      },
      fail(message?: string) {
        failures.push(message ?? 'failed')
      },
      comment() {}
    }
    return new Proxy(t, {
      get(target, prop) {
        if (prop in target) return target[prop as keyof typeof target]
        throw new Error(`Scope: the proof suites do not provide t.${String(prop)}`)
      }
    }) as unknown as Test
  }

  /** Runs the teardowns as brittle does: ascending order, then registration order. */
  async close(): Promise<void> {
    const list = this.#teardowns.splice(0).sort((a, b) => a.order - b.order || a.i - b.i)
    for (const { fn } of list) {
      try {
        await fn()
      } catch (err) {
        this.failures.push(`teardown: ${(err as Error).message}`)
      }
    }
  }
}

/** Runs `fn` with a fresh Scope, closing it after. */
export async function withScope<T>(fn: (t: Test, scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope()
  try {
    return await fn(scope.test, scope)
  } finally {
    await scope.close()
  }
}
