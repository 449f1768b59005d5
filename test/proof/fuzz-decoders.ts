/**
 * Fuzz suite, decoders (issue 10, part 3): every decoder of peer, file and
 * wire input is fed seeded fast-check inputs — byte mutations of real encoded
 * entries (bit flips, byte writes, truncations, splices, insertions,
 * deletions), structural mutations of real entries, and random bytes, text
 * and JSON. Each input must be accepted or refused with the decoder's
 * documented refusal (a coded error); anything else is a crash, and one call
 * over HANG_MS a hang.
 */
import { performance } from 'node:perf_hooks'
import c from 'compact-encoding'
import fc from 'fast-check'
import { ArchiveOpener, decodeArchive, decodeIndexEntry } from '../../archive/index.js'
import { decodeTranscript } from '../../archive/transcript.js'
import { verifyCertificate, verifyRevocation } from '../../cluster/certificate.js'
import { CARD_PREFIX, decodeCardText, verifyCard } from '../../cluster/contact-card.js'
import { parseEntry as parseClusterEntry } from '../../cluster/entry-kinds.js'
import { FrameError, FrameReader } from '../../cluster/frames.js'
import { decodeInvite } from '../../cluster/invite.js'
import { parseEntry as parseConversationEntry, verifyMessageRecord } from '../../conversations/entries.js'
import { checkManifest } from '../../conversations/manifest.js'
import { jsonCodec } from '../../src/kernel/substrate/codec.js'
import { parseHostPort } from '../../src/node/direct.js'
import { addressEncoding, pingEncoding, pongEncoding } from '../../src/node/heartbeat.js'
import { A as HOLDER_A, B as HOLDER_B, openWith } from '../archive/helpers.js'
import { buildCorpus, type Corpus } from './corpus.js'
import { codeOf } from './figures.js'
import { mutatedBytes, mutatedJson } from './mutate.js'

export const HANG_MS = 1000

/** What a decoder did with one input. */
type Outcome = 'accepted' | 'refused'

/** A refusal that carries no `code` but is the decoder's documented answer; `label` names it in the figures. */
class Refusal extends Error {
  constructor(readonly label: string) {
    super(label)
  }
}

/** The account a certificate or revocation claims (the node pins its own; Bob's is checked under Bob's root). */
function signerOf(k: Corpus, value: unknown): Corpus['alice'] {
  const v = value as { cert?: { accountId?: unknown }; revocation?: { accountId?: unknown } } | null
  const id = v?.cert?.accountId ?? v?.revocation?.accountId
  return id === k.bob.accountId ? k.bob : k.alice
}

export interface DecoderTarget {
  name: string
  /** Share of the run's inputs (1 = all of them); the slow full archive open gets fewer. */
  share: number
  inputs(corpus: Corpus): fc.Arbitrary<Buffer | string | unknown>
  run(input: unknown, corpus: Corpus): Outcome
}

/** The log's path: bytes → JSON (a throw is SUBSTRATE_UNDECODABLE in safeApply) → `then`. */
function viaJson(bytes: Buffer, then: (value: unknown) => unknown): Outcome {
  let value: unknown
  try {
    value = jsonCodec.decode(bytes)
  } catch {
    return 'refused'
  }
  then(value)
  return 'accepted'
}

function jsonInputs(seeds: readonly unknown[]): fc.Arbitrary<Buffer> {
  const encoded = seeds.map((s) => jsonCodec.encode(s))
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(seeds).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 3, arbitrary: mutatedBytes(encoded) },
    {
      weight: 1,
      arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u)) }
  )
}

function byteInputs(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: mutatedBytes(seeds) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)) }
  )
}

function textInputs(seeds: readonly string[]): fc.Arbitrary<string> {
  const bytes = seeds.map((s) => Buffer.from(s, 'utf8'))
  return fc.oneof(
    { weight: 6, arbitrary: mutatedBytes(bytes).map((b) => b.toString('utf8')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) }
  )
}

/** A compact-encoding decoder as the heartbeat channel runs it: every throw drops the message. */
function heartbeat<T>(enc: c.Encoding<T>) {
  return (input: unknown): Outcome => {
    let value: T
    try {
      value = c.decode(enc, input as Buffer)
    } catch (err) {
      if (err instanceof Error) throw new Refusal('dropped (lenient decode)')
      throw err
    }
    // what it accepted is a well-formed message: it encodes again
    c.encode(enc, value)
    return 'accepted'
  }
}

