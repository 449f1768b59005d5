import { defineCodes } from '../kernel/errors.js'

export const NodeErrors = defineCodes({
  NODE_LOCKED: {
    status: 409,
    doc: 'Thrown when another running node holds this home folder (its LOCK file names a live process).'
  },
  NODE_NOT_RUNNING: {
    status: 503,
    doc: 'Thrown when a command needs the running node and none answers for this home.'
  },
  NODE_API_ERROR: {
    status: 502,
    doc: 'Thrown when the local API answers with something that is not a Conclave response.'
  },
  NODE_FILE_INVALID: {
    status: 500,
    doc: 'Thrown at start when a file the node keeps in its home (conversations.json) cannot be read or is malformed; the file is left as it is.'
  },
  NODE_STORE_FAILED: {
    status: 500,
    doc: 'Thrown when the on-disk store cannot be opened; the path and cause are included.'
  }
})
