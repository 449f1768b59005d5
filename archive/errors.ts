import { defineCodes } from '../src/kernel/errors.js'

export const ArchiveErrors = defineCodes({
  ARCHIVE_INTEGRITY: {
    status: 422,
    doc: 'Thrown when a sealed archive or index entry fails authentication: a changed byte, a truncation, a reordered, dropped or repeated chunk, bytes after the end, a wrong archive id, or a layer or envelope moved from elsewhere or swapped.'
  },
  ARCHIVE_NOT_RECIPIENT: {
    status: 403,
    doc: "Thrown when the key given to peel a layer is not that layer's holder (told from the public holder key hashes, before any decryption)."
  },
  ARCHIVE_FORMAT: {
    status: 400,
    doc: 'Thrown when archive or index-entry bytes are not in the format: wrong magic, unknown version, or a length field the version does not allow.'
  },
  ARCHIVE_TOO_LARGE: {
    status: 413,
    doc: 'Thrown when a title, device or conversation id, or chunk size given to seal is over the format limit.'
  },
  ARCHIVE_INVALID_INPUT: {
    status: 400,
    doc: 'Thrown when a caller passes a malformed parameter to seal or open: a key or archive id of the wrong length, the same key for both holders, an empty title, a bad time, or a call out of order.'
  },
  ARCHIVE_TRANSCRIPT_INVALID: {
    status: 422,
    doc: 'Thrown when an opened archive does not hold a well-formed transcript, its signature does not verify, a message signature does not verify, or its signer is not a device of the account.'
  }
})
