import type Hyperbee from 'hyperbee'
import { blake2b, labelledHash } from '../crypto/hash.js'

const LABEL = 'conclave/substrate/view-hash/v1'

/**
 * A content hash of a hyperbee view: equal views hash equal whatever their
 * tree shape or history, so nodes can compare what their apply produced.
 *
 * Over the entries in key order, read as raw bytes from one snapshot:
 *   h₀ = labelledHash(LABEL, [])
 *   hᵢ = BLAKE2b-256(hᵢ₋₁ ‖ u32be(|k|) ‖ k ‖ u32be(|v|) ‖ v)
 *   hash = labelledHash(LABEL, [hₙ, u64be(n)])
 * Chaining keeps memory constant for large views.
 */
export async function viewHash(view: Hyperbee<unknown, unknown>): Promise<Buffer> {
  let h = labelledHash(LABEL, [])
  let n = 0
  for await (const { key, value } of view.createReadStream(undefined, {
    keyEncoding: 'binary',
    valueEncoding: 'binary'
  })) {
    const k = key as Buffer
    const v = (value as Buffer | null) ?? Buffer.alloc(0)
    h = blake2b([h, u32(k.byteLength), k, u32(v.byteLength), v])
    n++
  }
  const count = Buffer.alloc(8)
  count.writeBigUInt64BE(BigInt(n))
  return labelledHash(LABEL, [h, count])
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
