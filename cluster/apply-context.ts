import type { HybridPublicKey } from '../src/kernel/crypto/hybrid-sign.js'
import type { MembershipHost, View, ViewBatch } from '../src/kernel/substrate/index.js'

/** What every node of one cluster applies entries against: fixed for the life of the cluster. */
export interface ClusterRules {
  accountId: string
  rootPublic: HybridPublicKey
  /** coreKeyFor(bootstrap public key): the base key and device 0's first writer. */
  bootstrapCoreKey: Buffer
}

/**
 * The world one entry handler sees: reads and writes of the view, the
 * author's writer core key, and the membership host. The same handlers run
 * inside apply (against the entry's hyperbee batch) and as a local dry run
 * before appending (against the read view, writes kept in memory), so a
 * caller learns the code apply would record before the entry hits the log.
 */
export interface ApplyContext {
  readonly rules: ClusterRules
  /** Key of the writer core that appended the entry. */
  readonly writer: Buffer
  readonly host: MembershipHost
  get<T>(key: string): Promise<T | null>
  put(key: string, value: unknown): Promise<void>
  del(key: string): Promise<void>
}

/** Apply's context: everything goes through the entry's batch, dropped if the handler throws. */
export function batchContext(
  rules: ClusterRules,
  writer: Buffer,
  batch: ViewBatch,
  host: MembershipHost
): ApplyContext {
  return {
    rules,
    writer,
    host,
    async get<T>(key: string) {
      const node = await batch.get(key)
      return node === null ? null : (node.value as T)
    },
    put: (key, value) => batch.put(key, value),
    del: (key) => batch.del(key)
  }
}

/** A dry run: reads the view, keeps writes in an overlay, never touches the log or the writer set. */
export function dryRunContext(
  rules: ClusterRules,
  writer: Buffer,
  view: View,
  host: MembershipHost
): ApplyContext {
  const overlay = new Map<string, unknown>()
  return {
    rules,
    writer,
    host,
    async get<T>(key: string) {
      if (overlay.has(key)) return (overlay.get(key) ?? null) as T | null
      const node = await view.get(key)
      return node === null ? null : (node.value as T)
    },
    async put(key, value) {
      overlay.set(key, value)
    },
    async del(key) {
      overlay.set(key, null)
    }
  }
}
