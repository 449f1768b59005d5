import { setFlagsFromString } from 'node:v8'

/**
 * A node's start loads ≈ 500 modules and opens its stores; almost everything
 * it allocates then survives, so V8 keeps doubling the young generation (up to
 * 16 MB per semi-space) and the process idles at ≈ 130 MB instead of ≈ 105 MB
 * (docs/performance.md, P7). `conclave run` holds the young generation at its
 * first size while it starts and lets it grow again once the node is ready.
 * V8 reads the growth factor each time it would grow the space, so setting it
 * at run time takes effect.
 */
const HOLD = '--semi-space-growth-factor=1'
/** V8's default (node --v8-options). */
const RELEASE = '--semi-space-growth-factor=2'

export function holdYoungGeneration(): void {
  setFlagsFromString(HOLD)
}

export function releaseYoungGeneration(): void {
  setFlagsFromString(RELEASE)
}
