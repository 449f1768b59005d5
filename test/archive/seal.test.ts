import test from 'brittle'
import {
  ARCHIVE_ENVELOPE_BYTES,
  ARCHIVE_HEADER_BYTES,
  ARCHIVE_INNER_LAYER_BYTES,
  ARCHIVE_MAX_CHUNK_BYTES,
  ArchiveOpener,
  archiveContext,
  archiveIdFor,
  decodeArchive,
  encodeArchive,
  envelopeFor,
  holderHash,
  type LayerContext,
  openBody,
  peelInner,
  peelOuter,
  sealArchive,
  sealArchiveChunks
} from '../../archive/index.js'
import { bodyAd } from '../../archive/header.js'
import { openStream } from '../../src/kernel/crypto/secretstream.js'
import { A, B, C, codeOf, INDEX_KEY, openWith, Prng } from './helpers.js'

const CHUNKS = [1, 16, 100, 4096, 65536]

function transcriptSize(r: Prng, chunk: number): number {
  switch (r.int(6)) {
    case 0:
      return 0
    case 1:
      return 1
    case 2:
      return chunk
    case 3:
      return chunk + 1
    case 4:
      return Math.max(0, chunk - 1)
    default:
      return Math.min(chunk * (2 + r.int(6)) + r.int(chunk), 300_000)
  }
}

test('property: an archive opens with both holders in either role, and never with one key alone', (t) => {
  const r = new Prng(1)
  const RUNS = 50
  let ok = 0
  for (let i = 0; i < RUNS; i++) {
    const chunkBytes = r.pick(CHUNKS)
    const transcript = r.bytes(transcriptSize(r, chunkBytes))
    const holders = r.int(2) === 0 ? ([A, B] as const) : ([B, A] as const)
    const archiveId = archiveIdFor(INDEX_KEY, `case ${i}`)
    const sealed = sealArchive({
      archiveId,
      transcript,
      holders: [holders[0].publicKey, holders[1].publicKey],
      chunkBytes
    })
    const encoded = encodeArchive(sealed)
    const both = openWith(encoded, A, B).equals(transcript) && openWith(encoded, B, A).equals(transcript)
    if (!both) t.fail(`case ${i}: ${transcript.length} bytes in chunks of ${chunkBytes} did not round-trip`)

    const ctx = archiveContext(sealed)
    const envA = envelopeFor(sealed.envelopes, ctx, A.publicKey) // A inside, B outside
    const blob = peelOuter(envA, B.secretKey, ctx)
    // swapping the holder order in the context lets A past the recipient check: the AD still refuses
    const swapped: LayerContext = { ...ctx, holders: [ctx.holders[1], ctx.holders[0]] }
    const refusals = {
      'A on the outer layer': codeOf(() => peelOuter(envA, A.secretKey, ctx)),
      'C on the outer layer': codeOf(() => peelOuter(envA, C.secretKey, ctx)),
      'B on the inner layer': codeOf(() => peelInner(blob, B.secretKey, ctx)),
      'C on the inner layer': codeOf(() => peelInner(blob, C.secretKey, ctx)),
      'A on the whole envelope': codeOf(() => peelInner(envA.sealed, A.secretKey, ctx)),
      'A on the outer layer, holders swapped': codeOf(() => peelOuter(envA, A.secretKey, swapped))
    }
    const expected = {
      'A on the outer layer': 'ARCHIVE_NOT_RECIPIENT',
      'C on the outer layer': 'ARCHIVE_NOT_RECIPIENT',
      'B on the inner layer': 'ARCHIVE_INTEGRITY',
      'C on the inner layer': 'ARCHIVE_NOT_RECIPIENT',
      'A on the whole envelope': 'ARCHIVE_INTEGRITY',
      'A on the outer layer, holders swapped': 'ARCHIVE_INTEGRITY'
    }
    const same = JSON.stringify(refusals) === JSON.stringify(expected)
    if (!same) t.alike(refusals, expected, `case ${i}: refusals`)
    if (both && same) ok++
  }
  t.is(ok, RUNS, `${RUNS} random archives (sizes 0 .. 300000, chunks 1 .. 65536)`)
})

