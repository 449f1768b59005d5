import sodium from 'sodium-native'

/** BLAKE2b with an explicit output length (16..64 bytes) and optional key. */
export function blake2b(input: Uint8Array | Uint8Array[], outLen = 32, key?: Uint8Array): Buffer {
  const out = Buffer.alloc(outLen)
  const k = key ? Buffer.from(key.buffer, key.byteOffset, key.byteLength) : undefined
  if (Array.isArray(input)) {
    sodium.crypto_generichash_batch(
      out,
      input.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      k
    )
  } else {
    sodium.crypto_generichash(out, Buffer.from(input.buffer, input.byteOffset, input.byteLength), k)
  }
  return out
}

/**
 * Domain-separated hash: BLAKE2b over (len(label) ‖ label ‖ parts…). Every
 * derived value in Conclave names its purpose in a label so that no two uses
 * of a hash can collide.
 */
export function labelledHash(label: string, parts: Uint8Array[], outLen = 32, key?: Uint8Array): Buffer {
  const l = Buffer.from(label, 'utf8')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(l.length)
  return blake2b([len, l, ...parts], outLen, key)
}

export function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n)
  sodium.randombytes_buf(b)
  return b
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let d = 0
  for (let i = 0; i < a.byteLength; i++) d |= a[i]! ^ b[i]!
  return d === 0
}
