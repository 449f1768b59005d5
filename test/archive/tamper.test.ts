import test from 'brittle'
import {
  ARCHIVE_HEADER_BYTES,
  ArchiveOpener,
  archiveContext,
  archiveIdFor,
  decodeArchive,
  encodeArchive,
  envelopeFor,
  openBody,
  peelInner,
  peelOuter,
  type SealedArchive,
  sealArchive,
  sealArchiveChunks
} from '../../archive/index.js'
import { LAYER_INNER, LAYER_OUTER, layerAd } from '../../archive/layers.js'
import { xwingSeal } from '../../src/kernel/crypto/xwing.js'
import { A, ARCHIVE_CODES, B, codeOf, INDEX_KEY, openWith, Prng } from './helpers.js'

const holders = [A.publicKey, B.publicKey] as const
const BODY_AT = ARCHIVE_HEADER_BYTES + 24

function seal(title: string, transcript: Buffer, chunkBytes = 100): SealedArchive {
  return sealArchive({ archiveId: archiveIdFor(INDEX_KEY, title), transcript, holders, chunkBytes })
}

/** The frames of a body (each u32 length ‖ chunk), after its 24-byte stream header. */
function frames(body: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let at = 24; at < body.length;) {
    const len = body.readUInt32BE(at)
    out.push(body.subarray(at, at + 4 + len))
    at += 4 + len
  }
  return out
}

/** The archive with another body, its length field made to agree. */
function withBody(archive: SealedArchive, body: Buffer): Buffer {
  return encodeArchive({ ...archive, bodyBytes: body.length, body })
}

/** Opens through the block-by-block opener, blocks of `size` bytes. */
function openStreaming(encoded: Buffer, size: number): Buffer {
  const opener = new ArchiveOpener()
  let at = 0
  while (!opener.header && at < encoded.length) {
    opener.push(encoded.subarray(at, at + size))
    at += size
  }
  const ctx = opener.context()
  const env = envelopeFor(opener.header!.envelopes, ctx, A.publicKey)
  opener.unlock(peelInner(peelOuter(env, B.secretKey, ctx), A.secretKey, ctx))
  for (; at < encoded.length; at += size) opener.push(encoded.subarray(at, at + size))
  return opener.end()
}

const r = new Prng(10)
const transcripts = [Buffer.alloc(0), r.bytes(1), r.bytes(100), r.bytes(1234)]
const archives = transcripts.map((tr, i) => seal(`tamper ${i}`, tr))

test('property: a flipped bit anywhere is a coded error, never other plaintext', (t) => {
  const RUNS = 80
  const seen = new Map<string, number>()
  let bad = 0
  for (let i = 0; i < RUNS; i++) {
    const k = r.int(archives.length)
    const encoded = encodeArchive(archives[k]!)
    // half in the header (envelopes, ids, lengths), half in the body
    const pos = i % 2 === 0 ? r.int(BODY_AT) : BODY_AT + r.int(encoded.length - BODY_AT)
    encoded[pos]! ^= 1 << r.int(8)
    const code =
      i % 4 < 2
        ? codeOf(() => openWith(encoded, A, B))
        : codeOf(() => openStreaming(encoded, 1 + r.int(5000)))
    seen.set(code ?? 'opened', (seen.get(code ?? 'opened') ?? 0) + 1)
    if (code === null || !ARCHIVE_CODES.includes(code)) {
      bad++
      t.fail(`flip at ${pos} of archive ${k}: ${code ?? 'opened'}`)
    }
  }
  t.is(bad, 0, `${RUNS} flips: ${JSON.stringify(Object.fromEntries(seen))}`)
})

test('property: a truncated archive is ARCHIVE_INTEGRITY, in one piece or block by block', (t) => {
  const RUNS = 40
  let bad = 0
  for (let i = 0; i < RUNS; i++) {
    const encoded = encodeArchive(archives[r.int(archives.length)]!)
    const cut = i < 4 ? [0, 3, ARCHIVE_HEADER_BYTES, encoded.length - 1][i]! : r.int(encoded.length)
    const short = encoded.subarray(0, cut)
    const one = codeOf(() => openWith(short, A, B))
    const opener = new ArchiveOpener()
    const streamed = codeOf(() => {
      for (let at = 0; at < short.length; at += 700) opener.push(short.subarray(at, at + 700))
      if (opener.header) {
        const ctx = opener.context()
        opener.unlock(peelInner(peelOuter(opener.header.envelopes[0], B.secretKey, ctx), A.secretKey, ctx))
      }
      return opener.end()
    })
    if (one !== 'ARCHIVE_INTEGRITY' || streamed !== 'ARCHIVE_INTEGRITY') {
      bad++
      t.fail(`cut at ${cut} of ${encoded.length}: ${one} / ${streamed}`)
    }
  }
  t.is(bad, 0, `${RUNS} cuts`)
})

