import { timingSafeEqual } from 'node:crypto'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import type HyperDHT from 'hyperdht'
import { z } from 'zod'
import { aeadDecrypt, aeadEncrypt } from '../src/kernel/crypto/aead.js'
import { ed25519KeyPairFromSeed } from '../src/kernel/crypto/ed25519.js'
import { randomBytes } from '../src/kernel/crypto/hash.js'
import { hex, hexSchema, unhex } from '../src/kernel/encoding.js'
import { type ConclaveError, isConclaveError } from '../src/kernel/errors.js'
import { Resource } from '../src/kernel/lifecycle.js'
import { ClusterErrors } from './errors.js'
import { FrameChannel, FrameError, MAX_FRAME_BYTES } from './frames.js'
import { decodeInvite, type Invite, type InviteKeys, inviteKeys, isExpired } from './invite.js'

/**
 * One-time pairing over HyperDHT (not the swarm): the inviting node listens
 * on the invite's server key; the joiner dials it, proves it holds the invite
 * with the token, and receives the device package sealed under the invite's
 * package key. Frames and refusals: docs/cluster.md ("Pairing").
 */

/** How long a joiner waits for the whole exchange by default. */
export const PAIRING_TIMEOUT_MS = 20_000
/** How long a used invite keeps answering "already used" before its server closes. */
export const PAIRING_LINGER_MS = 30_000
/** A connection that has not finished its exchange by then is dropped. */
const CONNECTION_IDLE_MS = 30_000
/** Wrong tokens tolerated before the invite is burnt: the token is 256 bits, so these are not guesses. */
const MAX_BAD_TOKENS = 5
/** Pause before dialing again after a dial that never reached the server; doubles up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 250
const RETRY_MAX_MS = 2000
/**
 * How long an open stream may stay silent before the joiner redials (the
 * greeting is one round trip away); grows by half per redial up to
 * GREETING_MAX_MS for slow links.
 */
const GREETING_FIRST_MS = 1500
const GREETING_MAX_MS = 5000
/** setTimeout's ceiling; longer delays would fire at once. */
const MAX_TIMER_MS = 0x7fffffff
const PACKAGE_AD_LABEL = 'conclave/v1/pair/package'

const NameSchema = z.string().min(1).max(64)
const ReadySchema = z.object({ type: z.literal('pair/ready'), v: z.literal(1) }).strict()
const HelloSchema = z
  .object({
    type: z.literal('pair/hello'),
    v: z.literal(1),
    token: hexSchema(32),
    name: NameSchema.optional()
  })
  .strict()
const WelcomeSchema = z
  .object({ type: z.literal('pair/welcome'), v: z.literal(1), package: hexSchema() })
  .strict()
const RefusalCode = z.enum(['CLUSTER_INVITE_EXPIRED', 'CLUSTER_INVITE_INVALID', 'CLUSTER_PAIRING_FAILED'])
type RefusalCode = z.infer<typeof RefusalCode>
const RefusedSchema = z
  .object({ type: z.literal('pair/refused'), v: z.literal(1), code: RefusalCode })
  .strict()
const DoneSchema = z.object({ type: z.literal('pair/done'), v: z.literal(1) }).strict()

/** The sealed package is bound to the server key it came from. */
function packageAd(serverPublicKey: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(PACKAGE_AD_LABEL, 'utf8'), serverPublicKey])
}

/** Largest package whose sealed hex still fits one frame. */
const MAX_PACKAGE_BYTES = Math.floor((MAX_FRAME_BYTES - 1024) / 2) - 40

export interface PairingServerOptions {
  dht: HyperDHT
  invite: Invite
  /**
   * Builds the new device's package (identity, secrets, and whatever it needs
   * to find the cluster) and appends its certificate. Called at most once.
   */
  issue(req: { name?: string }): Promise<Uint8Array>
  now?: () => number
  /** After its one use the server keeps refusing late joiners this long (capped at the expiry), then closes. */
  lingerMs?: number
}

