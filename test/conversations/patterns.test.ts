import test from 'brittle'
import { signMessage } from '../../conversations/entries.js'
import { hex } from '../../src/kernel/encoding.js'
import { codeOf, converged, members, type Node, trio } from './helpers.js'

/** Appends a correctly signed message without the local checks (an outdated or hostile node). */
async function rawPost(n: Node, kind: string, body: Record<string, unknown>): Promise<void> {
  const d = n.acct.device(n.index)
  const entry = signMessage(
    n.conv.id,
    {
      type: 'conv/msg',
      v: 1,
      kind,
      body,
      author: { accountId: n.acct.accountId, deviceId: d.deviceId, signingKey: hex(d.signing.publicKey) },
      hlc: { wall: n.wall.now, logical: 1000 }
    },
    d.signing
  )
  await n.conv.base.append(entry)
}

test('debate: proposal, arguments, ballots in order; a wrong phase is refused locally and in apply', async (t) => {
  const { a0, a1, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Adopt the four-day week?',
    pattern: 'debate',
    consensus: { method: 'unanimity' },
    members: members(A, B)
  }))
  const s0 = await b0.conv.show()
  t.alike(s0.options, ['adopt', 'reject'], 'the pattern supplied its default options')
  t.is(s0.phase, 'proposal')
  t.is(
    await codeOf(b0.conv.post('argument', { side: 'for', text: 'early' })),
    'CONV_WRONG_PHASE',
    'no argument before the proposal'
  )
  t.is(
    await codeOf(b0.conv.post('proposal', { text: 'mine' })),
    'CONV_FORBIDDEN',
    'only the creator proposes'
  )
  t.is(
    await codeOf(b0.conv.post('ballot', { choice: 'adopt' })),
    'CONV_WRONG_PHASE',
    'no ballot before voting opens'
  )

  await a0.conv.post('proposal', { text: 'Fridays off' })
  await b0.conv.base.until(async () => (await b0.conv.show()).phase === 'arguments')
  t.is(await codeOf(a0.conv.post('proposal', { text: 'again' })), 'CONV_WRONG_PHASE', 'one proposal')
  await b0.conv.post('argument', { side: 'against', text: 'customers call on Fridays' })
  await a1.conv.post('argument', { side: 'for', text: 'rested people' })
  t.is(
    await codeOf(b0.conv.post('argument', { side: 'maybe', text: 'x' })),
    'CONV_BODY_INVALID',
    'a side is for or against'
  )
  t.is(await codeOf(b0.conv.post('ballot', { choice: 'adopt' })), 'CONV_WRONG_PHASE', 'arguments first')
  // an outdated node appends a ballot during the arguments anyway: apply refuses it too
  await rawPost(b0, 'ballot', { choice: 'reject' })

  await a0.conv.base.until(async () => (await a0.conv.show()).total === 3)
  await a0.conv.post('open-voting', {})
  await b0.conv.base.until(async () => (await b0.conv.show()).phase === 'voting')
  t.is(
    await codeOf(b0.conv.post('argument', { side: 'for', text: 'late' })),
    'CONV_WRONG_PHASE',
    'arguments are over'
  )
  await a1.conv.post('ballot', { choice: 'adopt' })
  await b0.conv.post('ballot', { choice: 'adopt' })
  await converged(nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')
  for (const n of nodes) {
    const s = await n.conv.show()
    t.alike(s.outcome?.winners, ['adopt'], `${n.name}: adopted unanimously`)
    t.alike(
      s.messages.map((m) => m.kind),
      ['proposal', 'argument', 'argument', 'open-voting', 'ballot', 'ballot'],
      `${n.name}: the accepted messages in phase order`
    )
    t.alike(
      (await n.conv.skipped()).map((r) => r.code),
      ['CONV_WRONG_PHASE'],
      `${n.name}: the early ballot was skipped`
    )
  }
})

