import test from 'brittle'
import {
  openStream,
  STREAM_ABYTES,
  STREAM_HEADER_BYTES,
  StreamDecryptor,
  StreamEncryptor,
  sealStream
} from '../../../src/kernel/crypto/secretstream.js'
import { isConclaveError } from '../../../src/kernel/errors.js'

function throwsCode(
  t: { ok(v: unknown, m?: string): void; fail(m?: string): void },
  fn: () => unknown,
  code: string,
  m = code
) {
  try {
    fn()
    t.fail(`${m}: did not throw`)
  } catch (err) {
    t.ok(isConclaveError(err, code), `${m} (${(err as { code?: string }).code})`)
  }
}

const key = Buffer.alloc(32, 0x42)

/** Splits a sealStream output into its header and frames (each frame = length prefix + chunk). */
function frames(framed: Buffer): { header: Buffer; frames: Buffer[] } {
  const out: Buffer[] = []
  let at = STREAM_HEADER_BYTES
  while (at < framed.length) {
    const len = framed.readUInt32BE(at)
    out.push(framed.subarray(at, at + 4 + len))
    at += 4 + len
  }
  return { header: framed.subarray(0, STREAM_HEADER_BYTES), frames: out }
}

const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff))

test('secretstream: encryptor/decryptor roundtrip with final tag', (t) => {
  const enc = new StreamEncryptor(key)
  t.is(enc.header.length, STREAM_HEADER_BYTES)
  const c1 = enc.push(Buffer.from('one'))
  const c2 = enc.push(Buffer.from('two'), true)
  t.is(c1.length, 3 + STREAM_ABYTES)
  const dec = new StreamDecryptor(key, enc.header)
  throwsCode(t, () => dec.end(), 'CRYPTO_TRUNCATED', 'end before anything')
  t.alike(dec.pull(c1), { plaintext: Buffer.from('one'), final: false })
  t.absent(dec.finished)
  t.alike(dec.pull(c2), { plaintext: Buffer.from('two'), final: true })
  t.ok(dec.finished)
  dec.end()
  throwsCode(t, () => dec.pull(c2), 'CRYPTO_DECRYPT_FAILED', 'pull after final')
  throwsCode(t, () => enc.push(Buffer.from('three')), 'CRYPTO_INVALID_INPUT', 'push after final')
})

test('secretstream: end() without final is CRYPTO_TRUNCATED', (t) => {
  const enc = new StreamEncryptor(key)
  const c1 = enc.push(Buffer.from('one'))
  enc.push(Buffer.from('two'), true)
  const dec = new StreamDecryptor(key, enc.header)
  dec.pull(c1)
  throwsCode(t, () => dec.end(), 'CRYPTO_TRUNCATED')
})

test('secretstream: tampered chunk, wrong key, wrong header, reorder → CRYPTO_DECRYPT_FAILED', (t) => {
  const enc = new StreamEncryptor(key)
  const c1 = enc.push(Buffer.from('one'))
  const c2 = enc.push(Buffer.from('two'))
  const c3 = enc.push(Buffer.from('three'), true)
  const bad = Buffer.from(c1)
  bad[bad.length - 1]! ^= 1
  throwsCode(t, () => new StreamDecryptor(key, enc.header).pull(bad), 'CRYPTO_DECRYPT_FAILED', 'bit flip')
  throwsCode(
    t,
    () => new StreamDecryptor(Buffer.alloc(32, 1), enc.header).pull(c1),
    'CRYPTO_DECRYPT_FAILED',
    'wrong key'
  )
  const h = Buffer.from(enc.header)
  h[0]! ^= 1
  throwsCode(t, () => new StreamDecryptor(key, h).pull(c1), 'CRYPTO_DECRYPT_FAILED', 'wrong header')
  throwsCode(
    t,
    () => new StreamDecryptor(key, enc.header.subarray(1)),
    'CRYPTO_DECRYPT_FAILED',
    'short header'
  )
  const dec = new StreamDecryptor(key, enc.header)
  dec.pull(c1)
  throwsCode(t, () => dec.pull(c3), 'CRYPTO_DECRYPT_FAILED', 'skipped chunk')
  throwsCode(t, () => dec.pull(c2), 'CRYPTO_DECRYPT_FAILED', 'decryptor stays failed after an error')
  throwsCode(
    t,
    () => new StreamDecryptor(key, enc.header).pull(c2),
    'CRYPTO_DECRYPT_FAILED',
    'second chunk first'
  )
  throwsCode(
    t,
    () => new StreamDecryptor(key, enc.header).pull(Buffer.alloc(STREAM_ABYTES - 1)),
    'CRYPTO_DECRYPT_FAILED',
    'too short'
  )
})

