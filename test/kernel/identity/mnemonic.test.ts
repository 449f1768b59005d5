import { readFileSync } from 'node:fs'
import test from 'brittle'
import { isConclaveError } from '../../../src/kernel/errors.js'
import {
  bip39Seed,
  generateMnemonic,
  mnemonicFromEntropy,
  mnemonicToSeed,
  normalizeMnemonic
} from '../../../src/kernel/identity/mnemonic.js'

interface Bip39Fixture {
  passphrase: string
  english: [entropy: string, mnemonic: string, seed: string][]
}

// compiled to dist/test/kernel/identity/: the fixture stays in the source tree
const fixture: Bip39Fixture = JSON.parse(
  readFileSync(new URL('../../../../test/fixtures/bip39-vectors.json', import.meta.url), 'utf8')
)

function throwsCode(
  t: { ok(v: unknown, m?: string): void; fail(m?: string): void },
  fn: () => unknown,
  code: string,
  m = code
): Record<string, unknown> | undefined {
  try {
    fn()
    t.fail(`${m}: did not throw`)
  } catch (err) {
    t.ok(isConclaveError(err, code), `${m} (${(err as { code?: string }).code})`)
    return (err as { data?: Record<string, unknown> }).data
  }
  return undefined
}

const ALL_ABANDON_ART = `${'abandon '.repeat(23)}art`

test('bip39: all official Trezor English vectors (passphrase "TREZOR")', (t) => {
  t.is(fixture.english.length, 24, 'the full english set')
  t.is(fixture.passphrase, 'TREZOR')
  for (const [entropy, mnemonic, seed] of fixture.english) {
    t.is(
      mnemonicFromEntropy(Buffer.from(entropy, 'hex')),
      mnemonic,
      `entropy ${entropy.slice(0, 8)}… → mnemonic`
    )
    t.is(
      bip39Seed(mnemonic, fixture.passphrase).toString('hex'),
      seed,
      `mnemonic → seed (${entropy.slice(0, 8)}…)`
    )
  }
})

test('bip39: 24-word vectors also pass through the Conclave entry points', (t) => {
  const long = fixture.english.filter(([e]) => e.length === 64)
  t.is(long.length, 8)
  for (const [, mnemonic, seed] of long) {
    t.is(normalizeMnemonic(mnemonic), mnemonic)
    t.is(mnemonicToSeed(mnemonic, 'TREZOR').toString('hex'), seed)
  }
})

test('mnemonic: generate gives 24 valid, distinct words', (t) => {
  const a = generateMnemonic()
  const b = generateMnemonic()
  t.is(a.split(' ').length, 24)
  t.is(normalizeMnemonic(a), a)
  t.not(a, b)
  t.is(mnemonicToSeed(a).length, 64)
})

test('mnemonic: whitespace is trimmed and collapsed, and the seed is that of the canonical form', (t) => {
  const messy = `  ${ALL_ABANDON_ART.replaceAll(' ', ' \t\n ')}\n`
  t.is(normalizeMnemonic(messy), ALL_ABANDON_ART)
  t.alike(mnemonicToSeed(messy), mnemonicToSeed(ALL_ABANDON_ART))
  t.is(
    mnemonicToSeed(ALL_ABANDON_ART).toString('hex'),
    '408b285c123836004f4b8842c89324c1f01382450c0d439af345ba7fc49acf705489c6fc77dbd4e3dc1dd8cc6bc9f043db8ada1e243c4a0eafb290d399480840',
    'all-abandon-art, empty passphrase'
  )
})

test('mnemonic: passphrase changes the seed', (t) => {
  t.unlike(mnemonicToSeed(ALL_ABANDON_ART, ''), mnemonicToSeed(ALL_ABANDON_ART, 'TREZOR'))
})

