import { asBuffer } from '../src/kernel/crypto/ed25519.js'
import { equalBytes } from '../src/kernel/crypto/hash.js'
import {
  XWING_SECRET_KEY_BYTES,
  type XWingSealRandomness,
  xwingOpen,
  xwingPublicKeyFromSecret,
  xwingSeal
} from '../src/kernel/crypto/xwing.js'
import { isConclaveError } from '../src/kernel/errors.js'
import { ArchiveErrors } from './errors.js'
import {
  ARCHIVE_ENVELOPE_BYTES,
  ARCHIVE_ID_BYTES,
  ARCHIVE_VERSION,
  type ByteReader,
  DATA_KEY_BYTES,
  HOLDER_HASH_BYTES,
  type HolderIndex,
  holderHash,
  isBytesOf,
  LABEL,
  labelBytes,
  type Pair,
  field,
  u8
} from './format.js'

/**
 * The two-layer seal. A 32-byte key (an archive's data key, or the key of an
 * index entry's secret part) is sealed to the inner holder, and that seal sealed again to
 * the outer holder. Every layer's AD names the purpose, the version, the
 * archive, both holders in order, which holder is inside and which layer it
 * is, so no layer opens anywhere else.
 */

/** One double seal: `sealed` is the outer layer; holder `innerHolder` is inside, the other holder outside. */
export interface Envelope {
  readonly innerHolder: HolderIndex
  readonly sealed: Buffer
}

/** What every layer is bound to. Build it with archiveContext / indexEntryContext. */
export interface LayerContext {
  /** 'key': the envelopes of an archive's data key; 'index': those of an index entry's key. */
  readonly purpose: 'key' | 'index'
  readonly archiveId: Buffer
  /** holderHash of A's and B's X-Wing public keys, in the order the archive was sealed with. */
  readonly holders: Pair<Buffer>
  /** 'index' only: the digest of the entry's public part, so that no public field can be changed. */
  readonly binding?: Buffer
}

export const LAYER_INNER = 1
export const LAYER_OUTER = 2

/**
 * AD of one layer:
 *   u16be(len label) ‖ label ‖ u8 version ‖ archive id (32) ‖ holder hash 0 (32) ‖ holder hash 1 (32)
 *   ‖ u8 inner holder ‖ u8 layer (1 inner, 2 outer) [‖ public-part digest (32), index entries only]
 */
export function layerAd(ctx: LayerContext, innerHolder: HolderIndex, layer: 1 | 2): Buffer {
  const label = ctx.purpose === 'key' ? LABEL.keyLayer : LABEL.indexLayer
  const parts = [labelBytes(label), u8(ARCHIVE_VERSION), ctx.archiveId, ctx.holders[0], ctx.holders[1]]
  parts.push(u8(innerHolder), u8(layer))
  if (ctx.purpose === 'index') parts.push(ctx.binding!)
  return Buffer.concat(parts)
}

export function checkContext(ctx: LayerContext): LayerContext {
  const ok =
    ctx !== null &&
    typeof ctx === 'object' &&
    (ctx.purpose === 'key' || ctx.purpose === 'index') &&
    isBytesOf(ctx.archiveId, ARCHIVE_ID_BYTES) &&
    Array.isArray(ctx.holders) &&
    ctx.holders.length === 2 &&
    ctx.holders.every((h) => isBytesOf(h, HOLDER_HASH_BYTES)) &&
    (ctx.purpose === 'key' ? ctx.binding === undefined : isBytesOf(ctx.binding, 32))
  if (!ok) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('malformed layer context')
  return ctx
}

/** Checks the holders' public keys for a seal and returns their hashes. */
export function holderHashes(publicKeys: Pair<Uint8Array>): Pair<Buffer> {
  if (!Array.isArray(publicKeys) || publicKeys.length !== 2) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('an archive has exactly two holders')
  }
  const hashes = [holderHash(publicKeys[0]), holderHash(publicKeys[1])] as const
  if (hashes[0].equals(hashes[1])) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the two holders must be different keys')
  }
  return hashes
}

/**
 * Seals `key` twice: envelope 0 is inner A / outer B, envelope 1 inner B /
 * outer A, so either holder can open it with the other's help. `fixed`
 * (test vectors only) gives the randomness of the four seals in the order
 * env 0 inner, env 0 outer, env 1 inner, env 1 outer.
 */
export function sealEnvelopes(
  key: Uint8Array,
  publicKeys: Pair<Uint8Array>,
  ctx: LayerContext,
  fixed?: readonly XWingSealRandomness[]
): Pair<Envelope> {
  if (fixed !== undefined && fixed.length !== 4) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('fixed randomness is given for exactly four layers')
  }
  const one = (inner: HolderIndex): Envelope => {
    const outer = inner === 0 ? 1 : 0
    try {
      const innerLayer = xwingSeal(
        publicKeys[inner],
        key,
        layerAd(ctx, inner, LAYER_INNER),
        fixed?.[2 * inner]
      )
      const sealed = xwingSeal(
        publicKeys[outer],
        innerLayer,
        layerAd(ctx, inner, LAYER_OUTER),
        fixed?.[2 * inner + 1]
      )
      return { innerHolder: inner, sealed }
    } catch (err) {
      if (isConclaveError(err) && err.code.startsWith('CRYPTO_')) {
        throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`cannot seal: ${err.message}`, { cause: err })
      }
      throw err
    }
  }
  return [one(0), one(1)]
}

