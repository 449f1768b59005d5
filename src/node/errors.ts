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
  },
  NODE_RECOVERY_NO_CLUSTER: {
    status: 404,
    doc: 'Thrown by the first run of a recovered home when no device of the account answered in time: the words or the passphrase may be wrong, or no other device is online. Nothing is created; the home stays marked recovered.'
  },
  NODE_RECOVERY_NEEDS_ROOT: {
    status: 409,
    doc: 'Thrown when a recovered home does not keep the seed (recover --no-keep-root): the new writer epoch needs a root-signed certificate.'
  },
  NODE_RECOVERY_REVOKED: {
    status: 409,
    doc: 'Thrown when the device being recovered was revoked in the cluster; recover another device index.'
  },
  NODE_RECOVERY_FAILED: {
    status: 503,
    doc: 'Thrown when recovery found the cluster but could not finish: no device appended the new certificate, or the download stalled; running again resumes.'
  }
})
