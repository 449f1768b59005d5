import test from 'brittle'
import { type MessageEntry, signMessage, signWriterRequest } from '../../conversations/entries.js'
import { hex } from '../../src/kernel/encoding.js'
import type { DeviceKeys } from '../../src/kernel/identity/index.js'
import { type Account, account, codeOf, converged, members, type Node, trio } from './helpers.js'

let logical = 0

/** A message signed by `signer` (default: the claimed author's own device key). */
function message(
  author: { acct: Account; index: number },
  kind: string,
  body: Record<string, unknown>,
  conversationId: string,
  signer?: DeviceKeys
): MessageEntry {
  const d = author.acct.device(author.index)
  return signMessage(
    conversationId,
    {
      type: 'conv/msg',
      v: 1,
      kind,
      body,
      author: {
        accountId: author.acct.accountId,
        deviceId: d.deviceId,
        signingKey: hex(d.signing.publicKey)
      },
      hlc: { wall: 1_700_000_000_000, logical: ++logical }
    },
    (signer ?? d).signing
  )
}

test('hostile entries are skipped identically on every node, with the same codes', async (t) => {
  const { A, B, a0, a1, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Lunch?',
    pattern: 'vote',
    consensus: { method: 'majority' },
    options: ['pizza', 'sushi'],
    members: members(A, B)
  }))
  const C = account('carol')
  const id = a0.conv.id
  const expected = new Map<string, string>()
  const raw = async (n: Node, value: unknown, code: string): Promise<void> => {
    const length = await n.conv.base.append(value as never)
    expected.set(`${hex(n.conv.base.localKey)}:${length}`, code)
  }

  const forged = message({ acct: B, index: 0 }, 'ballot', { choice: 'sushi' }, id)
  await raw(b0, { ...forged, body: { choice: 'pizza' } }, 'CONV_BAD_SIGNATURE')
  // an entry posing as the creator's device, signed with b0's own key
  await raw(
    b0,
    message({ acct: A, index: 0 }, 'ballot', { choice: 'sushi' }, id, B.device(0)),
    'CONV_BAD_SIGNATURE'
  )
  await raw(b0, message({ acct: C, index: 0 }, 'ballot', { choice: 'sushi' }, id), 'CONV_NOT_MEMBER')
  await raw(b0, message({ acct: B, index: 0 }, 'shout', { text: 'hi' }, id), 'CONV_KIND_UNKNOWN')
  await raw(b0, message({ acct: B, index: 0 }, 'ballot', { choice: 'tacos' }, id), 'CONV_UNKNOWN_OPTION')
  await raw(b0, message({ acct: B, index: 0 }, 'ballot', { choices: ['pizza'] }, id), 'CONV_BALLOT_INVALID')
  await raw(b0, message({ acct: B, index: 0 }, 'comment', { text: 'x', extra: 1 }, id), 'CONV_BODY_INVALID')
  // validly signed by A's phone, appended from B's writer
  await raw(b0, message({ acct: A, index: 1 }, 'ballot', { choice: 'sushi' }, id), 'CONV_WRONG_WRITER')
  // the same message signed for another conversation
  await raw(
    b0,
    message({ acct: B, index: 0 }, 'ballot', { choice: 'sushi' }, 'cnv_other'),
    'CONV_BAD_SIGNATURE'
  )
  await raw(b0, { type: 'conv/shout', v: 1 }, 'CONV_ENTRY_INVALID')
  await raw(
    b0,
    { ...message({ acct: B, index: 0 }, 'ballot', { choice: 'sushi' }, id), v: 2 },
    'CONV_ENTRY_INVALID'
  )
  await raw(b0, await manifestOf(a0), 'CONV_MANIFEST_EXISTS')
  await raw(
    b0,
    {
      type: 'conv/writer',
      v: 1,
      ...signWriterRequest(id, C.device(0).deviceId, C.device(9).signing.publicKey, C.device(0).signing)
    },
    'CONV_NOT_MEMBER'
  )
  await raw(
    b0,
    {
      type: 'conv/device',
      v: 1,
      accountId: A.accountId,
      device: A.certificate(5),
      sealedKey: '00'.repeat(1193)
    },
    'CONV_FORBIDDEN'
  )
  const bytes = await b0.conv.base.autobase.append(Buffer.from('not json {'))
  expected.set(`${hex(b0.conv.base.localKey)}:${bytes}`, 'SUBSTRATE_UNDECODABLE')

  // the local checks refuse the same things before they reach the log
  t.is(await codeOf(b0.conv.post('shout', { text: 'hi' })), 'CONV_KIND_UNKNOWN', 'unknown kind, locally')
  t.is(
    await codeOf(b0.conv.post('ballot', { choice: 'tacos' })),
    'CONV_UNKNOWN_OPTION',
    'unknown option, locally'
  )
  t.is(
    await codeOf(b0.conv.post('ballot', { choices: ['pizza'] })),
    'CONV_BALLOT_INVALID',
    'wrong ballot form, locally'
  )
  t.is(
    await codeOf(b0.conv.post('comment', { text: 'x', extra: 1 })),
    'CONV_BODY_INVALID',
    'extra field, locally'
  )
  t.is(
    await codeOf(b0.conv.post('delegate', { to: A.accountId })),
    'CONV_BALLOT_INVALID',
    'no delegation here'
  )
  t.is(await codeOf(b0.conv.post('comment', { text: Number.NaN })), 'CONV_BODY_INVALID', 'not plain JSON')

  t.is(
    await codeOf(b0.conv.validate('ballot', { choice: 'tacos' })),
    'CONV_UNKNOWN_OPTION',
    'validate() says the same'
  )
  t.is(
    await codeOf(b0.conv.validate('ballot', { choice: 'pizza' })),
    null,
    'validate() accepts a good ballot'
  )
  t.is((await b0.conv.show()).total, 0, 'and appends nothing')

  // honest traffic goes on
  await a1.conv.post('ballot', { choice: 'pizza' })
  await b0.conv.post('ballot', { choice: 'pizza' })
  const hash = await converged(nodes, async (n) => (await n.conv.show()).outcome?.state === 'final')

  // skip records come in (writer, length) order
  const want = [...expected]
    .map(([name, code]) => ({ name, code }))
    .sort((x, y) => Number(x.name.split(':')[1]) - Number(y.name.split(':')[1]))
  const lists = await Promise.all(nodes.map((n) => n.conv.skipped()))
  for (const [i, n] of nodes.entries()) {
    const got = lists[i]!.map((r) => ({ name: `${r.writer}:${r.length}`, code: r.code }))
    t.alike(got, want, `${n.name}: every hostile entry skipped with its code`)
    t.is((await n.conv.viewHash()).toString('hex'), hash, `${n.name}: same view hash`)
    const s = await n.conv.show()
    t.alike(s.outcome?.winners, ['pizza'], `${n.name}: the vote went on`)
    t.is(s.total, 2, `${n.name}: only the two honest ballots are listed`)
  }
})

