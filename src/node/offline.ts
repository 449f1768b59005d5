/**
 * What the CLI may run without a node: the pure consensus library, reached
 * through here because bin/ imports only src/ (DESIGN §2).
 */
export { type EvalBallotsResult, evalBallotsText, listMethods, parseParams } from '../../consensus/index.js'
