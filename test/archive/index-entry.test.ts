import test from 'brittle'
import {
  ARCHIVE_MAX_TITLE_BYTES,
  archiveContext,
  archiveIdFor,
  decodeIndexEntry,
  encodeIndexEntry,
  envelopeFor,
  type IndexEntryPublic,
  indexEntryContext,
  openIndexEntry,
  peelInner,
  peelOuter,
  type SealedIndexEntry,
  sealArchive,
  sealIndexEntry
} from '../../archive/index.js'
import { type XWingKeyPair } from '../../src/kernel/crypto/xwing.js'
import { A, ARCHIVE_CODES, B, C, codeOf, INDEX_KEY, Prng } from './helpers.js'

const holders = [A.publicKey, B.publicKey] as const
const r = new Prng(30)

function entryFor(title: string, extra: object = {}): SealedIndexEntry {
  const archive = sealArchive({
    archiveId: archiveIdFor(INDEX_KEY, title),
    transcript: Buffer.from(title),
    holders
  })
  return sealIndexEntry({
    indexKey: INDEX_KEY,
    title,
    archive,
    holders,
    deviceIds: ['dev_a', 'dev_b'],
    createdAt: 1_735_689_600_000,
    conversationId: 'cnv_test',
    ...extra
  })
}

function openTitle(
  entry: SealedIndexEntry | Uint8Array,
  asking: XWingKeyPair,
  helping: XWingKeyPair
): string {
  const e = entry instanceof Uint8Array ? decodeIndexEntry(entry) : entry
  const ctx = indexEntryContext(e)
  const blob = peelOuter(envelopeFor(e.envelopes, ctx, asking.publicKey), helping.secretKey, ctx)
  return openIndexEntry(e, blob, asking.secretKey, INDEX_KEY).title
}

const TITLES = ['a', 'Roof vote', 'Café — 2025 ✓', '会議の記録', 'x'.repeat(ARCHIVE_MAX_TITLE_BYTES)]

test('property: an index entry opens with both holders in either role, never with one', (t) => {
  const RUNS = 12
  let ok = 0
  for (let i = 0; i < RUNS; i++) {
    const title = i < TITLES.length ? TITLES[i]! : r.bytes(1 + r.int(60)).toString('base64')
    const encoded = encodeIndexEntry(entryFor(title))
    const e = decodeIndexEntry(encoded)
    const ctx = indexEntryContext(e)
    const envA = envelopeFor(e.envelopes, ctx, A.publicKey)
    const blob = peelOuter(envA, B.secretKey, ctx)
    const result = [
      openTitle(encoded, A, B) === title,
      openTitle(encoded, B, A) === title,
      codeOf(() => peelOuter(envA, A.secretKey, ctx)) === 'ARCHIVE_NOT_RECIPIENT',
      codeOf(() => peelOuter(envA, C.secretKey, ctx)) === 'ARCHIVE_NOT_RECIPIENT',
      codeOf(() => openIndexEntry(e, blob, B.secretKey)) === 'ARCHIVE_INTEGRITY',
      codeOf(() => openIndexEntry(e, blob, C.secretKey)) === 'ARCHIVE_NOT_RECIPIENT'
    ]
    if (result.every(Boolean)) ok++
    else t.fail(`case ${i} (${title.slice(0, 20)}): ${result}`)
  }
  t.is(ok, RUNS, `${RUNS} entries`)
})

test('index entry: the public part is in clear and round-trips', (t) => {
  const e = entryFor('Roof vote')
  const d = decodeIndexEntry(encodeIndexEntry(e))
  t.alike(d, e)
  t.is(d.conversationId, 'cnv_test')
  t.is(d.createdAt, 1_735_689_600_000)
  t.alike(
    d.holders.map((h) => h.deviceId),
    ['dev_a', 'dev_b']
  )
  t.alike(d.archiveId, archiveIdFor(INDEX_KEY, 'Roof vote'))
  t.absent(encodeIndexEntry(e).includes(Buffer.from('Roof vote')), 'the title is not in clear')
  t.is(openTitle(entryFor('Cafe\u0301'), A, B), 'Café', 'titles are sealed in NFC')
})

test('property: flipped bits and truncations of an encoded entry are coded errors', (t) => {
  const encoded = encodeIndexEntry(entryFor('flip me'))
  const RUNS = 40
  let bad = 0
  for (let i = 0; i < RUNS; i++) {
    const b = Buffer.from(encoded)
    let what: string
    if (i % 2 === 0) {
      const pos = r.int(b.length)
      b[pos]! ^= 1 << r.int(8)
      what = `flip at ${pos}`
    } else what = `cut at ${r.int(b.length)}`
    const bytes = i % 2 === 0 ? b : b.subarray(0, Number(what.slice(7)))
    const code = codeOf(() => openTitle(bytes, i % 4 < 2 ? A : B, i % 4 < 2 ? B : A))
    if (code === null || !ARCHIVE_CODES.includes(code)) {
      bad++
      t.fail(`${what}: ${code ?? 'opened'}`)
    }
  }
  t.is(bad, 0, `${RUNS} flips and cuts`)
})

