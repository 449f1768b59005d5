/**
 * How entries are turned into the bytes a writer appends. Autobase itself is
 * always given `binary`: if autobase decoded values (e.g. `valueEncoding:
 * 'json'`), one malformed block from a hostile writer would throw inside the
 * linearizer and freeze that writer; decoding in our apply instead turns it
 * into a recorded skip.
 */
export interface EntryCodec<T> {
  encode(value: T): Buffer
  /** May throw; a throw skips the entry with SUBSTRATE_UNDECODABLE. */
  decode(bytes: Buffer): T
}

export const jsonCodec: EntryCodec<unknown> = {
  encode(value) {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError('value is not JSON-serialisable')
    return Buffer.from(text, 'utf8')
  },
  decode(bytes) {
    return JSON.parse(bytes.toString('utf8')) as unknown
  }
}
