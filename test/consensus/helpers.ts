import {
  applyMessage,
  type ConsensusConfig,
  type ConsensusResult,
  createTally,
  evaluate,
  type Rejection,
  type Tally
} from '../../consensus/index.js'

export { codeOf } from '../helpers/codes.js'

/** The predicate-refusal reason of what fn throws, or null. */
export function refusalOf(fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (err) {
    const data = (err as { data?: { reason?: unknown } }).data
    return typeof data?.reason === 'string' ? data.reason : 'no-reason'
  }
}

export const members = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i + 1}`)

export interface Run {
  tally: Tally
  rejections: Array<Rejection | null>
  result: ConsensusResult
}

/** Feeds messages (plain objects) and evaluates once at the end. */
export function run(config: ConsensusConfig, messages: readonly unknown[]): Run {
  const tally = createTally(config)
  const rejections = messages.map((m) => applyMessage(tally, m))
  return { tally, rejections, result: evaluate(config, tally) }
}

let clock = 0
/** Message builders; `t` defaults to a small increasing value (log time stays far from deadlines). */
export const msg = {
  choice: (account: string, choice: string, t = ++clock % 50): object => ({
    type: 'ballot',
    account,
    t,
    choice
  }),
  choices: (account: string, choices: string[], t = 1): object => ({ type: 'ballot', account, t, choices }),
  ranking: (account: string, ranking: string[], t = 1): object => ({ type: 'ballot', account, t, ranking }),
  scores: (account: string, scores: Record<string, number>, t = 1): object => ({
    type: 'ballot',
    account,
    t,
    scores
  }),
  object: (account: string, reason = 'no', t = 1): object => ({ type: 'objection', account, t, reason }),
  withdraw: (account: string, t = 1): object => ({ type: 'withdraw-objection', account, t }),
  ack: (account: string, t = 1): object => ({ type: 'ack', account, t }),
  retract: (account: string, t = 1): object => ({ type: 'retract', account, t }),
  delegate: (account: string, to: string | null, t = 1): object => ({ type: 'delegate', account, t, to }),
  heartbeat: (account: string, t: number): object => ({ type: 'heartbeat', account, t }),
  publish: (account: string, t = 1): object => ({ type: 'publish', account, t })
}

/** Heartbeats from every given member at time t (moves log time to t when they are a majority). */
export function tick(accounts: readonly string[], t: number): object[] {
  return accounts.map((a) => msg.heartbeat(a, t))
}

export function winners(r: ConsensusResult): string[] {
  return r.outcome ? r.outcome.winners : []
}
