import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { KernelErrors } from '../errors.js'
import type { AccountId, DeviceId } from '../ids.js'
import { xwingPublicKeyFromSecret } from '../crypto/xwing.js'
import { deriveCluster, deriveDevice, deriveRoot, deriveWriter } from './keys.js'

/**
 * What a device keeps in its home folder:
 * - `identity.json` — public facts (account id, device index, writer epoch,
 *   root public keys). Nothing in it is secret.
 * - `secrets.json` — mode 0600; the device's own secret keys, the cluster
 *   key, and the BIP39 seed only when this device keeps the root.
 * The mnemonic itself is never stored: `init` shows it once.
 */

export const IDENTITY_FILE = 'identity.json'
export const SECRETS_FILE = 'secrets.json'

const Hex = z.string().regex(/^([0-9a-f]{2})*$/, 'hex')

export const IdentityFileSchema = z
  .object({
    v: z.literal(1),
    keyTreeVersion: z.number().int(),
    accountId: z.string(),
    deviceId: z.string(),
    device: z.number().int().min(0),
    epoch: z.number().int().min(0),
    keepsRoot: z.boolean(),
    /** Set by `recover`: the next run must learn the newest writer epoch before writing. */
    recovered: z.boolean(),
    /** Set by `join`: the certificate came from a root-holding device. */
    joined: z.boolean().default(false),
    createdAt: z.string(),
    rootPublic: z.object({ ed25519: Hex, mldsa: Hex }).strict(),
    cluster: z.object({ bootstrap: Hex }).strict()
  })
  .strict()
export type IdentityFile = z.infer<typeof IdentityFileSchema>

export const SecretsFileSchema = z
  .object({
    v: z.literal(1),
    seed: Hex.optional(),
    device: z
      .object({
        index: z.number().int().min(0),
        signingSecretKey: Hex,
        /** Absent on a relay-only device: it keeps only the public key (docs/archive.md, "Relays"). */
        xwingSecretKey: Hex.optional(),
        /** Present when the secret is absent. */
        xwingPublicKey: Hex.optional(),
        corestorePrimaryKey: Hex
      })
      .strict()
      .refine((d) => d.xwingSecretKey !== undefined || d.xwingPublicKey !== undefined, {
        message: 'the device needs its X-Wing secret key or, on a relay, its public key'
      }),
    writer: z.object({ epoch: z.number().int().min(0), publicKey: Hex, secretKey: Hex }).strict(),
    cluster: z.object({ encryptionKey: Hex }).strict()
  })
  .strict()
export type SecretsFile = z.infer<typeof SecretsFileSchema>

export interface NewIdentityOptions {
  device?: number
  epoch?: number
  keepRoot?: boolean
  recovered?: boolean
  now?: Date
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Builds both files' contents from a BIP39 seed. Pure: writes nothing. */
export function identityFromSeed(
  seed: Uint8Array,
  opts: NewIdentityOptions = {}
): { identity: IdentityFile; secrets: SecretsFile } {
  const index = opts.device ?? 0
  const epoch = opts.epoch ?? 0
  const keepRoot = opts.keepRoot ?? true
  const root = deriveRoot(seed)
  const device = deriveDevice(seed, index)
  const writer = deriveWriter(seed, index, epoch)
  const cluster = deriveCluster(seed)
  const identity: IdentityFile = {
    v: 1,
    keyTreeVersion: 1,
    accountId: root.accountId,
    deviceId: device.deviceId,
    device: index,
    epoch,
    keepsRoot: keepRoot,
    recovered: opts.recovered ?? false,
    joined: false,
    createdAt: (opts.now ?? new Date()).toISOString(),
    rootPublic: { ed25519: hex(root.publicKey.ed25519), mldsa: hex(root.publicKey.mldsa) },
    cluster: { bootstrap: hex(cluster.bootstrap.publicKey) }
  }
  const secrets: SecretsFile = {
    v: 1,
    ...(keepRoot ? { seed: hex(seed) } : {}),
    device: {
      index,
      signingSecretKey: hex(device.signing.secretKey),
      xwingSecretKey: hex(device.xwing.secretKey),
      corestorePrimaryKey: hex(device.corestorePrimaryKey)
    },
    writer: { epoch, publicKey: hex(writer.publicKey), secretKey: hex(writer.secretKey) },
    cluster: { encryptionKey: hex(cluster.encryptionKey) }
  }
  return { identity, secrets }
}

export function hasIdentity(home: string): boolean {
  return existsSync(join(home, IDENTITY_FILE)) || existsSync(join(home, SECRETS_FILE))
}

/** Writes `text` to a temporary file, syncs it, and renames it over `file`: a crash leaves the old or the new file, never half of one. */
export function writeFileAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, text, { mode })
  chmodSync(tmp, mode)
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}

