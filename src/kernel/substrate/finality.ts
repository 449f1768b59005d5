import type { SubstrateBase } from './open-base.js'
import type { View } from './safe-apply.js'

/**
 * Whether the first `length` blocks of a view are final: autobase commits the
 * indexed part of a view to the view core and signs it, so `signedLength`
 * is the boundary between final blocks and the tentative tip (which a reorder
 * may still truncate and rebuild). A fact at view block `seq` (hyperbee
 * `get(key).seq`) is final when `isIndexed(view, seq + 1)`; re-read `seq`
 * after an update, since a reorder can move it.
 */
export function isIndexed(view: View, length: number): boolean {
  return length <= view.core.signedLength
}

export type Finality = 'final' | 'tentative'

export function finalityOf(view: View, seq: number): Finality {
  return isIndexed(view, seq + 1) ? 'final' : 'tentative'
}

/** Resolves once the first `length` view blocks are final. */
export function waitForIndexed<T>(
  base: SubstrateBase<T>,
  length: number,
  opts?: { signal?: AbortSignal }
): Promise<void> {
  return base.until(() => isIndexed(base.view, length), opts)
}

/** Resolves once the local writer has been added (by some node's apply) and the add reached us. */
export function waitForWriter<T>(base: SubstrateBase<T>, opts?: { signal?: AbortSignal }): Promise<void> {
  return base.until(() => base.writable, opts)
}

/** Resolves once the local writer acts as an indexer (after its add as indexer is applied). */
export function waitForIndexer<T>(base: SubstrateBase<T>, opts?: { signal?: AbortSignal }): Promise<void> {
  return base.until(() => base.isIndexer, opts)
}
