/**
 * The loop both apply fuzzes share (issue 10, part 3): three real nodes of one
 * base, one hostile writer appending seeded mutations of real entries straight
 * to autobase (bypassing every local check) in large batches — one autobase
 * node per entry, one apply call on every node per batch — while another
 * member keeps appending honest entries. Every `checkEvery` rounds and at the
 * end the three views must be final with the same length and the same view
 * core (its Merkle tree hash); at the end they must also have one view hash
 * and the same skip records (`divergent`). No base may fail (`crashes`); a
 * check that does not settle within the time limit is a `hang`.
 *
 * Nothing of the appended bytes is kept: the skip records name each entry by
 * (writer, length), empty blocks are remembered by length, and the entries
 * apply took are generated again from their round's seed for the report:
 * `acceptedReplays` are a real entry again (the same JSON value: a byte
 * mutation that only added a space, say), `acceptedOther` the rest, with
 * samples of them.
 */
import fc from 'fast-check'
import { blake2b } from '../../src/kernel/crypto/hash.js'
import { canonicalJson, hex } from '../../src/kernel/encoding.js'
import { jsonCodec } from '../../src/kernel/substrate/codec.js'
import type { SubstrateBase } from '../../src/kernel/substrate/open-base.js'
import type { Figures } from './figures.js'
import { mutatedBytes, mutatedJson } from './mutate.js'

export interface ApplyFuzzOptions {
  seed: number
  /** Hostile entries in all. */
  inputs: number
  /** Entries per append (one autobase node each, one apply call on every node). Default 1000. */
  batch?: number
  /** Rounds between two convergence checks (there is always one at the end). Default 20. */
  checkEvery?: number
  /** A check that does not settle within this is a hang (default 300 s). */
  roundTimeoutMs?: number
  log?: (line: string) => void
}

export interface FuzzTarget {
  /** The three nodes' bases. */
  bases: Array<SubstrateBase<unknown>>
  /** The base whose writer appends the hostile entries. */
  hostile: SubstrateBase<unknown>
  /** Real entries of this base, the mutations' starting points. */
  seeds: unknown[]
  /** Appends one honest entry from another member (false when there is nothing left to append). */
  honest(round: number): Promise<boolean>
  /** Failures the nodes reported ('fault' events). */
  failures(): string[]
}

/** Seeded hostile entries: structural and byte mutations of the seeds, random JSON and bytes, empty blocks. */
export function hostileEntries(seeds: unknown[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(seeds).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 3, arbitrary: mutatedBytes(seeds.map((s) => jsonCodec.encode(s))) },
    {
      weight: 1,
      arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))
    },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 128 }).map((u) => Buffer.from(u)) },
    // an empty block: the author's own apply sees it as an empty buffer, every other node as none
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) }
  )
}

/** Waits until the three views are final with one length and one Merkle root; returns that length. */
async function settle(bases: Array<SubstrateBase<unknown>>, timeoutMs: number): Promise<number> {
  let length = 0
  try {
    await bases[0]!.until(
      async () => {
        const cores = bases.map((b) => b.view.core)
        length = cores[0]!.length
        if (!cores.every((c) => c.signedLength === c.length && c.length === length)) return false
        const roots = await Promise.all(cores.map(async (c) => hex(await c.treeHash(length))))
        return roots.every((r) => r === roots[0])
      },
      { signal: AbortSignal.timeout(timeoutMs) }
    )
  } catch (err) {
    const where = bases.map((b, i) => {
      const core = b.view.core
      const a = b.autobase
      return `node ${i}: view ${core.signedLength}/${core.length}, system ${a.signedLength}/${a.indexedLength}/${a.length}, writable ${b.writable}`
    })
    throw new Error(`not converged: ${(err as Error).message}\n${where.join('\n')}`)
  }
  return length
}

