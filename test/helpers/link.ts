import type Corestore from 'corestore'

/** A node's store and the base whose replication rides on the store's streams. */
export interface Linkable {
  store: Corestore
  base: { attachStream(stream: unknown): void }
}

/**
 * Replicates two nodes' stores in-process (one stream pair, each stream
 * attached to its node's base); returns a function that cuts the link.
 */
export function linkNodes(a: Linkable, b: Linkable): () => void {
  const s1 = a.store.replicate(true)
  const s2 = b.store.replicate(false)
  s1.pipe(s2).pipe(s1)
  a.base.attachStream(s1)
  b.base.attachStream(s2)
  let cut = false
  return () => {
    if (cut) return
    cut = true
    s1.destroy()
    s2.destroy()
  }
}