test('announcement: closes on publish, then tracks acknowledgements; late messages change nothing', async (t) => {
  const { a0, a1, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Server maintenance',
    pattern: 'announcement',
    consensus: { method: 'announcement', params: { author: A.accountId } },
    members: members(A, B)
  }))
  t.is(
    await codeOf(b0.conv.post('publish', { text: 'I am the author' })),
    'CONV_FORBIDDEN',
    'only the creator publishes'
  )
  t.is(await codeOf(b0.conv.post('ack', {})), 'CONV_WRONG_PHASE', 'nothing to acknowledge yet')
  await a0.conv.post('publish', { text: 'Saturday 10:00, down for an hour' })
  await b0.conv.base.until(async () => (await b0.conv.show()).closed)
  const published = await b0.conv.show()
  t.alike(published.outcome?.figures.pendingAcks, 1, 'one member has not acknowledged')
  await b0.conv.post('ack', {})
  t.is(await codeOf(b0.conv.post('ack', {})), 'CONV_DUPLICATE', 'one acknowledgement per account')
  t.is(await codeOf(a1.conv.post('publish', { text: 'again' })), 'CONV_CLOSED', 'published once: it closed')
  await converged(nodes, async (n) => (await n.conv.show()).tally?.acks === 1)
  for (const n of nodes) {
    const s = await n.conv.show()
    t.is(s.outcome?.state, 'final', `${n.name}: final`)
    t.alike(s.outcome?.figures.publishedBy, a0.acct.accountId, `${n.name}: published by the creator`)
    t.is(s.tally?.pendingAcks, 0, `${n.name}: every member acknowledged (after the close)`)
    t.is(s.outcome?.figures.acks, 0, `${n.name}: the outcome itself is what it was at the close`)
    t.alike(
      s.messages.map((m) => [m.kind, m.late]),
      [
        ['publish', false],
        ['ack', false]
      ],
      `${n.name}: the ack is not late`
    )
  }
})

test('a CEL predicate decides; a ballot appended after the close is late on every node', async (t) => {
  const { a0, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Buy the boat?',
    pattern: 'vote',
    consensus: { expr: 'counts["yes"] >= 2 && objections == 0' },
    options: ['yes', 'no'],
    members: members(A, B)
  }))
  t.alike(
    (await a0.conv.show()).consensus.exprLang,
    { lang: 'cel', version: '1' },
    'the manifest records the language'
  )
  await a0.conv.post('ballot', { choice: 'yes' })
  await b0.conv.base.until(async () => (await b0.conv.show()).total === 1)
  await b0.conv.post('ballot', { choice: 'no' })
  await b0.conv.post('object', { reason: 'too expensive' })
  t.absent((await b0.conv.show()).closed, 'not yet: one yes and an objection')
  await b0.conv.post('ballot', { choice: 'yes' })
  t.absent((await b0.conv.show()).closed, 'two yes, but an objection stands')
  const closing = await b0.conv.post('withdraw-objection', {})
  t.ok((await b0.conv.show()).closed, 'withdrawing the objection satisfies the predicate')

  await a0.conv.base.until(async () => (await a0.conv.show()).closed)
  // a node that ignores the close (outdated software) appends anyway: stored as late, counts nothing
  a0.wall.now += 1000
  await rawPost(a0, 'ballot', { choice: 'no' })
  await converged(
    nodes,
    async (n) => (await n.conv.show()).late === 1 && (await n.conv.show()).outcome?.state === 'final'
  )
  const hashes = new Set<string>()
  for (const n of nodes) {
    const s = await n.conv.show()
    t.alike(s.outcome?.winners, ['yes'], `${n.name}: yes`)
    t.is(s.outcome?.closedBy, closing.seq, `${n.name}: closed by the withdrawal`)
    t.alike(s.messages.at(-1)?.late, true, `${n.name}: the last ballot is late`)
    t.is((s.tally?.counts as Record<string, number>).yes, 2, `${n.name}: and changed no count`)
    hashes.add((await n.conv.viewHash()).toString('hex'))
  }
  t.is(hashes.size, 1, 'one view hash')
})

