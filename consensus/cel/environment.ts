import { Environment } from '@marcbachmann/cel-js'
import { CEL_LIMITS, CEL_VARIABLES } from './language.js'

let shared: Environment | undefined

/**
 * One environment for every predicate: only the documented variables are
 * declared (so the type checker refuses any other identifier), optional
 * types are off, and the engine's own parse limits mirror ours. Built once;
 * building is the expensive part.
 */
export function celEnvironment(): Environment {
  if (shared) return shared
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: true,
    enableOptionalTypes: false,
    limits: {
      maxAstNodes: CEL_LIMITS.maxNodes,
      maxDepth: CEL_LIMITS.maxDepth,
      maxListElements: CEL_LIMITS.maxListElements,
      maxMapEntries: CEL_LIMITS.maxMapEntries,
      maxCallArguments: CEL_LIMITS.maxCallArguments
    }
  })
  for (const v of CEL_VARIABLES) env.registerVariable(v.name, v.type)
  shared = env
  return env
}