test('sizes: header, envelopes and layers have the documented lengths', (t) => {
  const archiveId = archiveIdFor(INDEX_KEY, 'sizes')
  const transcript = Buffer.alloc(1000, 7)
  const sealed = sealArchive({ archiveId, transcript, holders: [A.publicKey, B.publicKey], chunkBytes: 300 })
  t.is(ARCHIVE_INNER_LAYER_BYTES, 1193)
  t.is(ARCHIVE_ENVELOPE_BYTES, 2354)
  t.is(ARCHIVE_HEADER_BYTES, 4825)
  t.is(sealed.envelopes[0].sealed.length, ARCHIVE_ENVELOPE_BYTES)
  const ctx = archiveContext(sealed)
  t.is(peelOuter(sealed.envelopes[0], B.secretKey, ctx).length, ARCHIVE_INNER_LAYER_BYTES)
  t.is(sealed.body.length, 24 + 4 * (4 + 17) + 1000, 'four chunks of at most 300 bytes')
  t.is(encodeArchive(sealed).length, ARCHIVE_HEADER_BYTES + sealed.body.length)
  t.alike(sealed.holders, [holderHash(A.publicKey), holderHash(B.publicKey)])
  t.alike(decodeArchive(encodeArchive(sealed)), sealed, 'decode(encode(x)) = x')
})

test('the body is a plain sealStream framing under the body AD, and every seal draws a fresh data key', (t) => {
  const archiveId = archiveIdFor(INDEX_KEY, 'interop')
  const transcript = new Prng(2).bytes(5000)
  const sealed = sealArchive({ archiveId, transcript, holders: [A.publicKey, B.publicKey], chunkBytes: 1024 })
  const ctx = archiveContext(sealed)
  const key = peelInner(peelOuter(sealed.envelopes[0], B.secretKey, ctx), A.secretKey, ctx)
  t.alike(openStream(key, sealed.body, bodyAd(sealed)), transcript, 'kernel openStream reads the body')
  t.is(
    codeOf(() => openStream(key, sealed.body)),
    'CRYPTO_DECRYPT_FAILED',
    'not without the AD'
  )
  const again = sealArchive({ archiveId, transcript, holders: [A.publicKey, B.publicKey], chunkBytes: 1024 })
  const key2 = peelInner(peelOuter(again.envelopes[1], A.secretKey, ctx), B.secretKey, ctx)
  t.unlike(key2, key, 'another data key')
  t.is(
    codeOf(() => openBody(key, again, again.body)),
    'ARCHIVE_INTEGRITY',
    'the first key does not open the second'
  )
})

test('streaming: blocks equal the one-shot encoding, pieces of any size give the same archive', (t) => {
  const r = new Prng(3)
  const fixed = {
    dataKey: Buffer.alloc(32, 0x11),
    streamHeader: Buffer.alloc(24, 0x22),
    layers: [0, 1, 2, 3].map((j) => ({
      encapsulation: Buffer.alloc(64, 0x30 + j),
      nonce: Buffer.alloc(24, 0x40 + j)
    }))
  }
  const archiveId = archiveIdFor(INDEX_KEY, 'streaming')
  const holders = [A.publicKey, B.publicKey] as const
  for (const size of [0, 1, 4096, 4097, 20_000]) {
    const transcript = r.bytes(size)
    const oneShot = encodeArchive(sealArchive({ archiveId, transcript, holders, chunkBytes: 4096 }, fixed))
    const s = sealArchiveChunks({ archiveId, transcript, holders, chunkBytes: 4096 }, fixed)
    const blocks = [...s.chunks]
    t.alike(Buffer.concat(blocks), oneShot, `${size} bytes: blocks = encodeArchive(sealArchive)`)
    t.is(s.encodedBytes, oneShot.length)
    t.is(blocks[0]!.length, ARCHIVE_HEADER_BYTES + 24, 'block 0: header and stream header')
    t.ok(
      blocks.slice(1).every((b) => b.length <= 4 + 4096 + 17),
      'every other block is one frame'
    )
    const pieces: Buffer[] = []
    for (let at = 0; at < size;) {
      const n = Math.min(size - at, r.pick([1, 3, 100, 4095, 4096, 9000]))
      pieces.push(transcript.subarray(at, at + n))
      at += n
    }
    const fromPieces = sealArchiveChunks(
      { archiveId, transcript: { byteLength: size, pieces }, holders, chunkBytes: 4096 },
      fixed
    )
    t.alike(Buffer.concat([...fromPieces.chunks]), oneShot, `${size} bytes from ${pieces.length} pieces`)
  }
})