test('index entry: every public field is bound to the sealed part', (t) => {
  const e = entryFor('bound')
  const changes: Record<string, Partial<IndexEntryPublic>> = {
    createdAt: { createdAt: e.createdAt + 1 },
    archiveBytes: { archiveBytes: e.archiveBytes + 1 },
    conversationId: { conversationId: 'cnv_other' },
    headerDigest: { headerDigest: Buffer.alloc(32) },
    deviceId: { holders: [{ ...e.holders[0], deviceId: 'dev_c' }, e.holders[1]] }
  }
  for (const [name, change] of Object.entries(changes)) {
    const changed = decodeIndexEntry(encodeIndexEntry({ ...e, ...change }))
    t.is(
      codeOf(() => openTitle(changed, A, B)),
      'ARCHIVE_INTEGRITY',
      name
    )
  }
})

test('index entry: envelopes moved between entries, or between an entry and its archive, do not open', (t) => {
  const x = entryFor('moved x')
  const y = entryFor('moved y')
  const moved = { ...x, envelopes: [y.envelopes[0], y.envelopes[1]] as const }
  t.is(
    codeOf(() => openTitle(moved, A, B)),
    'ARCHIVE_INTEGRITY',
    "y's envelopes in x"
  )
  t.is(
    codeOf(() => openTitle({ ...x, secret: y.secret }, A, B)),
    'ARCHIVE_INTEGRITY',
    "y's secret part in x"
  )
  t.is(
    codeOf(() => openTitle({ ...x, envelopes: [x.envelopes[0], y.envelopes[1]] }, A, B)),
    'ARCHIVE_INTEGRITY',
    "y's envelope beside x's: the secret part vouches for both"
  )
  // the same entry with another (unlikely but possible) createdAt: the layers do not follow
  const x2 = entryFor('moved x', { createdAt: 1 })
  t.is(
    codeOf(() => openTitle({ ...x2, envelopes: x.envelopes }, A, B)),
    'ARCHIVE_INTEGRITY',
    'same id, other entry'
  )

  const title = 'entry vs archive'
  const archive = sealArchive({
    archiveId: archiveIdFor(INDEX_KEY, title),
    transcript: Buffer.alloc(5),
    holders
  })
  const entry = sealIndexEntry({
    indexKey: INDEX_KEY,
    title,
    archive,
    holders,
    createdAt: 5,
    conversationId: ''
  })
  const actx = archiveContext(archive)
  const ictx = indexEntryContext(entry)
  t.is(
    codeOf(() => peelOuter(entry.envelopes[0], B.secretKey, actx)),
    'ARCHIVE_INTEGRITY',
    'entry envelope as a key'
  )
  t.is(
    codeOf(() => peelOuter(archive.envelopes[0], B.secretKey, ictx)),
    'ARCHIVE_INTEGRITY',
    'key envelope as entry'
  )
  const keyBlob = peelOuter(archive.envelopes[0], B.secretKey, actx)
  t.is(
    codeOf(() => peelInner(keyBlob, A.secretKey, ictx)),
    'ARCHIVE_INTEGRITY',
    'key inner layer as entry'
  )
  t.is(openTitle(entry, A, B), title)
})

test('index entry: a wrong index key, and parameters', (t) => {
  const e = entryFor('keyed')
  const ctx = indexEntryContext(e)
  const blob = peelOuter(e.envelopes[0], B.secretKey, ctx)
  t.is(openIndexEntry(e, blob, A.secretKey).title, 'keyed', 'without an index key, no id check')
  t.is(
    codeOf(() => openIndexEntry(e, blob, A.secretKey, Buffer.alloc(32, 9))),
    'ARCHIVE_INTEGRITY',
    'the title does not give the id under another index key'
  )
  const archive = sealArchive({
    archiveId: archiveIdFor(INDEX_KEY, 'p'),
    transcript: Buffer.alloc(1),
    holders
  })
  const base = { indexKey: INDEX_KEY, title: 'p', archive, holders, createdAt: 1, conversationId: 'c' }
  const seal = (o: object) => codeOf(() => sealIndexEntry({ ...base, ...o }))
  t.is(seal({}), null)
  t.is(seal({ title: 'q' }), 'ARCHIVE_INVALID_INPUT', 'a title that does not give the archive id')
  t.is(seal({ holders: [B.publicKey, A.publicKey] }), 'ARCHIVE_INVALID_INPUT', 'holders in another order')
  t.is(seal({ holders: [A.publicKey, C.publicKey] }), 'ARCHIVE_INVALID_INPUT', 'another holder')
  t.is(seal({ createdAt: -1 }), 'ARCHIVE_INVALID_INPUT', 'negative time')
  t.is(seal({ createdAt: 1.5 }), 'ARCHIVE_INVALID_INPUT', 'fractional time')
  t.is(seal({ conversationId: 'x'.repeat(256) }), 'ARCHIVE_TOO_LARGE', 'conversation id over 255 bytes')
  t.is(seal({ deviceIds: ['a', 'é'.repeat(128)] }), 'ARCHIVE_TOO_LARGE', 'device id over 255 bytes')
})
