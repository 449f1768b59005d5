import test from 'brittle'
import { xwingPublicKeyFromSecret } from '../../../src/kernel/crypto/xwing.js'
import { hex } from '../../../src/kernel/encoding.js'
import { identityFromSeed, relaySecrets, SecretsFileSchema } from '../../../src/kernel/identity/home-store.js'

const SEED = Buffer.alloc(64, 7)

test('relaySecrets keeps the X-Wing public key only, and changes nothing else', (t) => {
  const { secrets } = identityFromSeed(SEED, { device: 2, keepRoot: false })
  const secret = secrets.device.xwingSecretKey!
  const kept = relaySecrets(secrets)
  t.is(kept.device.xwingSecretKey, undefined, 'no secret key')
  t.is(
    kept.device.xwingPublicKey,
    hex(xwingPublicKeyFromSecret(Buffer.from(secret, 'hex'))),
    'its public key'
  )
  t.absent(JSON.stringify(kept).includes(secret), 'the secret appears nowhere')
  const { xwingSecretKey: _dropped, ...rest } = secrets.device
  t.alike(
    { ...kept, device: { ...kept.device, xwingPublicKey: undefined } },
    {
      ...secrets,
      device: { ...rest, xwingPublicKey: undefined }
    }
  )
  t.ok(SecretsFileSchema.safeParse(kept).success, 'a valid secrets file')
  t.is(relaySecrets(kept), kept, 'idempotent')
})

test('relaySecrets leaves a home that keeps the seed as it is: the seed derives every key', (t) => {
  const { secrets } = identityFromSeed(SEED, { device: 0, keepRoot: true })
  t.is(relaySecrets(secrets), secrets)
})

test('a secrets file needs the X-Wing secret or the public key', (t) => {
  const { secrets } = identityFromSeed(SEED, { device: 1, keepRoot: false })
  const { xwingSecretKey: _dropped, ...device } = secrets.device
  t.absent(SecretsFileSchema.safeParse({ ...secrets, device }).success, 'neither: refused')
  t.ok(SecretsFileSchema.safeParse(secrets).success, 'the secret: accepted')
})
