// The archive test vector (docs/archive.md §8, test/fixtures/archive-vector.json).
// Every AD is built here by hand from the documented bytes, not with the
// module's own helpers, and each layer is opened with it through the kernel.
import {
  archiveIdFor,
  encodeArchive,
  encodeIndexEntry,
  holderHash,
  indexEntryContext,
  peelOuter,
  sealArchive,
  sealIndexEntry
} from '../../archive/index.js'
import { aeadDecrypt } from '../../src/kernel/crypto/aead.js'
import { blake2b, labelledHash } from '../../src/kernel/crypto/hash.js'
import { openStream } from '../../src/kernel/crypto/secretstream.js'
import { xwingKeyPairFromSeed, xwingOpen } from '../../src/kernel/crypto/xwing.js'

export interface VectorInput {
  seedA: string
  seedB: string
  indexKey: string
  title: string
  transcript: string
  chunkBytes: number
  dataKey: string
  streamHeader: string
  archiveLayers: { encapsulation: string; nonce: string }[]
  entryKey: string
  entryNonce: string
  indexLayers: { encapsulation: string; nonce: string }[]
  deviceIds: [string, string]
  createdAt: number
  conversationId: string
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const unhex = (s: string) => Buffer.from(s, 'hex')
const h256 = (b: Uint8Array) => hex(blake2b(b, 32))

function label(text: string): Buffer {
  const l = Buffer.from(text, 'utf8')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(l.length)
  return Buffer.concat([len, l])
}

function layerAds(
  text: string,
  archiveId: Buffer,
  hashes: Buffer[],
  binding: Buffer | null
): Record<string, string> {
  const ad = (inner: number, layer: number) =>
    Buffer.concat([
      label(text),
      Buffer.from([1]),
      archiveId,
      ...hashes,
      Buffer.from([inner, layer]),
      ...(binding ? [binding] : [])
    ])
  return {
    env0Inner: hex(ad(0, 1)),
    env0Outer: hex(ad(0, 2)),
    env1Inner: hex(ad(1, 1)),
    env1Outer: hex(ad(1, 2))
  }
}

/** Seals the vector's inputs and returns what the fixture records; throws if a layer does not open under its documented AD. */
export function computeVector(input: VectorInput): Record<string, unknown> {
  const a = xwingKeyPairFromSeed(unhex(input.seedA))
  const b = xwingKeyPairFromSeed(unhex(input.seedB))
  const keys = [a, b]
  const holders = [a.publicKey, b.publicKey] as const
  const indexKey = unhex(input.indexKey)
  const transcript = Buffer.from(input.transcript, 'utf8')
  const archiveId = archiveIdFor(indexKey, input.title)
  const layers = (ls: VectorInput['archiveLayers']) =>
    ls.map((l) => ({ encapsulation: unhex(l.encapsulation), nonce: unhex(l.nonce) }))
  const sealed = sealArchive(
    { archiveId, transcript, holders, chunkBytes: input.chunkBytes },
    {
      dataKey: unhex(input.dataKey),
      streamHeader: unhex(input.streamHeader),
      layers: layers(input.archiveLayers)
    }
  )
  const encoded = encodeArchive(sealed)
  const hashes = [holderHash(a.publicKey), holderHash(b.publicKey)]
  const keyAds = layerAds('conclave/archive/v1/key-layer', archiveId, hashes, null)
  const headerDigest = labelledHash('conclave/archive/v1/header', [encoded.subarray(0, 4825)])
  const bodyAd = Buffer.concat([label('conclave/archive/v1/body'), Buffer.from([1]), archiveId, headerDigest])

  // open every layer by hand with the documented AD
  for (const inner of [0, 1]) {
    const outer = 1 - inner
    const innerLayer = xwingOpen(
      keys[outer]!.secretKey,
      sealed.envelopes[inner]!.sealed,
      unhex(keyAds[`env${inner}Outer`]!)
    )
    const key = xwingOpen(keys[inner]!.secretKey, innerLayer, unhex(keyAds[`env${inner}Inner`]!))
    if (!key.equals(unhex(input.dataKey))) throw new Error(`envelope ${inner} does not hold the data key`)
    if (!openStream(key, sealed.body, bodyAd).equals(transcript)) throw new Error('the body does not open')
  }

  const entry = sealIndexEntry(
    {
      indexKey,
      title: input.title,
      archive: sealed,
      holders,
      deviceIds: input.deviceIds,
      createdAt: input.createdAt,
      conversationId: input.conversationId
    },
    { entryKey: unhex(input.entryKey), nonce: unhex(input.entryNonce), layers: layers(input.indexLayers) }
  )
  const entryBytes = encodeIndexEntry(entry)
  const publicEnd = entryBytes.length - 2 * (4 + 2354) - 2 - entry.secret.length
  const binding = labelledHash('conclave/archive/v1/index-public', [entryBytes.subarray(0, publicEnd)])
  const indexAds = layerAds('conclave/archive/v1/index-layer', archiveId, hashes, binding)
  const secretAd = Buffer.concat([
    label('conclave/archive/v1/index-secret'),
    Buffer.from([1]),
    labelledHash('conclave/archive/v1/index-entry', [entryBytes.subarray(0, publicEnd + 2 * (4 + 2354))])
  ])
  const innerLayer = xwingOpen(b.secretKey, entry.envelopes[0].sealed, unhex(indexAds.env0Outer!))
  const entryKey = xwingOpen(a.secretKey, innerLayer, unhex(indexAds.env0Inner!))
  if (aeadDecrypt(entryKey, entry.secret, secretAd).toString('utf8') !== input.title.normalize('NFC')) {
    throw new Error('the index secret does not open')
  }
  const innerArchive = peelOuter(sealed.envelopes[0], b.secretKey, {
    purpose: 'key',
    archiveId,
    holders: sealed.holders
  })
  const innerIndex = peelOuter(entry.envelopes[0], b.secretKey, indexEntryContext(entry))

  return {
    publicKeyA_blake2b256: h256(a.publicKey),
    publicKeyB_blake2b256: h256(b.publicKey),
    holderHashA: hex(hashes[0]!),
    holderHashB: hex(hashes[1]!),
    archiveId: hex(archiveId),
    keyLayerAds: keyAds,
    innerLayerBytes: innerArchive.length,
    outerLayerBytes: sealed.envelopes[0].sealed.length,
    headerBytes: 4825,
    headerDigest: hex(headerDigest),
    bodyAd: hex(bodyAd),
    bodyBytes: sealed.body.length,
    encodedBytes: encoded.length,
    envelope0_blake2b256: h256(sealed.envelopes[0].sealed),
    envelope1_blake2b256: h256(sealed.envelopes[1].sealed),
    body_blake2b256: h256(sealed.body),
    archive_blake2b256: h256(encoded),
    index: {
      publicBytes: publicEnd,
      publicDigest: hex(binding),
      layerAds: indexAds,
      innerLayerBytes: innerIndex.length,
      outerLayerBytes: entry.envelopes[0].sealed.length,
      secretAd: hex(secretAd),
      secretBytes: entry.secret.length,
      encodedBytes: entryBytes.length,
      entry_blake2b256: h256(entryBytes)
    }
  }
}