export interface PairedEvent {
  name?: string
  /** Whether the joiner confirmed it decrypted the package ('pair/done'). */
  acknowledged: boolean
}

export interface RefusedEvent {
  code: RefusalCode
  reason: string
}

/**
 * Serves one invite until it is used, expires, or is closed. Events:
 * 'paired' (PairedEvent), 'refused' (RefusedEvent), 'close'.
 */
export class PairingServer extends Resource {
  readonly publicKey: Buffer
  readonly #opts: PairingServerOptions
  readonly #keys: InviteKeys
  readonly #now: () => number
  readonly #sockets = new Set<NoiseSecretStream>()
  #server: HyperDHT.Server | null = null
  #used = false
  #badTokens = 0
  #expiryTimer: NodeJS.Timeout | null = null
  #lingerTimer: NodeJS.Timeout | null = null

  constructor(opts: PairingServerOptions) {
    super()
    this.#opts = opts
    this.#keys = inviteKeys(opts.invite)
    this.#now = opts.now ?? Date.now
    this.publicKey = this.#keys.server.publicKey
  }

  /** True once a joiner presented the right token: the invite cannot be used again. */
  get used(): boolean {
    return this.#used
  }

  protected override async _open(): Promise<void> {
    if (isExpired(this.#opts.invite, this.#now())) {
      throw ClusterErrors.CLUSTER_INVITE_EXPIRED('the invite expired before its server started')
    }
    const server = this.#opts.dht.createServer({}, (socket) => this.#onConnection(socket))
    this.#server = server
    await server.listen(this.#keys.server)
    this.#armExpiry()
  }

  protected override async _close(): Promise<void> {
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer)
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer)
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    await this.#server?.close()
  }

  #armExpiry(): void {
    const left = this.#opts.invite.expires * 1000 - this.#now()
    this.#expiryTimer = setTimeout(
      () => {
        if (isExpired(this.#opts.invite, this.#now())) void this.close()
        else this.#armExpiry()
      },
      Math.min(Math.max(left, 0), MAX_TIMER_MS)
    )
    this.#expiryTimer.unref()
  }

