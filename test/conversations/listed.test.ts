import test from 'brittle'
import { verifyMessageRecord } from '../../conversations/index.js'
import { MSG_PREFIX, prefixRange } from '../../conversations/view-layout.js'
import { converged, members, trio } from './helpers.js'

// The view names each listed message by (writer, length) instead of copying it: the message
// stays in the writer core it was signed and appended to, and show reads it from there.
test('the view lists messages by name; show reads each from its writer core on every device', async (t) => {
  const { a0, a1, b0, nodes } = await trio(
    t,
    (A, B) => ({
      topic: 'Where to eat',
      pattern: 'discussion',
      consensus: { method: 'announcement' },
      members: members(A, B)
    }),
    'listed'
  )
  const long = 'y'.repeat(400)
  await a0.conv.post('post', { text: 'from a0' })
  await a1.conv.postBatch([
    { kind: 'post', body: { text: 'from a1, first' } },
    { kind: 'post', body: { text: long } }
  ])
  await b0.conv.post('post', { text: 'from b0' })
  await converged(nodes, async (n) => (await n.conv.show({ limit: 0 })).total === 4)

  const shown = await Promise.all(nodes.map((n) => n.conv.show()))
  const texts = shown[0]!.messages.map((m) => m.body.text)
  t.alike(
    [...texts].sort(),
    ['from a0', 'from a1, first', 'from b0', long].sort(),
    'every message, body included, on a0'
  )
  for (const [i, s] of shown.entries()) {
    t.alike(s.messages, shown[0]!.messages, `${nodes[i]!.name} shows the same messages`)
    t.ok(
      s.messages.every((m) => verifyMessageRecord(s.id, m)),
      `${nodes[i]!.name}: each message carries its author's valid signature`
    )
  }
  const byA1 = shown[0]!.messages.filter((m) => m.author.deviceId === a1.acct.device(1).deviceId)
  t.alike(
    byA1.map((m) => m.writer),
    [a1.conv.base.localKey.toString('hex'), a1.conv.base.localKey.toString('hex')],
    "a1's messages name a1's writer core"
  )
  t.ok(byA1[0]!.length + 1 === byA1[1]!.length, 'one batch: consecutive lengths')

  // what the view itself stores: per apply call one chunk of names and places, not the messages
  const chunks: Array<{ key: string; items: Array<Record<string, unknown>> }> = []
  for await (const { key, value } of b0.conv.base.view.createReadStream(prefixRange(MSG_PREFIX))) {
    chunks.push({ key, items: (value as { items: Array<Record<string, unknown>> }).items })
  }
  t.alike(
    chunks.map((c) => c.items.length).sort(),
    [1, 1, 2],
    "three calls, three chunks: a1's batch of two is one record"
  )
  t.ok(
    chunks.every((c) => c.key === `msg/${String(c.items[c.items.length - 1]!.seq).padStart(12, '0')}`),
    'each keyed by its last seq'
  )
  for (const c of chunks) {
    for (const item of c.items)
      t.alike(Object.keys(item).sort(), ['late', 'length', 'seq', 'writer'], `${c.key}: a name only`)
  }
  let local = 0
  for await (const { key } of b0.conv.base.view.createReadStream({ gte: '\u0001', lt: '\u0002' }))
    if (key) local++
  t.is(local, 0, 'the call-local keys the entries collected under are not stored')
  const bytes = chunks.reduce((sum, c) => sum + JSON.stringify({ items: c.items }).length, 0)
  t.ok(bytes < 4 * 150, `the view's message records are small (${bytes} B for 4)`)
  for (let from = 0; from <= 4; from++) {
    t.alike(
      await b0.conv.messagesFrom(from, 2),
      shown[0]!.messages.slice(from, from + 2),
      `messagesFrom(${from}, 2)`
    )
  }
  t.is((await b0.conv.messagesFrom(2, 1))[0]?.seq, 2, 'messagesFrom pages like show')
  t.alike(await b0.conv.messagesFrom(2, 5), shown[0]!.messages.slice(2), 'messagesFrom to the end')
})
