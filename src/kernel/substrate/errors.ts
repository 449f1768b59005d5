import { defineCodes } from '../errors.js'

/**
 * Codes of the autobase substrate. The `SUBSTRATE_*_SKIPPED`-style codes are
 * not thrown to callers: they are what a skip record in a view carries when an
 * entry could not be applied, identically on every node.
 */
export const SubstrateErrors = defineCodes({
  SUBSTRATE_NOT_WRITABLE: {
    status: 409,
    doc: 'Thrown when appending to a base whose local writer has not been added, or has been removed.'
  },
  SUBSTRATE_KEY_MISMATCH: {
    status: 409,
    doc: 'Thrown when a base on disk was created with a different encryption key (or wrap key) than the one supplied.'
  },
  SUBSTRATE_NAMESPACE_IN_USE: {
    status: 409,
    doc: 'Thrown when a second base is opened on a corestore namespace that already holds an open base.'
  },
  SUBSTRATE_WRITER_MISMATCH: {
    status: 409,
    doc: 'Thrown when a store that already holds a base is reopened with another local writer key pair; rotate in place with rotateWriter instead.'
  },
  SUBSTRATE_FAILED: {
    status: 500,
    doc: 'Thrown when the underlying autobase closed itself after an internal (storage or protocol) error.'
  },
  SUBSTRATE_ENTRY_UNAVAILABLE: {
    status: 503,
    doc: 'Thrown when an entry of the log is read back by its name (writer, length) and its block is neither stored on this node nor served by a peer in time.'
  },
  SUBSTRATE_UNDECODABLE: {
    status: 400,
    doc: 'Recorded (not thrown) when an entry on the log cannot be decoded by the base codec; the entry is skipped. Thrown when such a block is read back by its name.'
  },
  SUBSTRATE_APPLY_FAILED: {
    status: 400,
    doc: 'Recorded (not thrown) when an apply handler threw something without a Conclave code; the entry is skipped.'
  },
  SUBSTRATE_MEMBERSHIP_REFUSED: {
    status: 400,
    doc: 'Recorded (not thrown) when an entry asked to add an invalid writer key or to remove the last indexer; the entry is skipped.'
  }
})
