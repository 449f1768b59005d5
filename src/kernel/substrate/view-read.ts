/** The key range of every view key starting with `prefix` (its last character bumped for `lt`). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  const last = prefix.charCodeAt(prefix.length - 1)
  return { gte: prefix, lt: prefix.slice(0, -1) + String.fromCharCode(last + 1) }
}

interface Readable {
  createReadStream(range: { gte: string; lt: string }): AsyncIterable<{ key: string; value: unknown }>
}

/** Every record under `prefix` in key order, with the rest of its key as `id`. */
export async function readPrefix<T>(
  view: Readable,
  prefix: string
): Promise<Array<{ id: string; value: T }>> {
  const out: Array<{ id: string; value: T }> = []
  for await (const { key, value } of view.createReadStream(prefixRange(prefix))) {
    out.push({ id: key.slice(prefix.length), value: value as T })
  }
  return out
}
