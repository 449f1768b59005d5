import { defineCodes } from '../src/kernel/errors.js'

export const ConsensusErrors = defineCodes({
  CONSENSUS_CONFIG_INVALID: {
    status: 400,
    doc: 'Thrown when a consensus configuration (conversation id, members, options, deadline, method or expr) fails validation.'
  },
  CONSENSUS_METHOD_UNKNOWN: {
    status: 400,
    doc: 'Thrown when a conversation is created naming a consensus method this node has not registered.'
  },
  CONSENSUS_PARAMS_INVALID: {
    status: 400,
    doc: "Thrown when a consensus method's parameters fail its schema or one of its requirements (e.g. lazy-consensus without a deadline)."
  },
  CONSENSUS_PREDICATE_INVALID: {
    status: 400,
    doc: 'Thrown when a CEL predicate is refused before evaluation: too long, too large or deep, a forbidden function or variable, or not boolean; data.reason names the rule.'
  },
  CONSENSUS_METHOD_EXISTS: {
    status: 409,
    doc: 'Thrown when registerMethod is given a name that is already registered, reserved or malformed.'
  },
  CONSENSUS_BALLOTS_INVALID: {
    status: 400,
    doc: 'Thrown when a line of a ballots file is not JSON or not a ballot shape; data.line names the line.'
  }
})
