import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type DeviceCertificate,
  issueCertificate,
  type SignedCertificate
} from '../../cluster/certificate.js'
import { encodeCardText, issueCard, type SignedCard } from '../../cluster/contact-card.js'
import { labelledHash } from '../kernel/crypto/hash.js'
import { hex, unhex } from '../kernel/encoding.js'
import { KernelErrors } from '../kernel/errors.js'
import { type LoadedIdentity, loadIdentity, writeFileAtomic } from '../kernel/identity/home-store.js'
import { deriveDevice, deriveRoot, KEY_LABELS } from '../kernel/identity/keys.js'

/** HOME/card.txt: the latest contact card the running node made (it needs the root to sign one). */
export const CARD_FILE = 'card.txt'

export function clusterTopic(identity: LoadedIdentity): Buffer {
  return labelledHash(KEY_LABELS.clusterTopic, [unhex(identity.identity.cluster.bootstrap)])
}

/** Signs a card naming `certificates` (root holders only: IDENTITY_NO_ROOT otherwise). */
export function signCard(
  identity: LoadedIdentity,
  certificates: SignedCertificate[],
  addresses: Array<{ deviceId: string; address: string }>,
  nowMs: number
): SignedCard {
  const seed = identity.secrets.seed
  if (!seed) throw KernelErrors.IDENTITY_NO_ROOT('only a device that keeps the root can sign a contact card')
  const root = deriveRoot(unhex(seed))
  return issueCard(root.signing, {
    type: 'contact-card',
    v: 1,
    accountId: identity.identity.accountId,
    rootPublic: identity.identity.rootPublic,
    topic: hex(clusterTopic(identity)),
    devices: certificates,
    addresses,
    issuedAt: nowMs
  })
}

export function writeCardFile(home: string, card: SignedCard): string {
  const text = encodeCardText(card)
  writeFileAtomic(join(home, CARD_FILE), `${text}\n`, 0o644)
  return text
}

/**
 * `conclave card` without a node: the card the node last wrote, else (on a
 * root holder that never ran) a card naming only this device.
 */
export function offlineCard(home: string, nowMs: number): { card: string; accountId: string } {
  const identity = loadIdentity(home)
  try {
    const text = readFileSync(join(home, CARD_FILE), 'utf8').trim()
    if (text) return { card: text, accountId: identity.identity.accountId }
  } catch {
    // no card yet: make one below
  }
  const seed = identity.secrets.seed
  if (!seed) {
    throw KernelErrors.IDENTITY_NO_ROOT('no card yet: run "conclave card" on a device that keeps the root')
  }
  const s = unhex(seed)
  const { identity: id, secrets } = identity
  const dev = deriveDevice(s, id.device)
  const cert: DeviceCertificate = {
    type: 'device-cert',
    v: 1,
    accountId: id.accountId,
    deviceId: id.deviceId,
    device: id.device,
    epoch: id.epoch,
    signingKey: hex(dev.signing.publicKey),
    xwingKey: hex(dev.xwing.publicKey),
    writerKey: secrets.writer.publicKey,
    roles: ['access', 'relay'],
    indexer: id.device === 0 && id.epoch === 0,
    issuedAt: nowMs
  }
  const card = signCard(identity, [issueCertificate(deriveRoot(s).signing, cert)], [], nowMs)
  return { card: encodeCardText(card), accountId: id.accountId }
}