test('chunks: reordered, dropped, repeated, or cut at a chunk edge with the length fixed up → ARCHIVE_INTEGRITY', (t) => {
  const archive = archives[3]! // 1234 bytes in 13 chunks
  const ctx = archiveContext(archive)
  const key = peelInner(peelOuter(archive.envelopes[0], B.secretKey, ctx), A.secretKey, ctx)
  const head = archive.body.subarray(0, 24)
  const fr = frames(archive.body)
  t.is(fr.length, 13)
  t.alike(openBody(key, archive, Buffer.concat([head, ...fr])), transcripts[3], 'as sealed')
  const variants: Record<string, Buffer[]> = {
    'two chunks swapped': [fr[1]!, fr[0]!, ...fr.slice(2)],
    'last two swapped': [...fr.slice(0, 11), fr[12]!, fr[11]!],
    'one dropped': [fr[0]!, ...fr.slice(2)],
    'one repeated': [fr[0]!, fr[0]!, ...fr.slice(1)],
    'final chunk dropped': fr.slice(0, 12),
    'final chunk repeated': [...fr, fr[12]!],
    'final chunk only': [fr[12]!]
  }
  for (const [name, parts] of Object.entries(variants)) {
    const body = Buffer.concat([head, ...parts])
    t.is(
      codeOf(() => openBody(key, archive, body)),
      'ARCHIVE_INTEGRITY',
      `${name} (openBody)`
    )
    t.is(
      codeOf(() => openWith(withBody(archive, body), A, B)),
      'ARCHIVE_INTEGRITY',
      `${name} (archive)`
    )
  }
})

test('a body moved to another archive, or under the wrong id, does not open', (t) => {
  const tr = transcripts[2]!
  const x = seal('transplant x', tr)
  const y = seal('transplant y', tr)
  const sameId = seal('transplant x', tr)
  t.is(
    codeOf(() => openWith(withBody(x, y.body), A, B)),
    'ARCHIVE_INTEGRITY',
    "y's body in x"
  )
  t.is(
    codeOf(() => openWith(withBody(x, sameId.body), A, B)),
    'ARCHIVE_INTEGRITY',
    'body of a same-id archive'
  )
  const ctx = archiveContext(x)
  const key = peelInner(peelOuter(x.envelopes[1], A.secretKey, ctx), B.secretKey, ctx)
  t.alike(openBody(key, x, x.body), tr)
  t.is(
    codeOf(() => openBody(key, { ...x, archiveId: y.archiveId }, x.body)),
    'ARCHIVE_INTEGRITY',
    'the right key, the wrong archive id'
  )
  // y's header (id) with x's envelopes and body: every layer is bound to x's id
  const relabelled = encodeArchive({ ...x, archiveId: y.archiveId })
  t.is(
    codeOf(() => openWith(relabelled, A, B)),
    'ARCHIVE_INTEGRITY',
    "x under y's id"
  )
  t.is(
    codeOf(() => openWith(relabelled, B, A)),
    'ARCHIVE_INTEGRITY',
    "x under y's id, other order"
  )
})

test('an envelope or a layer moved from another archive with the same holders does not open', (t) => {
  const tr = transcripts[2]!
  const x = seal('layers x', tr)
  const y = seal('layers y', tr)
  const ctxX = archiveContext(x)
  const ctxY = archiveContext(y)
  const envelopesSwapped = encodeArchive({ ...x, envelopes: [y.envelopes[0], x.envelopes[1]] })
  t.is(
    codeOf(() => openWith(envelopesSwapped, A, B)),
    'ARCHIVE_INTEGRITY',
    "y's envelope in x"
  )
  t.is(
    codeOf(() => openWith(envelopesSwapped, B, A)),
    'ARCHIVE_INTEGRITY',
    'the untouched envelope peels, but the body vouches for the whole header'
  )

  // the helper (B) peels y's envelope: that inner layer, wrapped in a fresh outer layer for x, is refused by A
  const innerY = peelOuter(y.envelopes[0], B.secretKey, ctxY)
  const rewrapped = xwingSeal(B.publicKey, innerY, layerAd(ctxX, 0, LAYER_OUTER))
  const blob = peelOuter({ innerHolder: 0, sealed: rewrapped }, B.secretKey, ctxX)
  t.is(
    codeOf(() => peelInner(blob, A.secretKey, ctxX)),
    'ARCHIVE_INTEGRITY',
    "y's inner layer under x's outer one"
  )
  t.is(
    codeOf(() => peelOuter(y.envelopes[0], B.secretKey, ctxX)),
    'ARCHIVE_INTEGRITY',
    "y's outer layer for x"
  )
})

