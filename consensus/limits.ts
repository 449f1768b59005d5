/**
 * Bounds that keep one tally and one evaluation cheap whatever a peer sends.
 * They are part of the protocol: every node must refuse the same inputs, so
 * changing one needs a new manifest version.
 */
export const MAX_OPTIONS = 64
export const MAX_OPTION_CHARS = 200
export const MAX_ACCOUNT_CHARS = 256
export const MAX_CONVERSATION_ID_CHARS = 256
export const MAX_REASON_CHARS = 1000
export const MAX_MEMBERS = 1_000_000
/** Parameter magnitudes stay far below 2^53 so weighted sums stay exact. */
export const MAX_PARAM_INT = 1_000_000_000
