/**
 * One error base for the whole project. Every error carries a stable `code`
 * (prefixed by its area), an optional HTTP status, an optional `cause`, and
 * optional structured `data` so that callers never match on message text.
 *
 * Each area declares its codes with `defineCodes` in its own `errors.ts`;
 * `docs/errors.md` lists every code and a test keeps the two in step.
 */

export interface CodeSpec {
  /** HTTP status used when this error crosses the local API. */
  readonly status: number
  /** One line: "Thrown when …". Mirrors docs/errors.md. */
  readonly doc: string
}

export type CodeTable = Readonly<Record<string, CodeSpec>>

const registry = new Map<string, CodeSpec>()

export interface ConclaveErrorOptions {
  status?: number
  cause?: unknown
  data?: Record<string, unknown>
}

export class ConclaveError extends Error {
  readonly code: string
  readonly status: number
  readonly data: Record<string, unknown> | undefined

  constructor(code: string, message: string, opts: ConclaveErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ConclaveError'
    this.code = code
    this.status = opts.status ?? registry.get(code)?.status ?? 500
    this.data = opts.data
  }

  toJSON(): { code: string; message: string; data?: Record<string, unknown> } {
    return this.data
      ? { code: this.code, message: this.message, data: this.data }
      : { code: this.code, message: this.message }
  }
}

/** Factory functions keyed by code: `Errors.CONFIG_INVALID('why')`. */
export type ErrorFactories<T extends CodeTable> = {
  readonly [K in keyof T]: (message: string, opts?: ConclaveErrorOptions) => ConclaveError
}

/**
 * Registers an area's codes (throws on a duplicate, which would make two
 * conditions indistinguishable) and returns a factory per code.
 */
export function defineCodes<T extends CodeTable>(table: T): ErrorFactories<T> {
  const out: Record<string, (message: string, opts?: ConclaveErrorOptions) => ConclaveError> = {}
  for (const [code, spec] of Object.entries(table)) {
    if (!/^[A-Z]+_[A-Z0-9_]+$/.test(code)) throw new Error(`bad error code ${code}`)
    if (registry.has(code) && registry.get(code) !== spec) throw new Error(`duplicate error code ${code}`)
    registry.set(code, spec)
    out[code] = (message, opts) => new ConclaveError(code, message, opts)
  }
  return out as ErrorFactories<T>
}

/** Every code registered so far (after the area modules were imported). */
export function registeredCodes(): ReadonlyMap<string, CodeSpec> {
  return registry
}

export function isConclaveError(err: unknown, code?: string): err is ConclaveError {
  return err instanceof ConclaveError && (code === undefined || err.code === code)
}

/** Kernel-level codes: configuration, identifiers, crypto, identity, lifecycle, CLI. */
export const KernelErrors = defineCodes({
  CONFIG_INVALID: {
    status: 400,
    doc: 'Thrown when a configuration file, environment variable or flag fails validation.'
  },
  CONFIG_UNREADABLE: {
    status: 500,
    doc: 'Thrown when the configuration file exists but cannot be read or parsed as JSON.'
  },
  KERNEL_ID_INVALID: {
    status: 400,
    doc: 'Thrown when a printable identifier has the wrong prefix, alphabet, length or checksum.'
  },
  KERNEL_CLOSED: { status: 503, doc: 'Thrown when a resource is used after close() started.' },
  CRYPTO_INVALID_KEY: { status: 400, doc: 'Thrown when a key has the wrong length or form.' },
  CRYPTO_INVALID_INPUT: {
    status: 400,
    doc: 'Thrown when a non-key parameter of a crypto or key-derivation call (nonce, entropy, chunk size, derivation index or epoch) has the wrong length, type or range.'
  },
  CRYPTO_INVALID_SIGNATURE: {
    status: 400,
    doc: 'Thrown when a signature (classical or post-quantum half) does not verify.'
  },
  CRYPTO_DECRYPT_FAILED: {
    status: 400,
    doc: 'Thrown when authenticated decryption fails: wrong key, wrong associated data, or tampered bytes.'
  },
  CRYPTO_TRUNCATED: { status: 400, doc: 'Thrown when an encrypted stream ends before its final-chunk tag.' },
  IDENTITY_MNEMONIC_WORD_COUNT: {
    status: 400,
    doc: 'Thrown when a mnemonic does not have exactly 24 words.'
  },
  IDENTITY_MNEMONIC_UNKNOWN_WORD: {
    status: 400,
    doc: 'Thrown when a mnemonic contains a word outside the BIP39 English list.'
  },
  IDENTITY_MNEMONIC_CHECKSUM: {
    status: 400,
    doc: 'Thrown when a mnemonic has valid words but a wrong BIP39 checksum.'
  },
  IDENTITY_MNEMONIC_NOT_NFKD: {
    status: 400,
    doc: 'Thrown when a mnemonic or passphrase is not in Unicode NFKD form.'
  },
  IDENTITY_EXISTS: {
    status: 409,
    doc: 'Thrown when init or recover would overwrite an identity already in the home folder.'
  },
  IDENTITY_MISSING: {
    status: 404,
    doc: 'Thrown when a command needs an identity and the home folder has none.'
  },
  IDENTITY_SECRET_UNREADABLE: {
    status: 500,
    doc: 'Thrown when the secret file exists but cannot be read, decrypted or parsed; the file is named.'
  },
  IDENTITY_PASSPHRASE_REQUIRED: {
    status: 401,
    doc: 'Thrown when the secret file is locked and no passphrase was given.'
  },
  IDENTITY_NO_ROOT: {
    status: 403,
    doc: 'Thrown when an operation needs the root secret and this device does not keep it.'
  },
  INTERNAL_ERROR: {
    status: 500,
    doc: 'An unexpected failure (a bug): the CLI prints the stack, the API a generic message.'
  },
  CLI_USAGE: {
    status: 400,
    doc: 'Thrown when command-line arguments are missing, unknown or malformed (exit code 2).'
  },
  CLI_INPUT: { status: 400, doc: 'Thrown when input read from stdin or a prompt is missing or malformed.' }
})
