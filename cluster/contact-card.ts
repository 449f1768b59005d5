import { z } from 'zod'
import type { HybridKeyPair, HybridPublicKey } from '../src/kernel/crypto/hybrid-sign.js'
import {
  HYBRID_SIGNATURE_BYTES,
  hybridSign,
  hybridVerify,
  MLDSA65_PUBLIC_KEY_BYTES
} from '../src/kernel/crypto/hybrid-sign.js'
import { canonicalBytes, canonicalJson, hex, hexSchema, unhex } from '../src/kernel/encoding.js'
import { accountIdFromPublic } from '../src/kernel/identity/keys.js'
import { type SignedCertificate, verifyCertificate } from './certificate.js'
import { ClusterErrors } from './errors.js'

/**
 * A contact card: what two people exchange in person to become friends. It
 * names the account (id and both root public keys), its devices (their
 * root-signed certificates, so a friend can verify each one), the cluster
 * topic (so a friend's node can find these devices on the DHT), and last
 * known addresses. The whole card is signed by both root keys.
 *
 * Text form: `ccard1_` + base64url(canonical JSON). It is public information,
 * but it is large (post-quantum keys): the QR code shown beside it carries the
 * account id, which both people compare in person.
 */
export const CARD_CONTEXT = 'conclave/contact-card/v1'
export const CARD_PREFIX = 'ccard1_'
const MAX_CARD_TEXT = 512 * 1024

export const ContactCardSchema = z
  .object({
    type: z.literal('contact-card'),
    v: z.literal(1),
    accountId: z.string().max(64),
    rootPublic: z.object({ ed25519: hexSchema(32), mldsa: hexSchema(MLDSA65_PUBLIC_KEY_BYTES) }).strict(),
    topic: hexSchema(32),
    devices: z
      .array(z.object({ cert: z.unknown(), sig: z.string() }).strict())
      .min(1)
      .max(64),
    addresses: z
      .array(z.object({ deviceId: z.string().max(64), address: z.string().max(300) }).strict())
      .max(256),
    name: z.string().max(64).optional(),
    issuedAt: z.number().int().min(0)
  })
  .strict()
export type ContactCard = z.infer<typeof ContactCardSchema>

export interface SignedCard {
  card: ContactCard
  sig: string
}

const SignedCardSchema = z.object({ card: z.unknown(), sig: hexSchema(HYBRID_SIGNATURE_BYTES) }).strict()

export function cardRootPublic(card: ContactCard): HybridPublicKey {
  return { ed25519: unhex(card.rootPublic.ed25519), mldsa: unhex(card.rootPublic.mldsa) }
}

export function issueCard(root: HybridKeyPair, card: ContactCard): SignedCard {
  const body = ContactCardSchema.parse(card)
  return { card: body, sig: hex(hybridSign(root, canonicalBytes(body), CARD_CONTEXT)) }
}

/**
 * Parses and verifies a card: the account id is the hash of its root keys,
 * the card is signed by both, and every device certificate verifies under
 * them. Throws CLUSTER_CARD_INVALID.
 */
export function verifyCard(value: unknown): { signed: SignedCard; certificates: SignedCertificate[] } {
  const outer = SignedCardSchema.safeParse(value)
  if (!outer.success) throw ClusterErrors.CLUSTER_CARD_INVALID('not a signed contact card')
  const body = ContactCardSchema.safeParse(outer.data.card)
  if (!body.success) {
    const i = body.error.issues[0]
    throw ClusterErrors.CLUSTER_CARD_INVALID(`contact card: ${i?.path.join('.')}: ${i?.message}`)
  }
  const card = body.data
  const rootPublic = cardRootPublic(card)
  if (accountIdFromPublic(rootPublic) !== card.accountId) {
    throw ClusterErrors.CLUSTER_CARD_INVALID('the account id does not match the root keys on the card')
  }
  if (!hybridVerify(rootPublic, canonicalBytes(card), unhex(outer.data.sig), CARD_CONTEXT)) {
    throw ClusterErrors.CLUSTER_CARD_INVALID('the card is not signed by both root keys of its account')
  }
  const certificates: SignedCertificate[] = []
  const seen = new Set<string>()
  for (const d of card.devices) {
    let cert: SignedCertificate
    try {
      cert = verifyCertificate(rootPublic, card.accountId, d)
    } catch (err) {
      throw ClusterErrors.CLUSTER_CARD_INVALID('a device certificate on the card does not verify', {
        cause: err
      })
    }
    if (seen.has(cert.cert.signingKey)) throw ClusterErrors.CLUSTER_CARD_INVALID('a device is listed twice')
    seen.add(cert.cert.signingKey)
    certificates.push(cert)
  }
  return { signed: { card, sig: outer.data.sig }, certificates }
}

export function encodeCardText(signed: SignedCard): string {
  return CARD_PREFIX + Buffer.from(canonicalJson(signed), 'utf8').toString('base64url')
}

/** Text → untrusted value (verify it with verifyCard). Throws CLUSTER_CARD_INVALID. */
export function decodeCardText(text: string): unknown {
  const t = text.trim()
  if (!t.startsWith(CARD_PREFIX) || t.length > MAX_CARD_TEXT) {
    throw ClusterErrors.CLUSTER_CARD_INVALID('not a Conclave contact card (expected ccard1_…)')
  }
  const b64 = t.slice(CARD_PREFIX.length)
  if (!/^[A-Za-z0-9_-]*$/.test(b64)) throw ClusterErrors.CLUSTER_CARD_INVALID('malformed contact card text')
  try {
    return JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'))
  } catch {
    throw ClusterErrors.CLUSTER_CARD_INVALID('malformed contact card text (cut off?)')
  }
}