function holderIndex(publicKey: Uint8Array, ctx: LayerContext): HolderIndex | -1 {
  const h = holderHash(publicKey)
  return equalBytes(h, ctx.holders[0]) ? 0 : equalBytes(h, ctx.holders[1]) ? 1 : -1
}

/** The index of the holder whose secret key this is, or ARCHIVE_NOT_RECIPIENT. */
function holderOf(secretKey: Uint8Array, ctx: LayerContext): HolderIndex {
  if (!isBytesOf(secretKey, XWING_SECRET_KEY_BYTES)) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT(`an X-Wing secret key is ${XWING_SECRET_KEY_BYTES} bytes`)
  }
  const index = holderIndex(xwingPublicKeyFromSecret(secretKey), ctx)
  if (index === -1) throw ArchiveErrors.ARCHIVE_NOT_RECIPIENT('this key is not a holder of the archive')
  return index
}

function open(secretKey: Uint8Array, sealed: Uint8Array, ad: Buffer, what: string): Buffer {
  try {
    return xwingOpen(secretKey, sealed, ad)
  } catch (err) {
    throw ArchiveErrors.ARCHIVE_INTEGRITY(`${what} does not open: tampered, or from another archive`, {
      cause: err
    })
  }
}

/**
 * Step 1 of the two-device open, done by the helping device (the envelope's
 * outer holder): removes the outer layer and returns the inner layer, still
 * sealed to the asking device. The helper never sees the secret.
 * Throws ARCHIVE_NOT_RECIPIENT if the key is not the envelope's outer holder,
 * ARCHIVE_INTEGRITY if the layer does not open under `ctx`.
 */
export function peelOuter(envelope: Envelope, outerHolderSecretKey: Uint8Array, ctx: LayerContext): Buffer {
  checkContext(ctx)
  if (
    envelope === null ||
    typeof envelope !== 'object' ||
    (envelope.innerHolder !== 0 && envelope.innerHolder !== 1)
  ) {
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('malformed envelope')
  }
  const index = holderOf(outerHolderSecretKey, ctx)
  if (index === envelope.innerHolder) {
    throw ArchiveErrors.ARCHIVE_NOT_RECIPIENT("this key holds the envelope's inner layer, not its outer one")
  }
  return open(
    outerHolderSecretKey,
    envelope.sealed,
    layerAd(ctx, envelope.innerHolder, LAYER_OUTER),
    'the outer layer'
  )
}

/**
 * Step 2, done by the asking device (the inner holder): removes the inner
 * layer returned by peelOuter and returns the 32-byte key inside (an
 * archive's data key, or an index entry's key). The inner holder is told by
 * the secret key given.
 */
export function peelInner(
  innerBlob: Uint8Array,
  innerHolderSecretKey: Uint8Array,
  ctx: LayerContext
): Buffer {
  checkContext(ctx)
  if (!(innerBlob instanceof Uint8Array))
    throw ArchiveErrors.ARCHIVE_INVALID_INPUT('the inner layer is bytes')
  const index = holderOf(innerHolderSecretKey, ctx)
  const key = open(innerHolderSecretKey, innerBlob, layerAd(ctx, index, LAYER_INNER), 'the inner layer')
  if (key.byteLength !== DATA_KEY_BYTES) {
    key.fill(0)
    throw ArchiveErrors.ARCHIVE_INTEGRITY('the inner layer does not hold a key')
  }
  return key
}

/** The envelope in which the holder with this public key is inside (the one that device asks the other to peel). */
export function envelopeFor(
  envelopes: Pair<Envelope>,
  ctx: LayerContext,
  innerPublicKey: Uint8Array
): Envelope {
  const index = holderIndex(innerPublicKey, ctx)
  if (index === -1) throw ArchiveErrors.ARCHIVE_NOT_RECIPIENT('this key is not a holder of the archive')
  const env = envelopes.find((e) => e.innerHolder === index)
  if (!env) throw ArchiveErrors.ARCHIVE_INVALID_INPUT('no envelope with this inner holder')
  return { innerHolder: env.innerHolder, sealed: asBuffer(env.sealed) }
}

/** u32be len ‖ envelope 0 ‖ u32be len ‖ envelope 1 */
export function encodeEnvelopes(envelopes: Pair<Envelope>): Buffer {
  return Buffer.concat([field(envelopes[0].sealed, 4), field(envelopes[1].sealed, 4)])
}

/** Reads the two envelopes; in version 1 each is ARCHIVE_ENVELOPE_BYTES long (ARCHIVE_FORMAT otherwise). */
export function readEnvelopes(r: ByteReader): Pair<Envelope> {
  const one = (innerHolder: HolderIndex): Envelope => {
    const len = r.u32()
    if (len !== ARCHIVE_ENVELOPE_BYTES) {
      throw ArchiveErrors.ARCHIVE_FORMAT(
        `an envelope of version 1 is ${ARCHIVE_ENVELOPE_BYTES} bytes, not ${len}`
      )
    }
    return { innerHolder, sealed: r.bytes(len) }
  }
  return [one(0), one(1)]
}