export const DECODERS: DecoderTarget[] = [
  {
    name: 'cluster/entry',
    share: 1,
    inputs: (k) => jsonInputs(k.clusterEntries),
    run: (input, k) =>
      viaJson(input as Buffer, (value) => {
        const { kind, entry } = parseClusterEntry(value)
        const e = entry as { signed?: unknown; card?: unknown }
        const who = signerOf(k, e.signed)
        if (kind.type === 'cluster/certify') verifyCertificate(who.root.publicKey, who.accountId, e.signed)
        if (kind.type === 'cluster/revoke') verifyRevocation(who.root.publicKey, who.accountId, e.signed)
        if (kind.type === 'cluster/friend') verifyCard(e.card)
      })
  },
  {
    name: 'cluster/certificate',
    share: 1,
    inputs: (k) => jsonInputs([...k.certificates, ...k.revocations]),
    run: (input, k) =>
      viaJson(input as Buffer, (value) => {
        const who = signerOf(k, value)
        if (value !== null && typeof value === 'object' && 'revocation' in value)
          verifyRevocation(who.root.publicKey, who.accountId, value)
        else verifyCertificate(who.root.publicKey, who.accountId, value)
      })
  },
  {
    name: 'cluster/card',
    share: 1,
    inputs: (k) =>
      fc.oneof(
        textInputs(k.cards),
        // structural: a field of the signed card changed, encoded as a card again
        mutatedJson(k.cards.map((t) => decodeCardText(t))).map(
          (v) => CARD_PREFIX + Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')
        )
      ),
    run: (input) => {
      verifyCard(decodeCardText(input as string))
      return 'accepted'
    }
  },
  {
    name: 'cluster/invite',
    share: 1,
    inputs: (k) => textInputs(k.invites),
    run: (input) => {
      decodeInvite(input as string)
      return 'accepted'
    }
  },
  {
    name: 'cluster/frames',
    share: 1,
    inputs: (k) => fc.tuple(byteInputs(k.frames), fc.nat()),
    run: (input) => {
      const [bytes, split] = input as [Buffer, number]
      const reader = new FrameReader()
      const at = split % (bytes.length + 1)
      try {
        reader.push(bytes.subarray(0, at))
        reader.push(bytes.subarray(at))
      } catch (err) {
        if (err instanceof FrameError) throw new Refusal('FrameError')
        throw err
      }
      return 'accepted'
    }
  },
  {
    name: 'conversations/entry',
    share: 1,
    inputs: (k) => jsonInputs(k.conversationEntries),
    run: (input, k) =>
      viaJson(input as Buffer, (value) => {
        const parsed = parseConversationEntry(value)
        if (parsed.type === 'conv/manifest')
          checkManifest(parsed.entry, { baseKey: k.baseKey, strict: false })
        if (parsed.type === 'conv/msg') {
          const m = parsed.entry
          const record = { ...m, signingKey: m.author.signingKey, seq: 0 } as unknown as Parameters<
            typeof verifyMessageRecord
          >[1]
          if (!verifyMessageRecord(k.manifest.id, record))
            throw new Refusal('bad signature (verifyMessageRecord)')
        }
      })
  },
  {
    name: 'archive/decode',
    share: 1,
    inputs: (k) => fc.tuple(byteInputs(k.archives), fc.integer({ min: 1, max: 4096 })),
    run: (input) => {
      const [bytes, block] = input as [Buffer, number]
      decodeArchive(bytes)
      // and block by block, as a node reads it from a core
      const opener = new ArchiveOpener()
      for (let at = 0; at < bytes.length && !opener.header; at += block)
        opener.push(bytes.subarray(at, at + block))
      return 'accepted'
    }
  },
  {
    name: 'archive/open',
    share: 0.02,
    inputs: (k) => byteInputs(k.archives),
    run: (input) => {
      openWith(input as Buffer, HOLDER_A, HOLDER_B)
      return 'accepted'
    }
  },
  {
    name: 'archive/index-entry',
    share: 1,
    inputs: (k) => byteInputs(k.indexEntries),
    run: (input) => {
      decodeIndexEntry(input as Buffer)
      return 'accepted'
    }
  },
  {
    name: 'archive/transcript',
    share: 1,
    inputs: (k) =>
      fc.oneof(
        byteInputs(k.transcripts),
        // the header line mutated as JSON, the message lines kept
        mutatedJson(
          k.transcripts.map((t) => JSON.parse(t.subarray(0, t.indexOf(10)).toString()) as unknown)
        ).map((v) =>
          Buffer.concat([
            Buffer.from(JSON.stringify(v) ?? 'null'),
            k.transcripts[0]!.subarray(k.transcripts[0]!.indexOf(10))
          ])
        )
      ),
    run: (input, k) => {
      const own = k.alice.device(0)
      decodeTranscript(input as Buffer, {
        isOwnDevice: (deviceId, key) =>
          deviceId === own.deviceId && key === own.signing.publicKey.toString('hex'),
        verifyMessage: (id, m) =>
          verifyMessageRecord(id, m as unknown as Parameters<typeof verifyMessageRecord>[1]),
        conversationId: k.manifest.id
      }).full()
      return 'accepted'
    }
  },
  { name: 'heartbeat/ping', share: 1, inputs: (k) => byteInputs(k.pings), run: heartbeat(pingEncoding) },
  { name: 'heartbeat/pong', share: 1, inputs: (k) => byteInputs(k.pongs), run: heartbeat(pongEncoding) },
  {
    name: 'heartbeat/address',
    share: 1,
    inputs: (k) => byteInputs(k.addresses),
    run: heartbeat(addressEncoding)
  },
  {
    name: 'direct/host-port',
    share: 1,
    inputs: (k) => textInputs(k.hostPorts),
    run: (input) => {
      parseHostPort(input as string)
      return 'accepted'
    }
  }
]

