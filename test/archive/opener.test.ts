import test from 'brittle'
import {
  ARCHIVE_HEADER_BYTES,
  ArchiveOpener,
  archiveIdFor,
  encodeArchive,
  envelopeFor,
  peelInner,
  peelOuter,
  sealArchive,
  sealArchiveChunks
} from '../../archive/index.js'
import { A, B, C, codeOf, INDEX_KEY, Prng } from './helpers.js'

const holders = [A.publicKey, B.publicKey] as const
const r = new Prng(20)

function unlock(opener: ArchiveOpener, asking = B, helping = A): void {
  const ctx = opener.context()
  const env = envelopeFor(opener.header!.envelopes, ctx, asking.publicKey)
  opener.unlock(peelInner(peelOuter(env, helping.secretKey, ctx), asking.secretKey, ctx))
}

test('property: blocks of any size, unlocked at any point, give the transcript', (t) => {
  const RUNS = 20
  let ok = 0
  for (let i = 0; i < RUNS; i++) {
    const transcript = r.bytes(r.pick([0, 1, 999, 5000, 70_000]))
    const chunkBytes = r.pick([1, 64, 4096])
    const archiveId = archiveIdFor(INDEX_KEY, `opener ${i}`)
    const s = sealArchiveChunks({
      archiveId,
      transcript,
      holders,
      chunkBytes: transcript.length > 10_000 ? 4096 : chunkBytes
    })
    const encoded = Buffer.concat([...s.chunks])
    const opener = new ArchiveOpener({ archiveId, headerDigest: s.header.digest })
    const size = r.pick([1, 7, 500, 4849, 65557, 1 << 20])
    const unlockAfter = ARCHIVE_HEADER_BYTES + r.int(encoded.length - ARCHIVE_HEADER_BYTES)
    let unlocked = false
    for (let at = 0; at < encoded.length; at += size) {
      opener.push(encoded.subarray(at, at + size))
      if (opener.header && !unlocked && at + size >= unlockAfter) {
        unlock(opener)
        unlocked = true
      }
    }
    if (!unlocked) unlock(opener)
    const p = opener.progress
    const out = opener.end()
    if (
      out.equals(transcript) &&
      p.finished &&
      p.totalBytes === encoded.length &&
      p.receivedBytes === encoded.length
    ) {
      ok++
    } else t.fail(`case ${i}: ${transcript.length} bytes in blocks of ${size}`)
  }
  t.is(ok, RUNS, `${RUNS} archives opened block by block`)
})

test('opener: progress, and nothing before the final chunk', (t) => {
  const transcript = r.bytes(10_000)
  const archiveId = archiveIdFor(INDEX_KEY, 'progress')
  const blocks = [...sealArchiveChunks({ archiveId, transcript, holders, chunkBytes: 1000 }).chunks]
  t.is(blocks.length, 11)
  const opener = new ArchiveOpener()
  t.alike(opener.progress, {
    receivedBytes: 0,
    totalBytes: null,
    plaintextBytes: 0,
    chunks: 0,
    finished: false
  })
  t.is(
    codeOf(() => opener.context()),
    'ARCHIVE_INVALID_INPUT',
    'no context before the header'
  )
  t.is(
    codeOf(() => opener.unlock(Buffer.alloc(32))),
    'ARCHIVE_INVALID_INPUT',
    'no unlock before the header'
  )
  opener.push(blocks[0]!.subarray(0, 100))
  t.is(opener.header, null, 'header incomplete')
  opener.push(blocks[0]!.subarray(100))
  t.ok(opener.header, 'header read')
  t.is(
    opener.progress.totalBytes,
    blocks.reduce((n, b) => n + b.length, 0)
  )
  for (const b of blocks.slice(1, 6)) opener.push(b)
  t.is(
    codeOf(() => opener.end()),
    'ARCHIVE_INVALID_INPUT',
    'end before unlock is a usage error…'
  )
  t.is(
    codeOf(() => opener.unlock(Buffer.alloc(31))),
    'ARCHIVE_INVALID_INPUT',
    '…and so is a short key'
  )
  unlock(opener)
  t.is(
    codeOf(() => unlock(opener)),
    'ARCHIVE_INVALID_INPUT',
    'unlocked once only'
  )
  t.is(opener.progress.chunks, 5, 'the blocks pushed before unlock are decrypted at unlock')
  t.is(opener.progress.plaintextBytes, 5000)
  for (const b of blocks.slice(6, 10)) opener.push(b)
  t.is(opener.progress.chunks, 9)
  t.is(
    codeOf(() => opener.end()),
    'ARCHIVE_INTEGRITY',
    'ten of eleven blocks: no plaintext'
  )
  t.is(
    codeOf(() => opener.push(blocks[10]!)),
    'ARCHIVE_INTEGRITY',
    'a failed opener stays failed'
  )
})

test('opener: expectations from the index entry, wrong data key, bytes after the end', (t) => {
  const transcript = r.bytes(3000)
  const x = sealArchive({
    archiveId: archiveIdFor(INDEX_KEY, 'expect x'),
    transcript,
    holders,
    chunkBytes: 1000
  })
  const y = sealArchive({
    archiveId: archiveIdFor(INDEX_KEY, 'expect y'),
    transcript,
    holders,
    chunkBytes: 1000
  })
  const ex = encodeArchive(x)
  const withExpect = (expect: object) => {
    const o = new ArchiveOpener(expect)
    return codeOf(() => o.push(ex))
  }
  t.is(withExpect({ archiveId: x.archiveId, headerDigest: x.digest }), null, 'as expected')
  t.is(withExpect({ archiveId: y.archiveId }), 'ARCHIVE_INTEGRITY', 'another archive id')
  t.is(withExpect({ headerDigest: y.digest }), 'ARCHIVE_INTEGRITY', 'another header')
  t.is(
    codeOf(() => new ArchiveOpener({ headerDigest: Buffer.alloc(5) })),
    'ARCHIVE_INVALID_INPUT'
  )

  const wrongKey = new ArchiveOpener()
  wrongKey.push(ex)
  const ctxY = { purpose: 'key' as const, archiveId: y.archiveId, holders: y.holders }
  const keyY = peelInner(peelOuter(y.envelopes[0], B.secretKey, ctxY), A.secretKey, ctxY)
  t.is(
    codeOf(() => wrongKey.unlock(keyY)),
    'ARCHIVE_INTEGRITY',
    "y's data key on x"
  )

  const extra = new ArchiveOpener()
  extra.push(ex)
  unlock(extra, A, B)
  t.is(
    codeOf(() => extra.push(Buffer.alloc(1))),
    'ARCHIVE_INTEGRITY',
    'one byte after the end'
  )

  const third = new ArchiveOpener()
  third.push(ex)
  t.is(
    codeOf(() => unlock(third, C, A)),
    'ARCHIVE_NOT_RECIPIENT',
    'C has no envelope'
  )
  t.is(
    codeOf(() => third.push(Buffer.from('x'))),
    null,
    'the opener is still usable after a refused peel'
  )
})
