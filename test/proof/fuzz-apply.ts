/**
 * Fuzz suite, apply (issue 10, part 3): three real conversation nodes (RocksDB
 * corestores, replicating in-process) where one member's writer appends seeded
 * mutations of real entries of that conversation — bypassing every local
 * check — in batches, while another member keeps posting honestly. After each
 * round the three views must converge to one hash and record the same skips
 * (`divergent`), no base may fail (`crashes`), and each round must settle
 * within the time limit (`hangs`).
 */
import type { Test } from 'brittle'
import fc from 'fast-check'
import { signMessage, signWriterRequest } from '../../conversations/entries.js'
import { hex } from '../../src/kernel/encoding.js'
import { jsonCodec } from '../../src/kernel/substrate/codec.js'
import { type Account, converged, members, type Node, trio, writerFor } from '../conversations/helpers.js'
import { type Figures, figures } from './figures.js'
import { mutatedBytes, mutatedJson } from './mutate.js'
import { withScope } from './scope.js'

export interface ApplyFuzzOptions {
  seed: number
  /** Hostile entries in all. */
  inputs: number
  /** Entries per append (one apply call on every node). */
  batch?: number
  /** A round that does not converge within this is a hang (default 120 s). */
  roundTimeoutMs?: number
  log?: (line: string) => void
}

let logical = 0

/**
 * Real entries of the conversation. The writer request is for b0's own
 * writer key and the revocation names a device the conversation never had:
 * a valid request for a key nobody holds would make that key an indexer and
 * stall finality for good, which is a member's own doing, not a fuzzed input.
 */
function realEntries(id: string, A: Account, B: Account, manifest: unknown, tag: string): unknown[] {
  const msg = (who: Account, index: number, kind: string, body: Record<string, unknown>) => {
    const d = who.device(index)
    return signMessage(
      id,
      {
        type: 'conv/msg',
        v: 1,
        kind,
        body,
        author: { accountId: who.accountId, deviceId: d.deviceId, signingKey: hex(d.signing.publicKey) },
        hlc: { wall: 1_700_000_000_000, logical: ++logical }
      },
      d.signing
    )
  }
  return [
    manifest,
    msg(B, 0, 'ballot', { choice: 'sushi' }),
    msg(A, 1, 'ballot', { choice: 'pizza' }),
    msg(B, 0, 'comment', { text: 'maybe' }),
    msg(A, 0, 'close', {}),
    {
      type: 'conv/writer',
      v: 1,
      ...signWriterRequest(id, B.device(0).deviceId, writerFor(B, 0, tag).publicKey, B.device(0).signing)
    },
    {
      type: 'conv/device',
      v: 1,
      accountId: A.accountId,
      device: A.certificate(1),
      sealedKey: '00'.repeat(1193)
    },
    { type: 'conv/revoke', v: 1, accountId: A.accountId, revocation: A.revocation(5) }
  ]
}

export async function runApplyFuzz(opts: ApplyFuzzOptions): Promise<Figures> {
  const started = Date.now()
  const f = figures('fuzz-apply', opts.seed)
  const batch = opts.batch ?? 50
  const log = opts.log ?? (() => {})
  await withScope(async (t: Test, scope) => {
    const tag = `fuzz-${opts.seed}`
    const { A, B, a0, a1, b0, nodes } = await trio(
      t,
      (A, B) => ({
        topic: 'Lunch?',
        pattern: 'vote',
        consensus: { method: 'majority' },
        options: ['pizza', 'sushi'],
        members: members(A, B)
      }),
      tag
    )
    const manifest = (await a0.conv.base.view.get('manifest'))!.value
    const seeds = realEntries(a0.conv.id, A, B, manifest, tag)
    // Zero-length blocks are left out: one of them from an indexer stalls the
    // conversation's finality (docs/reliability.md, "Known findings").
    const arb = fc.oneof(
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
    const failed = (): boolean => nodes.some((n: Node) => n.conv.base.lastError) || scope.failures.length > 0
    let round = 0
    const appended = new Map<number, Buffer>()
    let honest = 0
    for (let done = 0; done < opts.inputs && !failed(); round++) {
      const n = Math.min(batch, opts.inputs - done)
      const inputs = fc.sample(arb, { seed: opts.seed + round, numRuns: n })
      const end = await b0.conv.base.autobase.append(inputs)
      const first = end - inputs.length + 1
      inputs.forEach((bytes, i) => appended.set(first + i, bytes))
      // honest traffic in between, which must keep working
      if (!(await a1.conv.show({ limit: 0 })).closed) {
        await a1.conv.post('comment', { text: `round ${round}` }).then(
          () => honest++,
          () => {}
        )
      }
      done += n
      f.runs = done
      try {
        await converged(nodes, () => true, opts.roundTimeoutMs ?? 120_000)
      } catch (err) {
        f.hangs++
        f.firstHang ??= (err as Error).message.slice(0, 1000)
        f.hangBatch = inputs.map((b) => b.toString('utf8').slice(0, 300))
        break
      }
      if (round % 10 === 0) log(`fuzz-apply: ${done}/${opts.inputs} entries`)
    }
    const skipped = await Promise.all(nodes.map((n) => n.conv.skipped()))
    const same = skipped.every((s) => JSON.stringify(s) === JSON.stringify(skipped[0]))
    if (!same) f.divergent++
    const hashes = await Promise.all(nodes.map(async (n) => hex(await n.conv.viewHash())))
    if (!hashes.every((h) => h === hashes[0])) f.divergent++
    const b0Key = hex(b0.conv.base.localKey)
    const codes: Record<string, number> = {}
    for (const r of skipped[0]!) {
      if (r.writer !== b0Key || !appended.has(r.length)) continue
      appended.delete(r.length)
      f.refused++
      codes[r.code] = (codes[r.code] ?? 0) + 1
    }
    // an empty block is no entry at all: skipped everywhere without a record (safe-apply)
    for (const [length, b] of appended) {
      if (b.length > 0) continue
      appended.delete(length)
      f.refused++
      codes['EMPTY_BLOCK_IGNORED'] = (codes['EMPTY_BLOCK_IGNORED'] ?? 0) + 1
    }
    // what apply took: kept for the report (a mutation that is still a valid entry)
    f.acceptedSamples = [...appended.values()].slice(0, 5).map((b) => b.toString('utf8').slice(0, 400))
    f.crashes = nodes.filter((n) => n.conv.base.lastError).length + scope.failures.length
    f.failures = scope.failures.slice(0, 5)
    f.nodes = nodes.length
    f.rounds = round
    f.accepted = f.runs - f.refused
    f.honestPosts = honest
    f.codes = codes
    f.viewHash = hashes[0]
  })
  f.ms = Date.now() - started
  return f
}