test('inner and outer layers swapped do not open', (t) => {
  const x = seal('swap', transcripts[1]!)
  const ctx = archiveContext(x)
  // env 0 is inner A / outer B; env 1 is inner B / outer A
  const innerA = peelOuter(x.envelopes[0], B.secretKey, ctx)
  t.is(
    codeOf(() => peelOuter({ innerHolder: 1, sealed: innerA }, A.secretKey, ctx)),
    'ARCHIVE_INTEGRITY',
    "A's inner layer used as A's outer layer"
  )
  t.is(
    codeOf(() => peelInner(x.envelopes[1].sealed, A.secretKey, ctx)),
    'ARCHIVE_INTEGRITY',
    "A's outer layer used as A's inner layer"
  )
  // the same keys, the layers' AD exchanged: the AD says which layer is which
  const key = peelInner(innerA, A.secretKey, ctx)
  const wrongInner = xwingSeal(A.publicKey, key, layerAd(ctx, 0, LAYER_OUTER))
  const wrongOuter = xwingSeal(B.publicKey, wrongInner, layerAd(ctx, 0, LAYER_INNER))
  t.is(
    codeOf(() => peelOuter({ innerHolder: 0, sealed: wrongOuter }, B.secretKey, ctx)),
    'ARCHIVE_INTEGRITY',
    'layer ADs exchanged'
  )
  const rightOuter = xwingSeal(B.publicKey, wrongInner, layerAd(ctx, 0, LAYER_OUTER))
  const inner = peelOuter({ innerHolder: 0, sealed: rightOuter }, B.secretKey, ctx)
  t.is(
    codeOf(() => peelInner(inner, A.secretKey, ctx)),
    'ARCHIVE_INTEGRITY',
    'inner layer made with the outer AD'
  )
})

test('structure: magic, version, lengths and trailing bytes', (t) => {
  const encoded = encodeArchive(archives[2]!)
  const edit = (at: number, value: number) => {
    const b = Buffer.from(encoded)
    b[at] = value
    return b
  }
  t.is(
    codeOf(() => decodeArchive(edit(0, 0x58))),
    'ARCHIVE_FORMAT',
    'magic'
  )
  t.is(
    codeOf(() => decodeArchive(edit(4, 2))),
    'ARCHIVE_FORMAT',
    'unknown version'
  )
  t.is(
    codeOf(() => decodeArchive(edit(101 + 2, 0x0a))),
    'ARCHIVE_FORMAT',
    'envelope length'
  )
  t.is(
    codeOf(() => decodeArchive(Buffer.from('CNA'))),
    'ARCHIVE_INTEGRITY',
    'a true prefix is a truncation'
  )
  t.is(
    codeOf(() => decodeArchive(Buffer.from('PK\x03\x04'))),
    'ARCHIVE_FORMAT',
    'not an archive'
  )
  t.is(
    codeOf(() => decodeArchive(Buffer.alloc(0))),
    'ARCHIVE_INTEGRITY',
    'empty'
  )
  t.is(
    codeOf(() => decodeArchive(Buffer.concat([encoded, Buffer.alloc(1)]))),
    'ARCHIVE_INTEGRITY',
    'trailing'
  )
  const bodyLenAt = ARCHIVE_HEADER_BYTES - 8
  const huge = Buffer.from(encoded)
  huge.writeBigUInt64BE(2n ** 60n, bodyLenAt)
  t.is(
    codeOf(() => decodeArchive(huge)),
    'ARCHIVE_FORMAT',
    'body length beyond 2^53'
  )
  const tiny = Buffer.from(encoded)
  tiny.writeBigUInt64BE(10n, bodyLenAt)
  t.is(
    codeOf(() => decodeArchive(tiny)),
    'ARCHIVE_FORMAT',
    'body shorter than one empty chunk'
  )
  // a frame length over the chunk limit is refused before anything is buffered
  const s = sealArchiveChunks({ archiveId: archives[2]!.archiveId, transcript: Buffer.alloc(10), holders })
  const [first, frame] = [...s.chunks]
  const big = Buffer.from(frame!)
  big.writeUInt32BE(0x7fffffff)
  const opener = new ArchiveOpener()
  opener.push(first!)
  const ctx = opener.context()
  opener.unlock(peelInner(peelOuter(opener.header!.envelopes[0], B.secretKey, ctx), A.secretKey, ctx))
  t.is(
    codeOf(() => opener.push(big)),
    'ARCHIVE_FORMAT',
    'oversized frame'
  )
  t.is(
    codeOf(() => opener.end()),
    'ARCHIVE_INTEGRITY',
    'and the opener stays failed'
  )
})
