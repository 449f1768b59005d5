import test from 'brittle'
import { members, trio } from './helpers.js'

// A summary and the view hash it is shown with come from one snapshot: while messages are
// applied, the same count of messages must always come with the same hash (read one after
// the other from the live view, a summary of k messages was paired with the hash of k + 1).
test('showHashed: the summary and the view hash are of one view, even while entries apply', async (t) => {
  const { b0 } = await trio(
    t,
    (A, B) => ({
      topic: 'Ideas',
      pattern: 'discussion',
      consensus: { method: 'announcement' },
      members: members(A, B)
    }),
    'hashed'
  )
  const conv = b0.conv
  const quiet = await conv.showHashed({ limit: 0 })
  t.alike(quiet.viewHash, await conv.viewHash(), 'quiet: the hash is the view hash')
  t.alike(quiet.summary, await conv.show({ limit: 0 }), 'quiet: the summary is show()')

  const seen = new Map<number, string>()
  let conflicts = 0
  let reads = 0
  let posting = true
  const reader = (async () => {
    while (posting) {
      const { summary, viewHash } = await conv.showHashed({ limit: 0 })
      reads++
      const hash = viewHash.toString('hex')
      const before = seen.get(summary.total)
      if (before !== undefined && before !== hash) conflicts++
      seen.set(summary.total, hash)
    }
  })()
  for (let i = 0; i < 100; i++) await conv.post('post', { text: `idea ${i}` })
  posting = false
  await reader
  const last = await conv.showHashed({ limit: 0 })
  if (seen.get(last.summary.total) === undefined) reads++
  t.is(conflicts, 0, `one hash per message count over ${reads} reads of ${seen.size} states`)
  t.ok(seen.size > 1, 'it read the view at several states')
  // the hash of an unchanged view is kept, not read again: it must still be the view's own
  t.alike(last.viewHash, await conv.viewHash(), 'after the posts: the hash is the view hash')
  t.alike((await conv.showHashed({ limit: 0 })).viewHash, last.viewHash, 'asked again: the same hash')
  await conv.post('post', { text: 'one more' })
  const more = await conv.showHashed({ limit: 0 })
  t.alike(more.viewHash, await conv.viewHash(), 'after one more post: the new view hash')
  t.unlike(more.viewHash, last.viewHash, 'which differs from the one before')
})