test('secretstream: per-chunk AD is bound', (t) => {
  const enc = new StreamEncryptor(key)
  const c = enc.push(Buffer.from('x'), true, Buffer.from('ad'))
  throwsCode(
    t,
    () => new StreamDecryptor(key, enc.header).pull(c, Buffer.from('other')),
    'CRYPTO_DECRYPT_FAILED'
  )
  t.alike(new StreamDecryptor(key, enc.header).pull(c, Buffer.from('ad')).plaintext, Buffer.from('x'))
})

test('secretstream: non-MESSAGE/FINAL tags are refused', async (t) => {
  const sodium = (await import('sodium-native')).default
  const state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES)
  const header = Buffer.alloc(STREAM_HEADER_BYTES)
  sodium.crypto_secretstream_xchacha20poly1305_init_push(state, header, key)
  const c = Buffer.alloc(1 + STREAM_ABYTES)
  sodium.crypto_secretstream_xchacha20poly1305_push(
    state,
    c,
    Buffer.from('x'),
    null,
    sodium.crypto_secretstream_xchacha20poly1305_TAG_PUSH
  )
  throwsCode(t, () => new StreamDecryptor(key, header).pull(c), 'CRYPTO_DECRYPT_FAILED')
})

test('sealStream/openStream: roundtrip for sizes around the chunk boundary, and empty', (t) => {
  for (const n of [0, 1, 99, 100, 101, 250, 1000]) {
    const d = data.subarray(0, n)
    const framed = sealStream(key, d, 100)
    const count = Math.max(1, Math.ceil(n / 100))
    t.is(frames(framed).frames.length, count, `${n} bytes → ${count} chunks`)
    t.is(framed.length, STREAM_HEADER_BYTES + count * (4 + STREAM_ABYTES) + n)
    t.alike(openStream(key, framed), d, `${n} bytes roundtrip`)
  }
  t.alike(openStream(key, sealStream(key, data)), data, 'default chunk size')
})

test('sealStream/openStream: dropped last chunk / cut anywhere → CRYPTO_TRUNCATED', (t) => {
  const framed = sealStream(key, data, 100)
  const { header, frames: fr } = frames(framed)
  throwsCode(
    t,
    () => openStream(key, Buffer.concat([header, ...fr.slice(0, -1)])),
    'CRYPTO_TRUNCATED',
    'last chunk dropped'
  )
  throwsCode(t, () => openStream(key, header), 'CRYPTO_TRUNCATED', 'header only')
  throwsCode(t, () => openStream(key, framed.subarray(0, 10)), 'CRYPTO_TRUNCATED', 'cut in header')
  throwsCode(
    t,
    () => openStream(key, framed.subarray(0, framed.length - 1)),
    'CRYPTO_TRUNCATED',
    'last byte cut'
  )
  throwsCode(
    t,
    () => openStream(key, framed.subarray(0, STREAM_HEADER_BYTES + 2)),
    'CRYPTO_TRUNCATED',
    'cut in length prefix'
  )
  const empty = sealStream(key, Buffer.alloc(0))
  throwsCode(
    t,
    () => openStream(key, empty.subarray(0, STREAM_HEADER_BYTES)),
    'CRYPTO_TRUNCATED',
    'empty stream, final chunk dropped'
  )
})

