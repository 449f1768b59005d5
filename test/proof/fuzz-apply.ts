/**
 * Fuzz suite, conversation apply (issue 10, part 3): three real conversation
 * nodes (two accounts, RocksDB corestores, replicating in-process) where one
 * member's writer appends seeded mutations of real entries of that
 * conversation while another member keeps posting (fuzz-apply-loop.ts).
 */
import type { Test } from 'brittle'
import { signMessage, signWriterRequest } from '../../conversations/entries.js'
import { hex } from '../../src/kernel/encoding.js'
import type { SubstrateBase } from '../../src/kernel/substrate/open-base.js'
import { type Account, members, trio, writerFor } from '../conversations/helpers.js'
import { type Figures, figures } from './figures.js'
import { type ApplyFuzzOptions, fuzzApply } from './fuzz-apply-loop.js'
import { withScope } from './scope.js'

export type { ApplyFuzzOptions } from './fuzz-apply-loop.js'

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
    await fuzzApply(
      {
        bases: nodes.map((n) => n.conv.base as SubstrateBase<unknown>),
        hostile: b0.conv.base as SubstrateBase<unknown>,
        seeds: realEntries(a0.conv.id, A, B, manifest, tag),
        async honest(round) {
          if ((await a1.conv.show({ limit: 0 })).closed) return false
          await a1.conv.post('comment', { text: `round ${round}` })
          return true
        },
        failures: () => scope.failures
      },
      opts,
      f
    )
  })
  f.ms = Date.now() - started
  return f
}