test('streaming: pieces that do not add up to their byteLength leave an archive nobody can open', (t) => {
  const archiveId = archiveIdFor(INDEX_KEY, 'short pieces')
  const holders = [A.publicKey, B.publicKey] as const
  for (const [declared, actual] of [
    [300, 200],
    [200, 300],
    [0, 1],
    [1, 0]
  ] as const) {
    const s = sealArchiveChunks(
      {
        archiveId,
        transcript: { byteLength: declared, pieces: [Buffer.alloc(actual, 1)] },
        holders,
        chunkBytes: 64
      },
      undefined
    )
    const blocks: Buffer[] = []
    const code = codeOf(() => {
      for (const b of s.chunks) blocks.push(b)
    })
    t.is(code, 'ARCHIVE_INVALID_INPUT', `declared ${declared}, given ${actual}`)
    const opener = new ArchiveOpener()
    for (const b of blocks) opener.push(b)
    const ctx = opener.context()
    opener.unlock(peelInner(peelOuter(opener.header!.envelopes[0], B.secretKey, ctx), A.secretKey, ctx))
    t.is(
      codeOf(() => opener.end()),
      'ARCHIVE_INTEGRITY',
      'the blocks made so far do not open'
    )
  }
})

test('seal: parameters are checked', (t) => {
  const archiveId = archiveIdFor(INDEX_KEY, 'params')
  const transcript = Buffer.from('x')
  const holders = [A.publicKey, B.publicKey] as const
  const seal = (o: object) => codeOf(() => sealArchive({ archiveId, transcript, holders, ...o }))
  t.is(seal({ archiveId: Buffer.alloc(31) }), 'ARCHIVE_INVALID_INPUT', 'short archive id')
  t.is(seal({ holders: [A.publicKey, A.publicKey] }), 'ARCHIVE_INVALID_INPUT', 'the same holder twice')
  t.is(seal({ holders: [A.publicKey] }), 'ARCHIVE_INVALID_INPUT', 'one holder')
  t.is(seal({ holders: [A.publicKey, B.secretKey] }), 'ARCHIVE_INVALID_INPUT', 'a secret key as holder')
  t.is(seal({ holders: [A.publicKey, Buffer.alloc(1216, 0xff)] }), 'ARCHIVE_INVALID_INPUT', 'malformed key')
  for (const chunkBytes of [0, -1, 1.5, Number.NaN]) {
    t.is(seal({ chunkBytes }), 'ARCHIVE_INVALID_INPUT', `chunk ${chunkBytes}`)
  }
  t.is(seal({ chunkBytes: ARCHIVE_MAX_CHUNK_BYTES + 1 }), 'ARCHIVE_TOO_LARGE', 'chunk over the limit')
  t.is(seal({ transcript: 'text' }), 'ARCHIVE_INVALID_INPUT', 'a string transcript')
  t.is(
    codeOf(() => archiveIdFor(Buffer.alloc(16), 'x')),
    'ARCHIVE_INVALID_INPUT',
    'short index key'
  )
  t.is(
    codeOf(() => archiveIdFor(INDEX_KEY, '')),
    'ARCHIVE_INVALID_INPUT',
    'empty title'
  )
  t.is(
    codeOf(() => archiveIdFor(INDEX_KEY, 'é'.repeat(513))),
    'ARCHIVE_TOO_LARGE',
    'title over 1024 bytes'
  )
  const sealed = sealArchive({ archiveId, transcript, holders })
  const ctx = archiveContext(sealed)
  t.is(
    codeOf(() => peelInner(Buffer.alloc(10), Buffer.alloc(31), ctx)),
    'ARCHIVE_INVALID_INPUT',
    'short secret key'
  )
  t.is(
    codeOf(() => openBody(Buffer.alloc(16), sealed, Buffer.alloc(100))),
    'ARCHIVE_INVALID_INPUT',
    'short data key'
  )
  t.is(
    codeOf(() => openBody(Buffer.alloc(32), { archiveId, digest: Buffer.alloc(3) }, Buffer.alloc(100))),
    'ARCHIVE_INVALID_INPUT',
    'short digest'
  )
})

test('archive id: keyed by the index key, NFC titles', (t) => {
  const id = archiveIdFor(INDEX_KEY, 'Café')
  t.is(id.length, 32)
  t.alike(archiveIdFor(INDEX_KEY, 'Cafe\u0301'), id, 'NFD spelling, same id')
  t.unlike(archiveIdFor(Buffer.alloc(32, 0x1e), 'Café'), id, 'another index key')
  t.unlike(archiveIdFor(INDEX_KEY, 'Cafe'), id, 'another title')
})
