import test from 'brittle'
import { codeOf, converged, members, trio } from './helpers.js'

test('a majority vote reaches consensus; three devices show the same final outcome and view hash', async (t) => {
  const { a0, a1, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Lunch?',
    pattern: 'vote',
    consensus: { method: 'majority' },
    options: ['pizza', 'sushi'],
    members: members(A, B)
  }))
  const started = Date.now()
  await a0.conv.post('ballot', { choice: 'sushi' })
  await a1.conv.base.until(async () => (await a1.conv.show()).total === 1)
  // A's phone changes A's vote: the latest ballot of an account counts
  await a1.conv.post('ballot', { choice: 'pizza' })
  await b0.conv.base.until(async () => (await b0.conv.show()).total === 2)
  const mid = await b0.conv.show()
  t.is(mid.tally?.voted, 1, 'one account has voted, whatever its devices sent')
  t.absent(mid.closed, 'one of two members is not a majority')
  await b0.conv.post('ballot', { choice: 'pizza' })
  const hash = await converged(nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')
  t.comment(`final on all three after ${Date.now() - started} ms`)
  for (const n of nodes) {
    const s = await n.conv.show()
    t.alike(s.outcome?.winners, ['pizza'], `${n.name}: pizza wins`)
    t.is(s.outcome?.closedBy, 2, `${n.name}: closed by the third message`)
    t.ok(s.closed, `${n.name}: closed`)
    t.is((await n.conv.viewHash()).toString('hex'), hash, `${n.name}: same view hash`)
  }
  t.is(
    await codeOf(b0.conv.post('ballot', { choice: 'sushi' })),
    'CONV_CLOSED',
    'a ballot after the close is refused locally'
  )
  t.alike(await a0.conv.skipped(), [], 'nothing skipped')
})
