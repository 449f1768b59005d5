import type { ConsensusMethod } from '../method.js'
import { announcement } from './announcement.js'
import { approval } from './approval.js'
import { consent } from './consent.js'
import { lazyConsensus } from './lazy-consensus.js'
import { majority } from './majority.js'
import { optIn } from './opt-in.js'
import { plurality } from './plurality.js'
import { quadratic } from './quadratic.js'
import { schulze } from './schulze.js'
import { score } from './score.js'
import { supermajority } from './supermajority.js'
import { timePoll } from './time-poll.js'
import { unanimity } from './unanimity.js'

/** The built-in methods by the name a manifest uses. */
export const BUILTIN_METHODS: ReadonlyArray<readonly [string, ConsensusMethod]> = [
  ['majority', majority],
  ['supermajority', supermajority],
  ['unanimity', unanimity],
  ['consent', consent],
  ['lazy-consensus', lazyConsensus],
  ['opt-in', optIn],
  ['plurality', plurality],
  ['approval', approval],
  ['score', score],
  ['quadratic', quadratic],
  ['schulze', schulze],
  ['time-poll', timePoll],
  ['announcement', announcement]
]