  /** After the one use: keep refusing for a while so a second joiner hears why, then close. */
  #spent(): void {
    if (this.#lingerTimer || this.closing) return
    const untilExpiry = this.#opts.invite.expires * 1000 - this.#now()
    const linger = Math.max(0, Math.min(this.#opts.lingerMs ?? PAIRING_LINGER_MS, untilExpiry, MAX_TIMER_MS))
    this.#lingerTimer = setTimeout(() => void this.close(), linger)
    this.#lingerTimer.unref()
  }

  #onConnection(socket: NoiseSecretStream): void {
    if (this.closing) {
      socket.destroy()
      return
    }
    this.#sockets.add(socket)
    socket.on('error', () => {})
    const idle = setTimeout(() => socket.destroy(), CONNECTION_IDLE_MS)
    socket.on('close', () => {
      clearTimeout(idle)
      this.#sockets.delete(socket)
    })
    const channel = new FrameChannel(socket)
    // the joiner waits for this before it sends its token (and redials if it never comes)
    channel.send({ type: 'pair/ready', v: 1 })
    this.#serve(socket, channel).catch(() => socket.destroy())
  }

  async #serve(socket: NoiseSecretStream, channel: FrameChannel): Promise<void> {
    const refuse = (code: RefusalCode, reason: string): void => {
      channel.send({ type: 'pair/refused', v: 1, code })
      socket.end()
      this.emit('refused', { code, reason } satisfies RefusedEvent)
    }
    const hello = HelloSchema.safeParse(await channel.next())
    if (!hello.success) return refuse('CLUSTER_PAIRING_FAILED', 'malformed hello')
    if (!timingSafeEqual(unhex(hello.data.token), this.#keys.token)) {
      refuse('CLUSTER_INVITE_INVALID', 'wrong invite token')
      if (++this.#badTokens >= MAX_BAD_TOKENS) void this.close()
      return
    }
    if (isExpired(this.#opts.invite, this.#now()))
      return refuse('CLUSTER_INVITE_EXPIRED', 'the invite expired')
    if (this.#used) return refuse('CLUSTER_INVITE_EXPIRED', 'the invite was already used')
    this.#used = true
    try {
      const name = hello.data.name
      let bytes: Uint8Array
      try {
        bytes = await this.#opts.issue(name === undefined ? {} : { name })
      } catch (err) {
        return refuse('CLUSTER_PAIRING_FAILED', `issuing the package failed: ${(err as Error)?.message}`)
      }
      if (bytes.byteLength > MAX_PACKAGE_BYTES) {
        return refuse('CLUSTER_PAIRING_FAILED', `the package exceeds ${MAX_PACKAGE_BYTES} bytes`)
      }
      const sealed = aeadEncrypt(this.#keys.packageKey, bytes, packageAd(this.publicKey))
      channel.send({ type: 'pair/welcome', v: 1, package: hex(sealed) })
      let acknowledged = false
      try {
        acknowledged = DoneSchema.safeParse(await channel.next()).success
      } catch {
        // the joiner went away after the package: it may or may not have it
      }
      socket.end()
      this.emit('paired', { ...(name === undefined ? {} : { name }), acknowledged } satisfies PairedEvent)
    } finally {
      this.#spent()
    }
  }
}

export interface JoinOptions {
  name?: string
  /** Bound on the whole exchange, finding the server included (default PAIRING_TIMEOUT_MS). */
  timeoutMs?: number
  now?: () => number
}

/**
 * Pairs with the device that printed `inviteText` and returns the decrypted
 * package. CLUSTER_INVITE_INVALID (malformed text, or a wrong token),
 * CLUSTER_INVITE_EXPIRED (expired or already used), CLUSTER_PAIRING_FAILED
 * (nobody listens on the invite — forged, closed or offline —, a timeout, a
 * broken exchange, or a package that does not decrypt).
 */
export async function joinWithInvite(
  dht: HyperDHT,
  inviteText: string,
  opts: JoinOptions = {}
): Promise<Buffer> {
  const invite = decodeInvite(inviteText)
  if (isExpired(invite, (opts.now ?? Date.now)()))
    throw ClusterErrors.CLUSTER_INVITE_EXPIRED('the invite has expired')
  if (opts.name !== undefined && !NameSchema.safeParse(opts.name).success) {
    throw ClusterErrors.CLUSTER_PAIRING_FAILED('a device name has 1 to 64 characters')
  }
  const keys = inviteKeys(invite)
  const timeoutMs = opts.timeoutMs ?? PAIRING_TIMEOUT_MS
  // a wall-clock budget for the network, whatever clock judges the expiry
  const deadline = Date.now() + timeoutMs
  let backoff = RETRY_FIRST_MS
  let greetMs = GREETING_FIRST_MS
  // the most telling reason a dial failed (PEER_NOT_FOUND says more than a silent stream)
  let reason: unknown = null
  for (;;) {
    try {
      return await pairOnce(dht, keys, opts.name, deadline - Date.now(), greetMs)
    } catch (err) {
      if (!(err instanceof Unreached)) throw err
      if (err.cause !== undefined && !isConclaveError(err.cause)) reason = err.cause
      // Dials through the DHT fail now and then: the lookup races the announce, or the
      // stream opens but carries nothing (seen between processes on one host, where the
      // first punch to a young, firewalled node often fails and a redial works). The
      // server greets first and we send the token only after its greeting, so a redial
      // cannot have spent the invite.
      const wait = Math.min(backoff, deadline - Date.now())
      if (wait <= 0) throw transportFailure(reason ?? err.cause)
      await new Promise((resolve) => setTimeout(resolve, wait))
      backoff = Math.min(backoff * 2, RETRY_MAX_MS)
      greetMs = Math.min(Math.round(greetMs * 1.5), GREETING_MAX_MS)
    }
  }
}

/** A dial that ended before the server's greeting: the server has not seen our token. */
class Unreached extends Error {}

async function pairOnce(
  dht: HyperDHT,
  keys: InviteKeys,
  name: string | undefined,
  budgetMs: number,
  greetMs: number
): Promise<Buffer> {
  if (budgetMs <= 0) throw new Unreached('out of time', { cause: noAnswer() })
  const socket = dht.connect(keys.server.publicKey, { keyPair: ed25519KeyPairFromSeed(randomBytes(32)) })
  const channel = new FrameChannel(socket)
  const timers: NodeJS.Timeout[] = []
  let greeted = false
  const timeout = new Promise<never>((_, reject) => {
    timers.push(
      setTimeout(
        () => reject(greeted ? noAnswer() : new Unreached('no greeting', { cause: noAnswer() })),
        budgetMs
      )
    )
    // once the stream is open the greeting is one round trip away; waiting longer is waiting for nothing
    socket.once('connect', () => {
      timers.push(
        setTimeout(() => {
          if (!greeted) reject(new Unreached('no greeting', { cause: noAnswer() }))
        }, greetMs)
      )
    })
  })
  const exchange = async (): Promise<Buffer> => {
    const first = await channel.next()
    if (!ReadySchema.safeParse(first).success) {
      throw ClusterErrors.CLUSTER_PAIRING_FAILED('unexpected greeting from the inviting device')
    }
    greeted = true
    channel.send({ type: 'pair/hello', v: 1, token: hex(keys.token), ...(name ? { name } : {}) })
    const reply = await channel.next()
    const refused = RefusedSchema.safeParse(reply)
    if (refused.success) throw refusal(refused.data.code)
    const welcome = WelcomeSchema.safeParse(reply)
    if (!welcome.success)
      throw ClusterErrors.CLUSTER_PAIRING_FAILED('unexpected reply from the inviting device')
    let pkg: Buffer
    try {
      pkg = aeadDecrypt(keys.packageKey, unhex(welcome.data.package), packageAd(keys.server.publicKey))
    } catch (err) {
      throw ClusterErrors.CLUSTER_PAIRING_FAILED('the device package does not decrypt with this invite', {
        cause: err
      })
    }
    channel.send({ type: 'pair/done', v: 1 })
    socket.end()
    return pkg
  }
  try {
    return await Promise.race([exchange(), timeout])
  } catch (err) {
    socket.destroy()
    if (err instanceof Unreached) throw err
    if (isConclaveError(err) && err.code.startsWith('CLUSTER_')) throw err
    if (!greeted) throw new Unreached('not reached', { cause: err })
    throw transportFailure(err)
  } finally {
    for (const t of timers) clearTimeout(t)
  }
}

function noAnswer(): ConclaveError {
  return ClusterErrors.CLUSTER_PAIRING_FAILED('no answer from the inviting device in time')
}

function refusal(code: RefusalCode): ConclaveError {
  const messages: Record<RefusalCode, string> = {
    CLUSTER_INVITE_EXPIRED: 'the inviting device refused: the invite expired or was already used',
    CLUSTER_INVITE_INVALID: 'the inviting device refused: wrong invite token',
    CLUSTER_PAIRING_FAILED: 'the inviting device could not complete the pairing'
  }
  return ClusterErrors[code](messages[code])
}

function transportFailure(err: unknown): ConclaveError {
  if (isConclaveError(err) && err.code.startsWith('CLUSTER_')) return err
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'PEER_NOT_FOUND') {
    return ClusterErrors.CLUSTER_PAIRING_FAILED(
      'no device is listening for this invite (already used, expired, closed, offline or forged)',
      { cause: err }
    )
  }
  const what = err instanceof FrameError ? 'the exchange broke off' : 'could not reach the inviting device'
  return ClusterErrors.CLUSTER_PAIRING_FAILED(`${what}${typeof code === 'string' ? ` (${code})` : ''}`, {
    cause: err
  })
}
