import { pbkdf2Sync } from 'node:crypto'
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { randomBytes } from '../crypto/hash.js'
import { KernelErrors } from '../errors.js'

/** Conclave mnemonics are always 24 words (256-bit entropy). */
export const MNEMONIC_WORDS = 24
export const MNEMONIC_ENTROPY_BYTES = 32
export const BIP39_SEED_BYTES = 64

const BIP39_WORD_COUNTS: readonly number[] = [12, 15, 18, 21, 24]
const BIP39_ENTROPY_BYTES: readonly number[] = [16, 20, 24, 28, 32]
const WORD_INDEX = new Map(wordlist.map((w, i) => [w, i]))

/** BIP39 encoding of raw entropy (16, 20, 24, 28 or 32 bytes) with the English list. */
export function mnemonicFromEntropy(entropy: Uint8Array): string {
  if (!(entropy instanceof Uint8Array) || !BIP39_ENTROPY_BYTES.includes(entropy.byteLength)) {
    throw KernelErrors.CRYPTO_INVALID_INPUT('BIP39 entropy must be 16, 20, 24, 28 or 32 bytes')
  }
  return entropyToMnemonic(entropy, wordlist)
}

/** A new 24-word English mnemonic from 256 bits of libsodium randomness. */
export function generateMnemonic(): string {
  const entropy = randomBytes(MNEMONIC_ENTROPY_BYTES)
  try {
    return mnemonicFromEntropy(entropy)
  } finally {
    entropy.fill(0)
  }
}

function assertNfkd(text: string, what: 'mnemonic' | 'passphrase'): void {
  if (typeof text !== 'string' || text !== text.normalize('NFKD')) {
    throw KernelErrors.IDENTITY_MNEMONIC_NOT_NFKD(`the ${what} is not in Unicode NFKD form`, {
      data: { what }
    })
  }
}

/**
 * Checks a mnemonic and returns its canonical form (words joined by one
 * space). Errors never quote the words: they are the secret.
 */
function canonical(input: string, counts: readonly number[]): string {
  // BIP39 hashes the NFKD form; silently normalizing would let two different
  // inputs map to one seed without the user knowing which was meant.
  assertNfkd(input, 'mnemonic')
  const words = input
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0)
  if (!counts.includes(words.length)) {
    throw KernelErrors.IDENTITY_MNEMONIC_WORD_COUNT(
      `a mnemonic must have ${counts.join(', ')} words, got ${words.length}`,
      { data: { count: words.length } }
    )
  }
  for (let i = 0; i < words.length; i++) {
    if (!WORD_INDEX.has(words[i]!)) {
      throw KernelErrors.IDENTITY_MNEMONIC_UNKNOWN_WORD(`word ${i + 1} is not in the BIP39 English list`, {
        data: { position: i + 1 }
      })
    }
  }
  const sentence = words.join(' ')
  try {
    mnemonicToEntropy(sentence, wordlist)
  } catch (err) {
    // every word is known and the count is right, so only the checksum can be wrong
    throw KernelErrors.IDENTITY_MNEMONIC_CHECKSUM(
      'the mnemonic checksum does not match (a word is wrong or swapped)',
      {
        cause: err
      }
    )
  }
  return sentence
}

/**
 * Validates a Conclave mnemonic and returns it with surrounding whitespace
 * trimmed and inner whitespace collapsed to single spaces. It does not change
 * case or Unicode form: non-NFKD text is refused, and an upper-case word is
 * an unknown word. Positions in errors are 1-based.
 */
export function normalizeMnemonic(input: string): string {
  return canonical(input, [MNEMONIC_WORDS])
}

/**
 * The BIP39 seed of any valid English mnemonic (12..24 words): PBKDF2-HMAC-
 * SHA512, 2048 rounds, salt "mnemonic" ‖ passphrase. Used for the official
 * vectors; Conclave code calls mnemonicToSeed, which insists on 24 words.
 */
export function bip39Seed(mnemonic: string, passphrase = ''): Buffer {
  const sentence = canonical(mnemonic, BIP39_WORD_COUNTS)
  assertNfkd(passphrase, 'passphrase')
  return pbkdf2Sync(
    Buffer.from(sentence, 'utf8'),
    Buffer.from(`mnemonic${passphrase}`, 'utf8'),
    2048,
    BIP39_SEED_BYTES,
    'sha512'
  )
}

/** The 64-byte seed of a 24-word mnemonic and optional passphrase (both must be NFKD). */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Buffer {
  return bip39Seed(normalizeMnemonic(mnemonic), passphrase)
}