async function manifestOf(n: Node): Promise<unknown> {
  return (await n.conv.base.view.get('manifest'))!.value
}

test('a verified signature is remembered by its block, not by the signature: a copy with another body is refused', async (t) => {
  const { B, a0, b0, nodes } = await trio(t, (A, B) => ({
    topic: 'Plans',
    pattern: 'discussion',
    consensus: { method: 'announcement' },
    members: members(A, B)
  }))
  const id = a0.conv.id
  const good = message({ acct: B, index: 0 }, 'post', { text: 'see you at eight' }, id)
  const appended: Array<{ length: number; what: string }> = []
  const raw = async (value: unknown, what: string) => {
    appended.push({ length: await b0.conv.base.append(value as never), what })
  }
  await raw(good, 'the signed comment')
  await raw({ ...good, body: { text: 'see you at nine' } }, 'its signature on another body')
  await raw(good, 'the same block again')
  await raw({ ...good, author: { ...good.author, deviceId: B.device(1).deviceId } }, 'another author')
  const hash = await converged(nodes, async (n) => (await n.conv.show()).total === 2)
  const writer = hex(b0.conv.base.localKey)
  for (const n of nodes) {
    const skipped = (await n.conv.skipped()).map((r) => `${r.writer}:${r.length}:${r.code}`)
    t.alike(
      skipped,
      [
        `${writer}:${appended[1]!.length}:CONV_BAD_SIGNATURE`,
        `${writer}:${appended[3]!.length}:CONV_NOT_MEMBER`
      ],
      `${n.name}: the copies with another body or author are refused, the same block again is not`
    )
    const texts = (await n.conv.show()).messages.map((m) => m.body.text)
    t.alike(texts, ['see you at eight', 'see you at eight'], `${n.name}: the comment is listed twice`)
    t.is((await n.conv.viewHash()).toString('hex'), hash, `${n.name}: same view hash`)
  }
})
