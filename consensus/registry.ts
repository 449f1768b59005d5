import { ConsensusErrors } from './errors.js'
import type { ConsensusMethod } from './method.js'
import { BUILTIN_METHODS } from './methods/builtins.js'

const NAME = /^[a-z][a-z0-9-]{0,63}$/
/** `cel` names the predicate language in a manifest; it can never be a method. */
const RESERVED = new Set(['cel'])

const methods = new Map<string, ConsensusMethod>(BUILTIN_METHODS)

/**
 * Adds a named method (a TypeScript plugin). Names are lower-case kebab
 * words; a name cannot be registered twice, so a plugin cannot silently
 * change what a built-in means on one node.
 */
export function registerMethod(name: string, impl: ConsensusMethod): void {
  if (!NAME.test(name) || RESERVED.has(name)) {
    throw ConsensusErrors.CONSENSUS_METHOD_EXISTS(`${JSON.stringify(name)} is not a valid method name`)
  }
  if (methods.has(name)) throw ConsensusErrors.CONSENSUS_METHOD_EXISTS(`method ${name} is already registered`)
  methods.set(name, impl)
}

export function getMethod(name: string): ConsensusMethod | undefined {
  return methods.get(name)
}

export function listMethods(): string[] {
  return [...methods.keys()].sort()
}
