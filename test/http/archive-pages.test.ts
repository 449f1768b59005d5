import test, { type Test } from 'brittle'
import { decodeTranscript, encodeTranscript, type TranscriptMessage } from '../../archive/transcript.js'
import { ensureToken } from '../../src/http/listen.js'
import { buildServer } from '../../src/http/server.js'
import { hex, unhex } from '../../src/kernel/encoding.js'
import { inProcessNode } from '../helpers/in-process-node.js'
import { checksFor, device, signedMessage, type TestDevice, transcriptOf } from '../helpers/transcript.js'

const CID = 'conv_pages_test'
const ID = 'ab'.repeat(32)

/** A node with its API (`get`, `close` with the token) and this node's device as a transcript signer. */
async function setup(t: Test) {
  const { node, home } = await inProcessNode(t)
  const token = ensureToken(home)
  const app = buildServer({ api: node, token })
  t.teardown(() => app.close())
  const headers = { host: '127.0.0.1:7777', authorization: `Bearer ${token}` }
  const get = async (url: string) => {
    const r = await app.inject({ method: 'GET', url, headers })
    return { status: r.statusCode, json: JSON.parse(r.body) }
  }
  const close = async () =>
    JSON.parse(
      (await app.inject({ method: 'POST', url: `/api/archives/${ID}/close`, headers })).body
    ) as unknown
  const secret = unhex(node.identity.secrets.device.signingSecretKey)
  const self: TestDevice = {
    accountId: node.identity.identity.accountId,
    deviceId: node.identity.identity.deviceId,
    keyPair: { publicKey: secret.subarray(32), secretKey: secret },
    signingKey: hex(secret.subarray(32))
  }
  return { node, get, close, self }
}

test("an open archive's messages: page by page, searched, each checked, closed", async (t) => {
  const { node, get, close, self } = await setup(t)

  const notOpen = await get(`/api/archives/${ID}/messages`)
  t.is(notOpen.status, 409, 'not open yet')
  t.is(notOpen.json.code, 'NODE_ARCHIVE_NOT_OPEN')
  for (const q of ['limit=501', 'offset=-1', 'offset=x', 'other=1', `q=${'x'.repeat(201)}`]) {
    const bad = await get(`/api/archives/${ID}/messages?${q}`)
    t.is(bad.status, 400, `${q}: 400`)
    t.is(bad.json.code, 'HTTP_BAD_REQUEST')
  }
  t.is((await get(`/api/archives/not-hex/messages`)).status, 400, 'a malformed id')

  // A transcript archived by this node's device, of messages by it and a friend's device, as an open leaves it.
  const friend = device(9, 'acc_friend', 'dev_friend')
  const messages: TranscriptMessage[] = []
  for (let i = 0; i < 120; i++)
    messages.push(signedMessage(CID, i, i % 10 === 3 ? `Needle ${i}` : `hay ${i}`, i % 2 ? friend : self))
  const transcript = decodeTranscript(
    encodeTranscript(transcriptOf(CID, messages, self), self.keyPair.secretKey),
    checksFor(self, CID)
  )
  node.archives.keepOpen({ id: ID, title: 'pages', transcript }, { verify: false })

  const first = await get(`/api/archives/${ID}/messages`)
  t.is(first.status, 200)
  t.is(first.json.total, 120)
  t.is(first.json.messages.length, 50, '50 by default')
  t.alike(first.json.verified, { done: 50, total: 120 }, 'the 50 served are the 50 checked')
  const last = await get(`/api/archives/${ID}/messages?offset=100&limit=50`)
  t.alike(
    last.json.messages.map((m: { index: number }) => m.index),
    Array.from({ length: 20 }, (_, i) => 100 + i),
    'the last page holds the last 20'
  )
  t.is(last.json.messages[19].body.text, 'hay 119')
  const found = await get(`/api/archives/${ID}/messages?q=NEEDLE&limit=5&offset=10`)
  t.is(found.json.total, 12, 'the search counts every match')
  t.alike(
    found.json.messages.map((m: { index: number }) => m.index),
    [103, 113],
    'and pages through them'
  )
  const byAuthor = await get(`/api/archives/${ID}/messages?q=dev_friend&limit=0`)
  t.is(byAuthor.json.total, 60, "the friend's device's messages")

  t.alike(await close(), { closed: true }, 'closed')
  t.is((await get(`/api/archives/${ID}/messages`)).status, 409, 'and not readable any more')
})

test('a page with a message whose signature fails is refused, and so is every page after', async (t) => {
  const { node, get, self } = await setup(t)
  const friend = device(9, 'acc_friend', 'dev_friend')
  const messages = Array.from({ length: 80 }, (_, i) => signedMessage(CID, i, `m ${i}`, friend))
  messages[60] = { ...messages[60]!, body: { text: 'put in the friend’s mouth by the archiver' } }
  const transcript = decodeTranscript(
    encodeTranscript(transcriptOf(CID, messages, self), self.keyPair.secretKey),
    checksFor(self, CID)
  )
  node.archives.keepOpen({ id: ID, title: 'forged', transcript }, { verify: false })
  t.is((await get(`/api/archives/${ID}/messages?limit=50`)).status, 200, 'the first page is sound')
  const bad = await get(`/api/archives/${ID}/messages?offset=50`)
  t.is(bad.status, 422, 'the page with the forged message is refused')
  t.is(bad.json.code, 'ARCHIVE_TRANSCRIPT_INVALID')
  t.ok(bad.json.message.includes('message 60'), bad.json.message)
  t.is((await get(`/api/archives/${ID}/messages?limit=10`)).status, 422, 'and then every page')
})