test('sealStream/openStream: reordered, dropped middle, duplicated chunks, bit flips, trailing bytes → CRYPTO_DECRYPT_FAILED', (t) => {
  const framed = sealStream(key, data, 100)
  const { header, frames: fr } = frames(framed)
  const swapped = [...fr]
  ;[swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!]
  throwsCode(
    t,
    () => openStream(key, Buffer.concat([header, ...swapped])),
    'CRYPTO_DECRYPT_FAILED',
    'swapped chunks'
  )
  throwsCode(
    t,
    () => openStream(key, Buffer.concat([header, ...fr.slice(0, 3), ...fr.slice(4)])),
    'CRYPTO_DECRYPT_FAILED',
    'middle chunk dropped'
  )
  throwsCode(
    t,
    () => openStream(key, Buffer.concat([header, fr[0]!, ...fr])),
    'CRYPTO_DECRYPT_FAILED',
    'chunk repeated'
  )
  const flipped = Buffer.from(framed)
  flipped[STREAM_HEADER_BYTES + 4 + 50]! ^= 0x10
  throwsCode(t, () => openStream(key, flipped), 'CRYPTO_DECRYPT_FAILED', 'bit flip in a chunk')
  const flippedHeader = Buffer.from(framed)
  flippedHeader[3]! ^= 0x10
  throwsCode(t, () => openStream(key, flippedHeader), 'CRYPTO_DECRYPT_FAILED', 'bit flip in the header')
  throwsCode(
    t,
    () => openStream(key, Buffer.concat([framed, Buffer.alloc(1)])),
    'CRYPTO_DECRYPT_FAILED',
    'trailing byte'
  )
  throwsCode(
    t,
    () => openStream(key, Buffer.concat([framed, fr[0]!])),
    'CRYPTO_DECRYPT_FAILED',
    'trailing frame'
  )
  throwsCode(t, () => openStream(Buffer.alloc(32, 1), framed), 'CRYPTO_DECRYPT_FAILED', 'wrong key')
  const ad = Buffer.from('archive')
  throwsCode(
    t,
    () => openStream(key, sealStream(key, data, 100, ad), Buffer.from('other')),
    'CRYPTO_DECRYPT_FAILED',
    'wrong AD'
  )
  t.alike(openStream(key, sealStream(key, data, 100, ad), ad), data, 'right AD')
})

test('sealStream: chunk size and key are validated', (t) => {
  for (const size of [0, -1, 1.5, Number.NaN, 2 ** 32]) {
    throwsCode(t, () => sealStream(key, data, size), 'CRYPTO_INVALID_INPUT', `chunk size ${size}`)
  }
  throwsCode(t, () => sealStream(Buffer.alloc(16), data), 'CRYPTO_INVALID_KEY', 'short key')
  throwsCode(t, () => openStream(Buffer.alloc(16), data), 'CRYPTO_INVALID_KEY', 'short key on open')
})

test('secretstream: a fixed header (test vectors) is used as given and opens normally', (t) => {
  const header = Buffer.alloc(STREAM_HEADER_BYTES, 0x5a)
  const a = new StreamEncryptor(key, header)
  const b = new StreamEncryptor(key, header)
  t.alike(a.header, header)
  const c1 = a.push(Buffer.from('one'))
  const c2 = a.push(Buffer.from('two'), true)
  t.alike(b.push(Buffer.from('one')), c1, 'deterministic')
  const dec = new StreamDecryptor(key, header)
  t.alike(dec.pull(c1).plaintext, Buffer.from('one'))
  t.alike(dec.pull(c2), { plaintext: Buffer.from('two'), final: true })
  throwsCode(t, () => new StreamEncryptor(key, Buffer.alloc(16)), 'CRYPTO_INVALID_INPUT', 'short header')
})

test('secretstream: push into a given buffer', (t) => {
  const header = Buffer.alloc(STREAM_HEADER_BYTES, 0x5b)
  const expected = new StreamEncryptor(key, header).push(Buffer.from('chunk'), true)
  const frame = Buffer.alloc(4 + 5 + STREAM_ABYTES, 0xee)
  const enc = new StreamEncryptor(key, header)
  throwsCode(
    t,
    () => enc.push(Buffer.from('chunk'), true, undefined, frame),
    'CRYPTO_INVALID_INPUT',
    'wrong output length'
  )
  const out = enc.push(Buffer.from('chunk'), true, undefined, frame.subarray(4))
  t.alike(out, expected)
  t.alike(frame.subarray(0, 4), Buffer.alloc(4, 0xee), 'nothing written before it')
  t.alike(frame.subarray(4), expected)
})
