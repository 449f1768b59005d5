import test from 'brittle'
import {
  buildManifest,
  checkManifest,
  conversationIdFor,
  getPattern,
  listPatterns,
  type Manifest,
  type ManifestInput,
  openConversationKey,
  sealConversationKey
} from '../../conversations/index.js'
import { SIGN_CONTEXT, signValue } from '../../conversations/signing.js'
import { labelledHash } from '../../src/kernel/crypto/hash.js'
import { decodeId } from '../../src/kernel/ids.js'
import { coreKeyFor } from '../../src/kernel/substrate/index.js'
import { account, members, writerFor } from './helpers.js'

const A = account('alice')
const B = account('bob')
const baseKey = coreKeyFor(writerFor(A, 0, 'unit').publicKey)
const ctx = {
  baseKey,
  createdAt: 1_700_000_000_000,
  creator: { accountId: A.accountId, deviceId: A.device(0).deviceId },
  signingKeyPair: A.device(0).signing
}
const vote = (over: Partial<ManifestInput> = {}): ManifestInput => ({
  topic: 'Lunch?',
  pattern: 'vote',
  consensus: { method: 'majority' },
  options: ['pizza', 'sushi'],
  members: members(A, B),
  ...over
})

function codeOf(fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/** Re-signs a manifest changed after signing, as a creator may (but a third party cannot). */
function resign(m: Manifest): Manifest {
  const { sig: _sig, ...unsigned } = m
  return { ...unsigned, sig: signValue(SIGN_CONTEXT.manifest, unsigned, A.device(0).signing) }
}

test('the conversation id derives from the base key', (t) => {
  const id = conversationIdFor(baseKey)
  t.ok(id.startsWith('cnv_'))
  t.alike(
    decodeId('conversation', id).bytes,
    labelledHash('conclave/v1/conversation-id', [baseKey]).subarray(0, 16)
  )
  t.not(conversationIdFor(coreKeyFor(writerFor(A, 0, 'other').publicKey)), id, 'another base, another id')
})

test('a valid manifest is built, signed and checked', (t) => {
  const { manifest, rules } = buildManifest(vote(), ctx)
  t.is(manifest.id, conversationIdFor(baseKey))
  t.is(rules.devices.size, 3, 'three certified devices')
  t.alike(rules.config.members, [A.accountId, B.accountId])
  t.is(rules.resolved.method, 'majority')
  t.ok(checkManifest(manifest, { baseKey, strict: true }), 'checks again as received')
  t.is(
    codeOf(() =>
      checkManifest(manifest, { baseKey: coreKeyFor(B.device(0).signing.publicKey), strict: false })
    ),
    'CONV_MANIFEST_INVALID',
    'bound to its base'
  )
  t.is(
    codeOf(() => checkManifest({ ...manifest, topic: 'Dinner?' }, { baseKey, strict: false })),
    'CONV_BAD_SIGNATURE',
    'tampering breaks the signature'
  )
  const invite = buildManifest({ ...vote(), pattern: 'invitation', options: undefined }, ctx)
  t.alike(invite.manifest.options, ['accept', 'decline'], 'fixed options are filled in and signed')
  const cel = buildManifest(vote({ consensus: { expr: 'voted == members' } }), ctx)
  t.alike(
    cel.manifest.consensus.exprLang,
    { lang: 'cel', version: '1' },
    'the predicate language is recorded'
  )
})

test('creation is strict about the consensus rule and the pattern', (t) => {
  t.is(
    codeOf(() => buildManifest(vote({ consensus: { method: 'borda' } }), ctx)),
    'CONSENSUS_METHOD_UNKNOWN'
  )
  t.is(
    codeOf(() => buildManifest(vote({ consensus: { expr: 'leader.matches("^p")' } }), ctx)),
    'CONSENSUS_PREDICATE_INVALID'
  )
  t.is(
    codeOf(() => buildManifest(vote({ consensus: { expr: 'voted' } }), ctx)),
    'CONSENSUS_PREDICATE_INVALID',
    'not boolean'
  )
  t.is(
    codeOf(() => buildManifest(vote({ consensus: { method: 'majority', params: { quorom: 1 } } }), ctx)),
    'CONSENSUS_PARAMS_INVALID'
  )
  t.is(
    codeOf(() => buildManifest(vote({ consensus: { method: 'lazy-consensus' } }), ctx)),
    'CONSENSUS_PARAMS_INVALID',
    'needs a deadline'
  )
  t.is(
    codeOf(() => buildManifest(vote({ consensus: {} }), ctx)),
    'CONSENSUS_CONFIG_INVALID',
    'neither method nor expr'
  )
  t.is(
    codeOf(() => buildManifest(vote({ pattern: 'poll' }), ctx)),
    'CONV_PATTERN_UNKNOWN'
  )
  t.is(
    codeOf(() => buildManifest(vote({ options: ['only'] }), ctx)),
    'CONV_PATTERN_MISMATCH',
    'a vote needs two options'
  )
  t.is(
    codeOf(() => buildManifest(vote({ options: ['x', 'x'] }), ctx)),
    'CONV_PATTERN_MISMATCH',
    'unique options'
  )
  t.is(
    codeOf(() => buildManifest(vote({ consensus: { method: 'announcement' } }), ctx)),
    'CONV_PATTERN_MISMATCH',
    'a vote has no publish'
  )
  t.is(
    codeOf(() =>
      buildManifest(vote({ pattern: 'announcement', options: [], consensus: { method: 'majority' } }), ctx)
    ),
    'CONV_PATTERN_MISMATCH',
    'an announcement publishes'
  )
  t.is(
    codeOf(() =>
      buildManifest(
        vote({
          pattern: 'announcement',
          options: [],
          consensus: { method: 'announcement', params: { author: B.accountId } }
        }),
        ctx
      )
    ),
    'CONV_PATTERN_MISMATCH',
    'only the creator publishes, so only the creator can be the author'
  )
  t.is(
    codeOf(() =>
      buildManifest(
        vote({ pattern: 'invitation', options: undefined, consensus: { method: 'approval' } }),
        ctx
      )
    ),
    'CONV_PATTERN_MISMATCH',
    'an invitation casts single choices'
  )
  t.is(
    codeOf(() => buildManifest(vote({ pattern: 'invitation', options: ['yes', 'no'] }), ctx)),
    'CONV_PATTERN_MISMATCH',
    'fixed options'
  )
  t.is(
    codeOf(() => buildManifest(vote({ topic: '' }), ctx)),
    'CONV_MANIFEST_INVALID'
  )
})

test('members: root keys, certificates and the creator are verified', (t) => {
  const [a, b] = members(A, B)
  const forgedCert = { ...a!, devices: [a!.devices[0]!, { ...a!.devices[1]!, sig: B.certificate(0).sig }] }
  t.is(
    codeOf(() => buildManifest(vote({ members: [forgedCert, b!] }), ctx)),
    'CONV_MANIFEST_INVALID',
    'a certificate not signed by the root'
  )
  const wrongRoot = { ...b!, rootPublic: a!.rootPublic }
  t.is(
    codeOf(() => buildManifest(vote({ members: [a!, wrongRoot] }), ctx)),
    'CONV_MANIFEST_INVALID',
    "another account's root keys"
  )
  const bDevicesUnderA = { ...a!, devices: [a!.devices[0]!, b!.devices[0]!] }
  t.is(
    codeOf(() => buildManifest(vote({ members: [bDevicesUnderA, b!] }), ctx)),
    'CONV_MANIFEST_INVALID',
    "another account's device"
  )
  t.is(
    codeOf(() => buildManifest(vote({ members: [a!, a!] }), ctx)),
    'CONV_MANIFEST_INVALID',
    'a member twice'
  )
  t.is(
    codeOf(() => buildManifest(vote({ members: [A.member([1]), b!] }), ctx)),
    'CONV_MANIFEST_INVALID',
    "the creator's device must be listed"
  )
  t.is(
    codeOf(() => buildManifest(vote({ members: [b!] }), ctx)),
    'CONV_MANIFEST_INVALID',
    'the creator must be a member'
  )
})

test('a received manifest with a method this node lacks is kept, shown as unsupported', (t) => {
  const { manifest } = buildManifest(vote(), ctx)
  const foreign = resign({ ...manifest, consensus: { method: 'borda' } })
  const rules = checkManifest(foreign, { baseKey, strict: false })
  t.ok(rules.resolved.unsupported, `unsupported: ${rules.resolved.unsupported}`)
  t.is(
    codeOf(() => checkManifest(foreign, { baseKey, strict: true })),
    'CONSENSUS_METHOD_UNKNOWN',
    'but never created here'
  )
})

test('patterns are data: five of them, consistent', (t) => {
  t.alike(listPatterns().sort(), ['announcement', 'debate', 'discussion', 'invitation', 'vote'])
  t.is(getPattern('poll'), null)
  for (const name of listPatterns()) {
    const p = getPattern(name)!
    const reachable = new Set([p.initialPhase])
    for (const k of Object.values(p.kinds)) if (k.next) reachable.add(k.next)
    for (const [kind, k] of Object.entries(p.kinds)) {
      if (k.phases !== 'any') {
        for (const phase of k.phases)
          t.ok(reachable.has(phase), `${name}/${kind}: phase ${phase} is reachable`)
      }
    }
    t.is(p.kinds.heartbeat?.tally.type, 'heartbeat', `${name} has the heartbeat`)
  }
})

test('the conversation key is sealed to one device of one conversation', async (t) => {
  const key = Buffer.alloc(32, 7)
  const to = { conversationId: conversationIdFor(baseKey), deviceId: B.device(0).deviceId }
  const sealed = sealConversationKey(key, { ...to, xwingKey: B.device(0).xwing.publicKey })
  t.alike(openConversationKey(sealed, B.device(0).xwing.secretKey, to), key)
  t.is(
    codeOf(() =>
      openConversationKey(sealed, B.device(0).xwing.secretKey, { ...to, deviceId: A.device(0).deviceId })
    ),
    'CRYPTO_DECRYPT_FAILED',
    'bound to the device id'
  )
  t.is(
    codeOf(() =>
      openConversationKey(sealed, B.device(0).xwing.secretKey, { ...to, conversationId: 'cnv_x' })
    ),
    'CRYPTO_DECRYPT_FAILED',
    'bound to the conversation'
  )
})
