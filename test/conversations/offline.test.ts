import test from 'brittle'
import type { MessageRecord } from '../../conversations/index.js'
import { hex } from '../../src/kernel/encoding.js'
import { conversationKey, converged, link, members, openNode, trio } from './helpers.js'

/** What a two-member majority vote must show for these listed messages, in this order. */
function expectedFrom(messages: MessageRecord[]): {
  winner: string | null
  closedBy: number | null
  late: number[]
} {
  const latest = new Map<string, string>()
  let closedBy: number | null = null
  let winner: string | null = null
  const late: number[] = []
  for (const m of messages) {
    if (closedBy !== null) {
      late.push(m.seq)
      continue
    }
    latest.set(m.author.accountId, m.body.choice as string)
    const votes = [...latest.values()]
    // both members for the same option is more than half of two
    if (votes.length === 2 && votes[0] === votes[1]) {
      closedBy = m.seq
      winner = votes[0]!
    }
  }
  return { winner, closedBy, late }
}

test('ballots cast by devices that were offline merge to the same result everywhere', async (t) => {
  const { a0, a1, b0, nodes, mesh } = await trio(t, (A, B) => ({
    topic: 'Where to?',
    pattern: 'vote',
    consensus: { method: 'majority' },
    options: ['sea', 'mountains'],
    members: members(A, B)
  }))
  mesh.isolate(a1)
  mesh.isolate(b0)
  // three devices, none seeing the others: A's two devices disagree, B changes its mind
  await a1.conv.post('ballot', { choice: 'mountains' })
  await a1.conv.post('ballot', { choice: 'sea' })
  await b0.conv.post('ballot', { choice: 'mountains' })
  await b0.conv.post('ballot', { choice: 'sea' })
  await a0.conv.post('ballot', { choice: 'mountains' })
  for (const n of nodes) {
    const s = await n.conv.show()
    t.absent(s.closed, `${n.name}: alone, one account cannot decide`)
  }

  mesh.linkAll()
  const started = Date.now()
  const hash = await converged(nodes, async (n) => (await n.conv.show()).total === 5)
  t.comment(`merged and final after ${Date.now() - started} ms`)
  const first = await a0.conv.show()
  const expected = expectedFrom(first.messages)
  t.comment(
    `linearized: ${first.messages.map((m) => `${m.author.accountId.slice(4, 8)}:${m.body.choice}`).join(', ')}`
  )
  for (const n of nodes) {
    const s = await n.conv.show()
    t.alike(s.messages, first.messages, `${n.name}: the same linearized messages`)
    t.is(s.closed, expected.closedBy !== null, `${n.name}: closed exactly when both accounts agree`)
    t.alike(
      s.outcome?.winners ?? null,
      expected.winner === null ? null : [expected.winner],
      `${n.name}: winner`
    )
    t.is(s.outcome?.closedBy ?? null, expected.closedBy, `${n.name}: closed by that message`)
    t.alike(
      s.messages.filter((m) => m.late).map((m) => m.seq),
      expected.late,
      `${n.name}: what came after the close is late`
    )
    t.is((await n.conv.viewHash()).toString('hex'), hash, `${n.name}: same view hash`)
    t.comment(`${n.name}: tally cache ${JSON.stringify(n.conv.tallyStats)}`)
  }
})

test('a reopened node rebuilds its tally from the view and carries on', async (t) => {
  const { a0, a1, b0, mesh } = await trio(t, (A, B) => ({
    topic: 'Paint colour',
    pattern: 'vote',
    consensus: { method: 'majority' },
    options: ['red', 'green', 'blue'],
    members: members(A, B)
  }))
  await a1.conv.post('ballot', { choice: 'red' })
  await a1.conv.post('comment', { text: 'or green' })
  await b0.conv.base.until(async () => (await b0.conv.show()).total === 2)
  await b0.conv.post('ballot', { choice: 'green' })
  await a1.conv.base.until(async () => (await a1.conv.show()).total === 3)
  const before = await a1.conv.show()
  t.absent(before.closed, 'one vote each is no majority')

  const hashBefore = hex(await a1.conv.viewHash())
  mesh.isolate(a1)
  await a1.conv.close()
  await a1.store.close()
  const again = await openNode(t, 'a1', a1.acct, 1, {
    encryptionKey: conversationKey('c1'),
    tag: 'c1',
    bootstrap: a0.conv.key,
    dir: a1.dir
  })
  t.is(hex(await again.conv.viewHash()), hashBefore, 'the reopened view is the one it closed')
  t.ok(again.conv.writable, 'still a writer')
  const cutA = link(again, a0)
  const cutB = link(again, b0)
  t.teardown(
    () => {
      cutA()
      cutB()
    },
    { order: -1 }
  )
  // A moves to green: both members agree
  const { seq } = await again.conv.post('ballot', { choice: 'green' })
  t.alike(
    again.conv.tallyStats,
    { hits: 0, rebuilds: 1, replayed: 3, fromCheckpoint: 0 },
    'one rebuild: the three inputs in the view'
  )
  const nodes = [a0, again, b0]
  await converged(nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')
  for (const n of nodes) {
    const s = await n.conv.show()
    t.alike(s.outcome?.winners, ['green'], `${n.name}: green`)
    t.is(s.outcome?.closedBy, seq, `${n.name}: closed by the reopened node's ballot`)
  }
})