test('a deadline passes by log time: heartbeats of a majority of members move it, one fast clock does not', async (t) => {
  const T0 = 1_700_000_000_000
  const deadline = T0 + 120_000
  const { a0, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Repaint the fence unless someone objects',
    pattern: 'vote',
    consensus: { method: 'lazy-consensus' },
    options: ['repaint', 'leave'],
    deadline,
    members: members(A, B)
  }))
  t.ok(await a0.conv.heartbeatDue(), 'a pending deadline wants heartbeats')
  a0.wall.now = T0 + 600_000
  await a0.conv.heartbeat()
  await b0.conv.base.until(
    async () => (await b0.conv.show()).tally?.deadline === deadline && (await inputs(b0)) === 1
  )
  t.absent((await b0.conv.show()).closed, "one member's clock ten minutes ahead moves nothing")
  b0.wall.now = T0 + 1_000
  await b0.conv.heartbeat()
  const s1 = await b0.conv.show()
  t.is(s1.now, T0 + 61_000, "log time follows b0's clock, which adopted a0's only up to 60 s ahead")
  t.absent(s1.closed, 'before the deadline')
  b0.wall.now = T0 + 130_000
  await b0.conv.heartbeat()
  await converged(nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')
  for (const n of nodes) {
    const s = await n.conv.show()
    t.ok(s.closed, `${n.name}: closed at the deadline`)
    t.ok(
      s.outcome!.reachedAt >= deadline,
      `${n.name}: reached at log time ${s.outcome!.reachedAt - T0} ms after T0`
    )
    t.is(s.outcome?.closedBy, null, `${n.name}: closed by a heartbeat, which is not a listed message`)
    t.is(s.total, 0, `${n.name}: heartbeats are not listed`)
  }
  t.absent(await a0.conv.heartbeatDue(), 'no heartbeats once closed')
})

/** Tally inputs in a node's view. */
async function inputs(n: Node): Promise<number> {
  let count = 0
  // one chunk per apply call, keyed by its last input
  for await (const { value } of n.conv.base.view.createReadStream({ gte: 'in/', lt: 'in0' })) {
    count += (value as { items: unknown[] }).items.length
  }
  return count
}

test('discussion and invitation', async (t) => {
  const d = await trio(
    t,
    (A, B) => ({
      topic: 'Holiday ideas',
      pattern: 'discussion',
      consensus: { method: 'announcement' },
      members: members(A, B)
    }),
    'disc'
  )
  await d.b0.conv.post('post', { text: 'the sea' })
  await d.a1.conv.post('post', { text: 'the mountains' })
  t.is(await codeOf(d.b0.conv.post('close', {})), 'CONV_FORBIDDEN', 'only the creator closes')
  await d.a0.conv.base.until(async () => (await d.a0.conv.show()).total === 2)
  await d.a0.conv.post('close', { text: 'thanks all' })
  t.ok((await d.a0.conv.show()).closed, 'closed by its creator')
  t.is(await codeOf(d.a0.conv.post('post', { text: 'one more' })), 'CONV_CLOSED', 'no posts after the close')

  const i = await trio(
    t,
    (A, B) => ({
      topic: 'Dinner on Friday',
      pattern: 'invitation',
      consensus: { method: 'opt-in', params: { target: 2 } },
      members: members(A, B)
    }),
    'inv'
  )
  t.alike((await i.b0.conv.show()).options, ['accept', 'decline'], 'an invitation has fixed options')
  t.is(await codeOf(i.b0.conv.post('accept', {})), 'CONV_WRONG_PHASE', 'nothing to accept yet')
  await i.a0.conv.post('invite', { text: 'At ours, 19:00', when: 'Friday' })
  await i.b0.conv.base.until(async () => (await i.b0.conv.show()).phase === 'open')
  await i.b0.conv.post('decline', { reason: 'busy' })
  await i.b0.conv.post('accept', {})
  await i.a1.conv.post('accept', {})
  await converged(i.nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')
  t.alike((await i.a0.conv.show()).outcome?.winners, ['accept'], 'both accounts accept (b changed its mind)')
})