export async function fuzzApply(target: FuzzTarget, opts: ApplyFuzzOptions, f: Figures): Promise<void> {
  const batch = opts.batch ?? 1000
  const checkEvery = opts.checkEvery ?? 20
  const timeoutMs = opts.roundTimeoutMs ?? 300_000
  const log = opts.log ?? (() => {})
  const { bases, hostile } = target
  const arb = hostileEntries(target.seeds)
  const failed = (): boolean => bases.some((b) => b.lastError) || target.failures().length > 0
  // the hostile writer's lengths, round by round: [first length, count]
  const rounds: Array<[number, number]> = []
  const empty = new Set<number>()
  let honest = 0
  let checks = 0
  const ms = { generate: 0, append: 0, honest: 0, settle: 0 }
  let round = 0
  for (let done = 0; done < opts.inputs && !failed(); round++) {
    const n = Math.min(batch, opts.inputs - done)
    let t0 = Date.now()
    const inputs = fc.sample(arb, { seed: opts.seed + round, numRuns: n })
    ms.generate += Date.now() - t0
    t0 = Date.now()
    const end = await hostile.autobase.append(inputs)
    ms.append += Date.now() - t0
    const first = end - inputs.length + 1
    rounds.push([first, n])
    inputs.forEach((bytes, i) => {
      if (bytes.byteLength === 0) empty.add(first + i)
    })
    // honest traffic in between, which must keep working
    t0 = Date.now()
    if (await target.honest(round).catch(() => false)) honest++
    ms.honest += Date.now() - t0
    done += n
    f.runs = done
    if ((round + 1) % checkEvery === 0 || done >= opts.inputs) {
      t0 = Date.now()
      try {
        const length = await settle(bases, timeoutMs)
        checks++
        log(`fuzz-apply: ${done}/${opts.inputs} entries, views final at ${length}, ${Date.now() - t0} ms`)
      } catch (err) {
        f.hangs++
        f.firstHang ??= (err as Error).message.slice(0, 1000)
        f.hangRound = round
        break
      }
      ms.settle += Date.now() - t0
    }
  }
  // the whole views and every skip record, compared across the three nodes
  const hostileKey = hex(hostile.localKey)
  const ranges = rounds.map(([first, n]) => [first, first + n] as const)
  const inHostile = (length: number): boolean => {
    let lo = 0
    let hi = ranges.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const [a, b] = ranges[mid]!
      if (length < a) hi = mid - 1
      else if (length >= b) lo = mid + 1
      else return true
    }
    return false
  }
  const codes: Record<string, number> = {}
  const refusedLengths = new Set<number>()
  const skipDigests: string[] = []
  for (const [i, b] of bases.entries()) {
    const records = await b.skipped()
    let h = blake2b(Buffer.from(`skip records ${records.length}`), 32)
    for (const r of records) {
      h = blake2b([h, Buffer.from(JSON.stringify(r))], 32)
      if (i !== 0 || r.writer !== hostileKey || !inHostile(r.length)) continue
      refusedLengths.add(r.length)
      codes[r.code] = (codes[r.code] ?? 0) + 1
    }
    skipDigests.push(hex(h))
  }
  if (!skipDigests.every((d) => d === skipDigests[0])) f.divergent++
  const hashes: string[] = []
  for (const b of bases) hashes.push(hex(await b.viewHash()))
  if (!hashes.every((h) => h === hashes[0])) f.divergent++
  // an empty block is no entry at all: skipped everywhere without a record (safe-apply)
  for (const length of empty) {
    if (refusedLengths.has(length)) continue
    refusedLengths.add(length)
    codes['EMPTY_BLOCK_IGNORED'] = (codes['EMPTY_BLOCK_IGNORED'] ?? 0) + 1
  }
  f.refused = refusedLengths.size
  // what apply took, every entry of it generated again from its round's seed: a replay of a
  // real entry (the same JSON value, whatever its spacing or key order) or something else,
  // a few of which are kept for the report
  const real = new Set(target.seeds.map((v) => canonical(v)))
  const acceptedSamples: string[] = []
  let replays = 0
  let other = 0
  for (const [r, [first, n]] of rounds.entries()) {
    const taken: number[] = []
    for (let i = 0; i < n; i++) if (!refusedLengths.has(first + i)) taken.push(i)
    if (taken.length === 0) continue
    const inputs = fc.sample(arb, { seed: opts.seed + r, numRuns: n })
    for (const i of taken) {
      const text = inputs[i]!.toString('utf8')
      if (real.has(canonical(parseJson(text)))) replays++
      else {
        other++
        if (acceptedSamples.length < 5) acceptedSamples.push(text.slice(0, 400))
      }
    }
  }
  f.acceptedReplays = replays
  f.acceptedOther = other
  f.acceptedSamples = acceptedSamples
  f.crashes = bases.filter((b) => b.lastError).length + target.failures().length
  f.failures = target.failures().slice(0, 5)
  f.nodes = bases.length
  f.rounds = round
  f.batch = batch
  f.checks = checks
  f.accepted = f.runs - f.refused
  f.honestPosts = honest
  f.codes = codes
  f.viewHash = hashes[0]
  f.viewEntries = bases[0]!.view.core.length
  f.msBy = ms
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A JSON value's canonical text, or null when it has none (not JSON, or not plain). */
function canonical(value: unknown): string | null {
  if (value === undefined) return null
  try {
    return canonicalJson(value)
  } catch {
    return null
  }
}
