import test from 'brittle'
import { codeOf, converged, members, trio } from './helpers.js'

test('postBatch: one append for many messages, checked like post, conflicts skipped by apply everywhere', async (t) => {
  const { a0, b0, nodes } = await trio(
    t,
    (A, B) => ({
      topic: 'Where to?',
      pattern: 'discussion',
      consensus: { method: 'announcement' },
      members: members(A, B)
    }),
    'batch'
  )
  const lengthBefore = b0.conv.base.autobase.local.length
  const posted = await b0.conv.postBatch(
    Array.from({ length: 50 }, (_, i) => ({ kind: 'post', body: { text: `idea ${i}` } }))
  )
  t.is(posted.length, 50, 'one result per message')
  t.ok(posted[0]!.length > lengthBefore, 'appended after what was there')
  t.alike(
    posted.map((p) => p.length),
    Array.from({ length: 50 }, (_, i) => posted[0]!.length + i),
    'consecutive lengths: one batch'
  )
  t.ok(
    posted.every(
      (p, i) => p.seq !== null && p.skipped === null && (i === 0 || p.seq === posted[i - 1]!.seq! + 1)
    ),
    'listed in order, nothing skipped'
  )

  t.is(
    await codeOf(
      b0.conv.postBatch([
        { kind: 'post', body: { text: 'ok' } },
        { kind: 'close', body: {} }
      ])
    ),
    'CONV_FORBIDDEN',
    'a refused message refuses the batch (only the creator closes)'
  )
  const shownB = await b0.conv.show({ limit: 0 })
  t.is(shownB.total, 50, 'and nothing of it was appended')

  // two closes in one batch: each passes the local check alone; apply, on the log's order,
  // closes the conversation with the first and stores the second as late
  await a0.conv.base.until(async () => (await a0.conv.show({ limit: 0 })).total === 50)
  const closes = await a0.conv.postBatch([
    { kind: 'close', body: { text: 'done' } },
    { kind: 'close', body: { text: 'again' } }
  ])
  t.is(closes[0]!.late, false, 'the first close applies')
  t.is(closes[1]!.late, true, 'the second is late')
  t.ok(
    closes.every((c) => c.skipped === null),
    'neither is skipped'
  )

  const hash = await converged(nodes, async (n) => (await n.conv.show({ limit: 0 })).total >= 52)
  t.ok(hash, 'every node holds the same view')
  const shown = await a0.conv.show({ limit: 1000 })
  t.is(
    shown.messages.filter((m) => m.kind === 'post').length,
    50,
    'all fifty posts are listed on the creator'
  )
  t.ok(shown.closed, 'closed by the first close')
  t.is(shown.late, 1, 'one late message')
})

test('postBatch reports what apply did with each message: the listed seq, late, and the code of one it skipped', async (t) => {
  const { a0, b0, nodes } = await trio(
    t,
    (A, B) => ({
      topic: 'Picnic on Sunday',
      pattern: 'announcement',
      consensus: { method: 'announcement' },
      members: members(A, B)
    }),
    'batch-skip'
  )
  const [published] = await a0.conv.postBatch([{ kind: 'publish', body: { text: 'at noon' } }])
  t.is(published!.skipped, null, 'the announcement applies')
  t.is(published!.seq, 0, 'and is the first message listed')
  await b0.conv.base.until(async () => (await b0.conv.show({ limit: 0 })).phase === 'published')

  // each ack passes the local check alone; apply takes the first and skips the second (once per account)
  const acks = await b0.conv.postBatch([
    { kind: 'ack', body: {} },
    { kind: 'ack', body: {} }
  ])
  t.is(acks[0]!.skipped, null, 'the first ack applies')
  t.is(acks[1]!.skipped, 'CONV_DUPLICATE', 'the second is skipped with its code')
  t.is(acks[1]!.seq, null, 'and is not listed')
  const skipped = await b0.conv.skipped()
  t.alike(
    skipped.map((r) => [r.length, r.code]),
    [[acks[1]!.length, 'CONV_DUPLICATE']],
    'the view records the same skip'
  )
  const shown = await b0.conv.show({ limit: 1000 })
  const at = shown.messages.find((m) => m.seq === acks[0]!.seq)
  t.ok(at, 'the first ack is listed at the seq postBatch gave')
  t.is(at!.kind, 'ack')
  t.is(at!.length, acks[0]!.length, 'the record at that seq is this entry')
  t.is(at!.late, acks[0]!.late, 'late as postBatch said')

  const hash = await converged(nodes, async (n) => (await n.conv.skipped()).length === 1)
  t.ok(hash, 'every node holds the same view, the skip included')
})
