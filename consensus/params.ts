import { ConsensusErrors } from './errors.js'

const KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
const INT = /^-?\d{1,16}$/
const DECIMAL = /^-?\d{1,16}\.\d{1,16}$/

/**
 * Turns `k=v` pairs (as given to `--param`) into a params object: integers
 * and decimals become numbers, `true`/`false` booleans, anything else stays
 * a string. The method's schema then decides what is valid. Throws
 * CONSENSUS_PARAMS_INVALID for a pair without `=`, a bad or repeated key.
 */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const out = new Map<string, unknown>()
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq < 0) throw ConsensusErrors.CONSENSUS_PARAMS_INVALID(`${JSON.stringify(pair)} is not k=v`)
    const key = pair.slice(0, eq)
    const raw = pair.slice(eq + 1)
    if (!KEY.test(key))
      throw ConsensusErrors.CONSENSUS_PARAMS_INVALID(`${JSON.stringify(key)} is not a parameter name`)
    if (out.has(key)) throw ConsensusErrors.CONSENSUS_PARAMS_INVALID(`parameter ${key} given twice`)
    let value: unknown = raw
    if (INT.test(raw) && Number.isSafeInteger(Number(raw))) value = Number(raw)
    else if (DECIMAL.test(raw)) value = Number(raw)
    else if (raw === 'true' || raw === 'false') value = raw === 'true'
    out.set(key, value)
  }
  return Object.fromEntries(out)
}
