import fc from 'fast-check'

/** One mutation of a byte string: [operation, position, length/other position, byte]. */
export type ByteOp = [number, number, number, number]

/** Bit flips, byte writes, truncations, splices with another real entry, insertions, deletions. */
export function mutateBytes(input: Buffer, ops: readonly ByteOp[], other: Buffer): Buffer {
  let b = Buffer.from(input)
  for (const [op, a, n, v] of ops) {
    const len = b.length
    switch (op % 6) {
      case 0:
        if (len > 0) b[Math.floor(a / 8) % len]! ^= 1 << (a % 8)
        break
      case 1:
        if (len > 0) b[a % len] = v
        break
      case 2:
        b = b.subarray(0, a % (len + 1))
        break
      case 3:
        b = Buffer.concat([b.subarray(0, a % (len + 1)), other.subarray(n % (other.length + 1))])
        break
      case 4: {
        const at = a % (len + 1)
        b = Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + (n % 4), v), b.subarray(at)])
        break
      }
      default: {
        const at = a % (len + 1)
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + (n % 16))])
      }
    }
  }
  return b
}

const byteOp: fc.Arbitrary<ByteOp> = fc.tuple(fc.nat(5), fc.nat(), fc.nat(), fc.nat(255))

/** Byte-level mutations of real encoded entries. */
export function mutatedBytes(corpus: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      fc.nat(corpus.length - 1),
      fc.array(byteOp, { minLength: 1, maxLength: 4 }),
      fc.nat(corpus.length - 1)
    )
    .map(([i, ops, j]) => mutateBytes(corpus[i]!, ops, corpus[j]!))
}

/** Every path to a value inside a JSON value. */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at)
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out))
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out)
  return out
}

function setAt(root: unknown, path: Array<string | number>, fn: (old: unknown) => unknown, remove: boolean) {
  if (path.length === 0) return fn(root)
  const copy = structuredClone(root) as Record<string | number, unknown>
  let node = copy
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>
  const last = path[path.length - 1]!
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1)
    else delete node[last]
  } else node[last] = fn(node[last])
  return copy
}

/**
 * Structural mutations of real entries (as JSON values): one field replaced
 * by a random JSON value, removed, or nudged (a string's character, a
 * number's value, a key added), so that many inputs get past the JSON and
 * shape checks into the signature and semantic checks.
 */
export function mutatedJson(corpus: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      fc.nat(corpus.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.jsonValue({ maxDepth: 2 }), fc.nat()), {
        minLength: 1,
        maxLength: 3
      })
    )
    .map(([i, muts]) => {
      let v: unknown = corpus[i]
      for (const [p, op, random, n] of muts) {
        const all = paths(v)
        const path = all[p % all.length]!
        v = setAt(
          v,
          path,
          (old) => {
            if (op === 0) return random
            if (typeof old === 'string' && old.length > 0) {
              const at = n % old.length
              return (
                old.slice(0, at) +
                String.fromCharCode((old.charCodeAt(at) + 1 + (n % 7)) % 0x10000) +
                old.slice(at + 1)
              )
            }
            if (typeof old === 'number') return [old + 1, old - 1, -old, old * 1e6, 2 ** 53, 0.5][n % 6]
            if (old !== null && typeof old === 'object' && !Array.isArray(old))
              return { ...old, [`x${n % 3}`]: random }
            if (Array.isArray(old)) return [...old, random]
            return random
          },
          op === 1 && path.length > 0
        )
      }
      return v
    })
}