test('mnemonic: wrong word counts → IDENTITY_MNEMONIC_WORD_COUNT', (t) => {
  const words = ALL_ABANDON_ART.split(' ')
  const d23 = throwsCode(
    t,
    () => normalizeMnemonic(words.slice(1).join(' ')),
    'IDENTITY_MNEMONIC_WORD_COUNT',
    '23 words'
  )
  t.is(d23?.count, 23)
  throwsCode(
    t,
    () => normalizeMnemonic([...words, 'abandon'].join(' ')),
    'IDENTITY_MNEMONIC_WORD_COUNT',
    '25 words'
  )
  throwsCode(t, () => normalizeMnemonic(''), 'IDENTITY_MNEMONIC_WORD_COUNT', 'empty')
  throwsCode(
    t,
    () => normalizeMnemonic(fixture.english[0]![1]),
    'IDENTITY_MNEMONIC_WORD_COUNT',
    'valid 12-word BIP39'
  )
  throwsCode(
    t,
    () => mnemonicToSeed(fixture.english[4]![1]),
    'IDENTITY_MNEMONIC_WORD_COUNT',
    'valid 18-word BIP39 to mnemonicToSeed'
  )
  throwsCode(
    t,
    () => bip39Seed(words.slice(1).join(' ')),
    'IDENTITY_MNEMONIC_WORD_COUNT',
    'bip39Seed: 23 words'
  )
})

test('mnemonic: unknown word → IDENTITY_MNEMONIC_UNKNOWN_WORD naming the 1-based position, not the word', (t) => {
  const words = ALL_ABANDON_ART.split(' ')
  words[6] = 'abandonn'
  const data = throwsCode(t, () => normalizeMnemonic(words.join(' ')), 'IDENTITY_MNEMONIC_UNKNOWN_WORD')
  t.alike(data, { position: 7 })
  try {
    normalizeMnemonic(words.join(' '))
  } catch (err) {
    t.absent((err as Error).message.includes('abandon'), 'the message does not quote words')
  }
  const upper = ALL_ABANDON_ART.split(' ')
  upper[0] = 'Abandon'
  t.alike(
    throwsCode(
      t,
      () => normalizeMnemonic(upper.join(' ')),
      'IDENTITY_MNEMONIC_UNKNOWN_WORD',
      'case is not folded'
    ),
    {
      position: 1
    }
  )
})

test('mnemonic: bad checksum → IDENTITY_MNEMONIC_CHECKSUM', (t) => {
  throwsCode(
    t,
    () => normalizeMnemonic(`${'abandon '.repeat(23)}abandon`),
    'IDENTITY_MNEMONIC_CHECKSUM',
    'all abandon'
  )
  throwsCode(
    t,
    () => normalizeMnemonic(`${'abandon '.repeat(23)}about`),
    'IDENTITY_MNEMONIC_CHECKSUM',
    'abandon… about'
  )
  const [, valid] = fixture.english[14]!
  const swapped = valid.split(' ')
  ;[swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!]
  throwsCode(t, () => mnemonicToSeed(swapped.join(' ')), 'IDENTITY_MNEMONIC_CHECKSUM', 'two words swapped')
})

test('mnemonic: non-NFKD text → IDENTITY_MNEMONIC_NOT_NFKD', (t) => {
  const composed = 'caf\u00e9' // NFC é; NFKD is "e" + U+0301
  t.not(composed, composed.normalize('NFKD'))
  t.alike(
    throwsCode(
      t,
      () => mnemonicToSeed(ALL_ABANDON_ART, composed),
      'IDENTITY_MNEMONIC_NOT_NFKD',
      'composed é in passphrase'
    ),
    {
      what: 'passphrase'
    }
  )
  t.is(
    mnemonicToSeed(ALL_ABANDON_ART, composed.normalize('NFKD')).length,
    64,
    'the NFKD passphrase is accepted'
  )
  throwsCode(
    t,
    () => bip39Seed(ALL_ABANDON_ART, composed),
    'IDENTITY_MNEMONIC_NOT_NFKD',
    'bip39Seed checks too'
  )
  const words = ALL_ABANDON_ART.split(' ')
  words[3] = 'ﬁeld' // U+FB01 ligature: NFKD is "fi"
  t.alike(
    throwsCode(
      t,
      () => normalizeMnemonic(words.join(' ')),
      'IDENTITY_MNEMONIC_NOT_NFKD',
      'ligature in a word'
    ),
    {
      what: 'mnemonic'
    }
  )
  throwsCode(
    t,
    () => normalizeMnemonic(ALL_ABANDON_ART.replace(' ', '\u00a0')),
    'IDENTITY_MNEMONIC_NOT_NFKD',
    'no-break space'
  )
})

test('mnemonic: entropy length is checked', (t) => {
  for (const n of [0, 15, 17, 33]) {
    throwsCode(t, () => mnemonicFromEntropy(Buffer.alloc(n)), 'CRYPTO_INVALID_INPUT', `${n} bytes`)
  }
})
