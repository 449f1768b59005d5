/**
 * Length-prefixed JSON frames over a byte stream: u32be(length) ‖ utf-8 JSON.
 * The cap bounds what a peer can make us buffer before we parse anything.
 */

export const MAX_FRAME_BYTES = 256 * 1024
const HEADER_BYTES = 4

/** A stream that does not follow the framing; the connection should be dropped. */
export class FrameError extends Error {
  override name = 'FrameError'
}

export function encodeFrame(message: unknown, maxBytes = MAX_FRAME_BYTES): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8')
  if (body.byteLength > maxBytes)
    throw new FrameError(`frame of ${body.byteLength} bytes exceeds ${maxBytes}`)
  const head = Buffer.alloc(HEADER_BYTES)
  head.writeUInt32BE(body.byteLength)
  return Buffer.concat([head, body])
}

/** Reassembles frames from arbitrary chunks. */
export class FrameReader {
  readonly #maxBytes: number
  #pending: Buffer = Buffer.alloc(0)

  constructor(maxBytes = MAX_FRAME_BYTES) {
    this.#maxBytes = maxBytes
  }

  /** Feeds a chunk; returns the messages it completed. Throws FrameError on a broken stream. */
  push(chunk: Uint8Array): unknown[] {
    this.#pending =
      this.#pending.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk])
    const out: unknown[] = []
    while (this.#pending.byteLength >= HEADER_BYTES) {
      const length = this.#pending.readUInt32BE(0)
      if (length > this.#maxBytes) throw new FrameError(`frame of ${length} bytes exceeds ${this.#maxBytes}`)
      if (this.#pending.byteLength < HEADER_BYTES + length) break
      const body = this.#pending.subarray(HEADER_BYTES, HEADER_BYTES + length)
      this.#pending = this.#pending.subarray(HEADER_BYTES + length)
      try {
        out.push(JSON.parse(body.toString('utf8')) as unknown)
      } catch (cause) {
        throw new FrameError('frame is not JSON', { cause })
      }
    }
    return out
  }
}

/** The slice of a Noise stream a FrameChannel needs. */
export interface FrameSocket {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  on(event: 'close', listener: () => void): unknown
  write(data: Uint8Array): unknown
}

/** Frames in and out of one socket, read one at a time with `next()`. */
export class FrameChannel {
  readonly #socket: FrameSocket
  readonly #reader: FrameReader
  readonly #maxBytes: number
  readonly #queue: unknown[] = []
  #failure: Error | null = null
  #waiter: { resolve(v: unknown): void; reject(err: Error): void } | null = null

  constructor(socket: FrameSocket, maxBytes = MAX_FRAME_BYTES) {
    this.#socket = socket
    this.#maxBytes = maxBytes
    this.#reader = new FrameReader(maxBytes)
    socket.on('data', (chunk) => {
      if (this.#failure) return
      try {
        for (const m of this.#reader.push(chunk)) this.#deliver(m)
      } catch (err) {
        this.#fail(err as Error)
      }
    })
    socket.on('error', (err) => this.#fail(err))
    socket.on('close', () => this.#fail(new FrameError('connection closed')))
  }

  send(message: unknown): void {
    this.#socket.write(encodeFrame(message, this.#maxBytes))
  }

  /** The next frame; rejects once the stream breaks or closes (the socket's own error when it has one). */
  next(): Promise<unknown> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift())
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  #deliver(message: unknown): void {
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = null
      waiter.resolve(message)
    } else this.#queue.push(message)
  }

  #fail(err: Error): void {
    if (this.#failure) return
    this.#failure = err
    const waiter = this.#waiter
    this.#waiter = null
    waiter?.reject(err)
  }
}
