import test from 'brittle'
import { decodeTranscript, encodeTranscript, type TranscriptMessage } from '../../archive/transcript.js'
import { codeOf } from '../helpers/codes.js'
import { checksFor, device, encodedTranscript, signedMessage, transcriptOf } from '../helpers/transcript.js'

const CID = 'conv_transcript_test'
const by = device(1)
const friend = device(2, 'acc_friend', 'dev_friend')

function lines(bytes: Buffer): string[] {
  return bytes.toString('utf8').split('\n')
}

test('a transcript round-trips: the header checked at once, messages as they are read', (t) => {
  const messages = [0, 1, 2, 3, 4].map((i) => signedMessage(CID, i, `text ${i}`, i % 2 ? friend : by))
  const bytes = encodeTranscript(transcriptOf(CID, messages, by), by.keyPair.secretKey)
  const l = lines(bytes)
  t.is(l.length, 7, 'a header line, five message lines, and the empty rest after the last newline')
  t.is(l[6], '', 'it ends with a newline')
  const open = decodeTranscript(bytes, checksFor(by, CID))
  t.is(open.count, 5)
  t.is(open.header.conversation.id, CID)
  t.alike(open.verified, { done: 0, total: 5 }, 'no message checked yet')
  t.alike(open.slice(1, 2), messages.slice(1, 3), 'a slice')
  t.alike(open.verified, { done: 2, total: 5 }, 'the two read are checked')
  t.alike(open.full().messages, messages, 'all of them')
  t.alike(open.verified, { done: 5, total: 5 })
})

test('an empty transcript and a large one', async (t) => {
  const empty = decodeTranscript(encodedTranscript(CID, 0, by), checksFor(by))
  t.is(empty.count, 0)
  t.alike(empty.full().messages, [])
  const big = decodeTranscript(encodedTranscript(CID, 5000, by), checksFor(by))
  const seen: number[] = []
  await big.verifyAll({ slice: 1000, budgetMs: Infinity, onProgress: (p) => seen.push(p.done) })
  t.alike(seen, [1000, 2000, 3000, 4000, 5000, 5000], 'progress in slices')
  t.is(big.message(4999).body.text, 'message 4999')
})

test('verifyAll yields to the event loop once its time budget is spent', async (t) => {
  const big = decodeTranscript(encodedTranscript(CID, 400, by), checksFor(by))
  let turns = 0
  const tick = setInterval(() => turns++, 0)
  const seen: number[] = []
  await big.verifyAll({ budgetMs: 0, onProgress: (p) => seen.push(p.done) })
  clearInterval(tick)
  t.is(seen.length, 51, 'with no budget it yields every 8 messages (50 times, then the end)')
  t.ok(turns > 0, 'timers ran while it checked')
  t.alike(big.verified, { done: 400, total: 400 })
})

test('the header: shape, signature, signer, conversation', (t) => {
  const bytes = encodedTranscript(CID, 3, by)
  const expect = (b: Buffer | Uint8Array, opts: ReturnType<typeof checksFor>, what: string) =>
    t.is(
      codeOf(() => decodeTranscript(b, opts)),
      'ARCHIVE_TRANSCRIPT_INVALID',
      what
    )
  expect(Buffer.from('not a transcript'), checksFor(by), 'no header line')
  expect(Buffer.from('{"v":2}\n'), checksFor(by), 'a header of the wrong shape')
  expect(Buffer.from('{\n'), checksFor(by), 'a header that is not JSON')
  const l = lines(bytes)
  const header = JSON.parse(l[0]!)
  const resigned = (h: unknown) => Buffer.from([JSON.stringify(h), ...l.slice(1)].join('\n'))
  expect(resigned({ ...header, archivedAt: header.archivedAt + 1 }), checksFor(by), 'a changed header field')
  expect(resigned({ ...header, count: 2 }), checksFor(by), 'a changed count')
  expect(bytes, checksFor(friend), 'signed by a device that is not ours')
  expect(bytes, checksFor(by, 'conv_other'), 'of another conversation')
  t.is(decodeTranscript(bytes, checksFor(by, CID)).count, 3, 'the original passes')
})

test('the messages: the digest binds every byte, the count every line', (t) => {
  const bytes = encodedTranscript(CID, 4, by)
  const headerEnd = bytes.indexOf(0x0a)
  let refused = 0
  for (let i = headerEnd + 1; i < bytes.length; i += 7) {
    const b = Buffer.from(bytes)
    b[i] = b[i]! ^ 0x01
    if (codeOf(() => decodeTranscript(b, checksFor(by))) === 'ARCHIVE_TRANSCRIPT_INVALID') refused++
  }
  t.is(
    refused,
    Math.ceil((bytes.length - headerEnd - 1) / 7),
    'every flipped message byte is refused at open'
  )
  for (const cut of [1, 10, 100]) {
    t.is(
      codeOf(() => decodeTranscript(bytes.subarray(0, bytes.length - cut), checksFor(by))),
      'ARCHIVE_TRANSCRIPT_INVALID',
      `cut by ${cut} bytes`
    )
  }
  t.is(
    codeOf(() => decodeTranscript(Buffer.concat([bytes, Buffer.from('{}\n')]), checksFor(by))),
    'ARCHIVE_TRANSCRIPT_INVALID',
    'an extra line'
  )
})

test('a message whose signature fails is found when read, and the transcript is invalid from then on', async (t) => {
  const messages: TranscriptMessage[] = [0, 1, 2].map((i) => signedMessage(CID, i, `text ${i}`, friend))
  messages[2] = { ...messages[2]!, body: { text: 'forged by the archiver' } }
  const bytes = encodeTranscript(transcriptOf(CID, messages, by), by.keyPair.secretKey)
  const open = decodeTranscript(bytes, checksFor(by, CID))
  t.alike(open.slice(0, 2).length, 2, 'the good ones read')
  t.is(
    codeOf(() => open.message(2)),
    'ARCHIVE_TRANSCRIPT_INVALID',
    'the forged one is refused'
  )
  t.is(
    codeOf(() => open.message(0)),
    'ARCHIVE_TRANSCRIPT_INVALID',
    'and then every read'
  )
  const again = decodeTranscript(bytes, checksFor(by, CID))
  await t.exception(again.verifyAll(), /signature/, 'verifyAll finds it')
  t.ok(again.failure, 'and records it')
})