/** Writes secrets first (0600) and identity last, so a crash leaves a home that `hasIdentity` reports and `loadIdentity` explains. */
export function writeIdentity(home: string, identity: IdentityFile, secrets: SecretsFile): void {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  writeFileAtomic(
    join(home, SECRETS_FILE),
    `${JSON.stringify(SecretsFileSchema.parse(secrets), null, 2)}\n`,
    0o600
  )
  writeFileAtomic(
    join(home, IDENTITY_FILE),
    `${JSON.stringify(IdentityFileSchema.parse(identity), null, 2)}\n`,
    0o644
  )
}

/**
 * The secrets of a device that has no `access` role: the X-Wing secret (which opens
 * conversation keys and archive layers sealed to this device) is replaced by its public key.
 * A home that keeps the seed is returned unchanged: the seed derives every key anyway.
 */
export function relaySecrets(secrets: SecretsFile): SecretsFile {
  if (secrets.seed !== undefined || secrets.device.xwingSecretKey === undefined) return secrets
  const { xwingSecretKey, ...device } = secrets.device
  const xwingPublicKey = hex(xwingPublicKeyFromSecret(Buffer.from(xwingSecretKey, 'hex')))
  return { ...secrets, device: { ...device, xwingPublicKey } }
}

/** Rewrites only identity.json (e.g. a settled epoch). */
export function updateIdentity(home: string, identity: IdentityFile): void {
  writeFileAtomic(
    join(home, IDENTITY_FILE),
    `${JSON.stringify(IdentityFileSchema.parse(identity), null, 2)}\n`,
    0o644
  )
}

export function updateSecrets(home: string, secrets: SecretsFile): void {
  writeFileAtomic(
    join(home, SECRETS_FILE),
    `${JSON.stringify(SecretsFileSchema.parse(secrets), null, 2)}\n`,
    0o600
  )
}

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw KernelErrors.IDENTITY_MISSING(
        `no identity in this home (${file} missing); run "conclave init" or "conclave recover"`,
        {
          data: { file }
        }
      )
    }
    throw KernelErrors.IDENTITY_SECRET_UNREADABLE(`cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
      data: { file }
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw KernelErrors.IDENTITY_SECRET_UNREADABLE(`${file} is corrupted (not JSON)`, {
      cause: err,
      data: { file }
    })
  }
  const r = schema.safeParse(value)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw KernelErrors.IDENTITY_SECRET_UNREADABLE(
      `${file} is corrupted: ${issue?.path.join('.')}: ${issue?.message}`,
      {
        data: { file }
      }
    )
  }
  return r.data
}

export function readIdentity(home: string): IdentityFile {
  return readJson(join(home, IDENTITY_FILE), IdentityFileSchema)
}

export interface LoadedIdentity {
  identity: IdentityFile
  secrets: SecretsFile
  accountId: AccountId
  deviceId: DeviceId
}

/**
 * Reads both files and checks that they describe the same device: a secrets
 * file from another identity is refused, never silently used.
 */
export function loadIdentity(home: string): LoadedIdentity {
  const identity = readIdentity(home)
  const secretsFile = join(home, SECRETS_FILE)
  const secrets = readJson(secretsFile, SecretsFileSchema)
  const mismatch = (what: string) =>
    KernelErrors.IDENTITY_SECRET_UNREADABLE(`${secretsFile} belongs to another ${what}`, {
      data: { file: secretsFile }
    })
  if (secrets.device.index !== identity.device) throw mismatch('device')
  if (secrets.seed && deriveRoot(Buffer.from(secrets.seed, 'hex')).accountId !== identity.accountId)
    throw mismatch('account')
  return {
    identity,
    secrets,
    accountId: identity.accountId as AccountId,
    deviceId: identity.deviceId as DeviceId
  }
}
