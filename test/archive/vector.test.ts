import { readFileSync } from 'node:fs'
import test from 'brittle'
import { archiveIdFor, decodeArchive, encodeArchive, sealArchive } from '../../archive/index.js'
import { xwingKeyPairFromSeed } from '../../src/kernel/crypto/xwing.js'
import { openWith } from './helpers.js'
import { computeVector, type VectorInput } from './vector.js'

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/archive-vector.json', import.meta.url), 'utf8')
) as { input: VectorInput; output: Record<string, unknown> }

test('archive test vector: recomputed byte for byte', (t) => {
  t.alike(computeVector(fixture.input), fixture.output)
})

test('archive test vector: the sealed archive opens, and decodes to itself', (t) => {
  const input = fixture.input
  const a = xwingKeyPairFromSeed(Buffer.from(input.seedA, 'hex'))
  const b = xwingKeyPairFromSeed(Buffer.from(input.seedB, 'hex'))
  const hex = (s: string) => Buffer.from(s, 'hex')
  const sealed = sealArchive(
    {
      archiveId: archiveIdFor(hex(input.indexKey), input.title),
      transcript: Buffer.from(input.transcript, 'utf8'),
      holders: [a.publicKey, b.publicKey],
      chunkBytes: input.chunkBytes
    },
    {
      dataKey: hex(input.dataKey),
      streamHeader: hex(input.streamHeader),
      layers: input.archiveLayers.map((l) => ({ encapsulation: hex(l.encapsulation), nonce: hex(l.nonce) }))
    }
  )
  const encoded = encodeArchive(sealed)
  t.is(openWith(encoded, a, b).toString('utf8'), input.transcript)
  t.is(openWith(encoded, b, a).toString('utf8'), input.transcript)
  t.alike(encodeArchive(decodeArchive(encoded)), encoded)
})