export interface DecoderFigures {
  name: string
  runs: number
  accepted: number
  refused: number
  crashes: number
  hangs: number
  /** Every real corpus entry decodes (else the mutations would start from garbage). */
  seedsAccepted: boolean
  codes: Record<string, number>
  firstCrash: string | null
  maxMs: number
}

/** Feeds one decoder `runs` seeded inputs. */
export function fuzzDecoder(target: DecoderTarget, seed: number, runs: number): DecoderFigures {
  const corpus = buildCorpus()
  const f: DecoderFigures = {
    name: target.name,
    runs: 0,
    accepted: 0,
    refused: 0,
    crashes: 0,
    hangs: 0,
    seedsAccepted: true,
    codes: {},
    firstCrash: null,
    maxMs: 0
  }
  const classify = (input: unknown): void => {
    const t0 = performance.now()
    try {
      if (target.run(input, corpus) === 'accepted') f.accepted++
      else {
        f.refused++
        f.codes.SUBSTRATE_UNDECODABLE = (f.codes.SUBSTRATE_UNDECODABLE ?? 0) + 1
      }
    } catch (err) {
      const code = err instanceof Refusal ? err.label : codeOf(err)
      if (code !== null) {
        f.refused++
        f.codes[code] = (f.codes[code] ?? 0) + 1
      } else {
        f.crashes++
        f.firstCrash ??= `${(err as Error)?.stack ?? String(err)} on ${JSON.stringify(String(input)).slice(0, 300)}`
      }
    }
    const ms = performance.now() - t0
    if (ms > f.maxMs) f.maxMs = ms
    if (ms > HANG_MS) f.hangs++
    f.runs++
  }
  const arb = target.inputs(corpus)
  fc.assert(
    fc.property(arb, (input) => {
      classify(input)
      return true
    }),
    { seed, numRuns: runs }
  )
  // the unmutated seeds must be accepted by their decoder
  const seeds = seedInputs(target.name, corpus)
  for (const s of seeds) {
    try {
      if (target.run(s, corpus) !== 'accepted') f.seedsAccepted = false
    } catch {
      f.seedsAccepted = false
    }
  }
  f.maxMs = Math.round(f.maxMs * 100) / 100
  return f
}

function seedInputs(name: string, k: Corpus): unknown[] {
  const json = (xs: readonly unknown[]) => xs.map((x) => jsonCodec.encode(x))
  switch (name) {
    case 'cluster/entry':
      return json(k.clusterEntries)
    case 'cluster/certificate':
      return json([...k.certificates, ...k.revocations])
    case 'cluster/card':
      return k.cards
    case 'cluster/invite':
      return k.invites
    case 'cluster/frames':
      return k.frames.map((b) => [b, 3])
    case 'conversations/entry':
      return json(k.conversationEntries)
    case 'archive/decode':
      return k.archives.map((b) => [b, 64])
    case 'archive/open':
      return k.archives
    case 'archive/index-entry':
      return k.indexEntries
    case 'archive/transcript':
      return k.transcripts
    case 'heartbeat/ping':
      return k.pings
    case 'heartbeat/pong':
      return k.pongs
    case 'heartbeat/address':
      return k.addresses
    case 'direct/host-port':
      return k.hostPorts
    default:
      throw new Error(`no seeds for ${name}`)
  }
}
