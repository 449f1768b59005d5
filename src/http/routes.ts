import { z } from 'zod'
import { MAX_COPIES_TIMEOUT_MS } from '../kernel/config.js'
import { SESSION_COOKIE, sameToken } from './auth.js'
import { HttpErrors } from './errors.js'
import { pageRoutes } from './page-routes.js'
import { route, type RouteSpec } from './route.js'

const LoginQuery = z.object({ token: z.string().min(1).max(256) }).strict()

const InviteBody = z
  .object({
    ttlMs: z
      .number()
      .int()
      .min(10_000)
      .max(7 * 24 * 3600_000)
      .optional()
      .describe('how long the invite stays valid, ms'),
    roles: z
      .array(z.enum(['access', 'relay']))
      .min(1)
      .max(2)
      .optional()
      .describe("the new device's roles (default both)"),
    indexer: z.boolean().optional().describe('whether the new device indexes the cluster log'),
    name: z.string().min(1).max(64).optional().describe("the new device's name")
  })
  .strict()

const FriendBody = z
  .object({
    card: z
      .string()
      .min(1)
      .max(512 * 1024)
      .describe('the contact card text (`ccard1_…`)')
  })
  .strict()

const StartBody = z
  .object({
    pattern: z.string().min(1).max(64),
    topic: z.string().min(1).max(500),
    method: z.string().min(1).max(64).optional().describe('the consensus method (default majority)'),
    params: z.record(z.string(), z.unknown()).optional().describe("the method's parameters"),
    expr: z.string().min(1).max(2048).optional().describe('a consensus expression instead of a method'),
    with: z.array(z.string().max(64)).max(64).optional().describe('account ids of friends taking part'),
    options: z.array(z.string().min(1).max(200)).max(64).optional(),
    deadline: z.number().int().min(0).optional().describe('log time, ms')
  })
  .strict()

const IdParams = z.object({ id: z.string().min(1).max(80) }).strict()
const Page = z
  .object({
    offset: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(0).max(500).optional()
  })
  .strict()

const PostBody = z
  .object({
    kind: z.string().min(1).max(64),
    body: z.record(z.string(), z.unknown()).optional().describe('the message body, as its kind wants it'),
    copies: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe("nodes that must hold the message before the answer (default: the node's `copies`)"),
    copiesTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_COPIES_TIMEOUT_MS)
      .optional()
      .describe("how long to wait for them, ms (default: the node's)")
  })
  .strict()

const ArchiveParams = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }).strict()
const OpenBody = z
  .object({
    waitMs: z
      .number()
      .int()
      .min(0)
      .max(120_000)
      .optional()
      .describe('how long to wait for the other holder, ms (default 15000)'),
    all: z.boolean().optional().describe('answer every message too, each checked')
  })
  .strict()
const MessagesQuery = z
  .object({
    offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(0).max(500).optional().describe('default 50'),
    q: z.string().max(200).optional().describe('only messages whose kind, author device or text holds it')
  })
  .strict()
const DeviceParams = z.object({ device: z.string().min(1).max(80).describe('a device id or index') }).strict()

/** `GET /login?token=`: the login link; turns the token into the session cookie. */
export const loginRoute = route({
  method: 'GET',
  path: '/login',
  kind: 'redirect',
  auth: 'public',
  query: LoginQuery,
  answer: '303 to `/` with the session cookie (HttpOnly, SameSite=Strict, Path=/)',
  errors: ['HTTP_UNAUTHORIZED'],
  notes: 'The token is the query: a wrong one is `401 HTTP_UNAUTHORIZED`.',
  handler:
    ({ token }) =>
    async ({ query: q, reply }) => {
      if (!sameToken(q.token, token)) throw HttpErrors.HTTP_UNAUTHORIZED('wrong login token')
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`
      )
      return reply.redirect('/', 303)
    }
})

/** The JSON API: what the pages' scripts and the CLI call. */
export const apiRoutes: RouteSpec[] = [
  route({
    method: 'GET',
    path: '/api/status',
    kind: 'api',
    auth: 'read',
    answer:
      'what `conclave status --json` prints. One report answers every request of the next 250 ms (`STATUS_MAX_AGE_MS`); a cluster view update or a connection opening or closing makes the next request compute it anew',
    answerType: 'StatusReport',
    errors: [],
    handler: ({ api }) => {
      // A status report is shared for a moment (NodeApi.status); so is its JSON text.
      let lastStatus: { report: unknown; json: string } | null = null
      return async ({ reply }) => {
        const report = await api.status()
        if (lastStatus?.report !== report) lastStatus = { report, json: JSON.stringify(report) }
        return reply.type('application/json; charset=utf-8').send(lastStatus.json)
      }
    }
  }),
  route({
    method: 'POST',
    path: '/api/invites',
    kind: 'api',
    auth: 'write',
    body: InviteBody,
    answer:
      '`{ invite, expires, device }`: an invite for a new device of this account (root-holding node only)',
    answerType: 'InviteResult',
    errors: ['IDENTITY_NO_ROOT'],
    handler:
      ({ api }) =>
      async ({ body }) =>
        api.createInvite(body)
  }),
  route({
    method: 'GET',
    path: '/api/card',
    kind: 'api',
    auth: 'read',
    answer: "`{ card, accountId }`: this account's contact card text (root holder)",
    errors: ['IDENTITY_NO_ROOT'],
    handler:
      ({ api }) =>
      async () =>
        api.card()
  }),
  route({
    method: 'GET',
    path: '/api/friends',
    kind: 'api',
    auth: 'read',
    answer: '`{ friends: [{ accountId, name, devices: [{ deviceId, device, roles }], issuedAt }] }`',
    answerType: 'FriendSummary',
    errors: [],
    handler:
      ({ api }) =>
      async () => ({ friends: await api.friends() })
  }),
  route({
    method: 'POST',
    path: '/api/friends',
    kind: 'api',
    auth: 'write',
    body: FriendBody,
    answer: '`{ friend }`: the new friend',
    answerType: 'FriendSummary',
    errors: ['CLUSTER_CARD_INVALID', 'CLUSTER_FRIEND_SELF', 'CLUSTER_FRIEND_STALE'],
    handler:
      ({ api }) =>
      async ({ body }) => ({ friend: await api.addFriend(body.card) })
  }),
  route({
    method: 'POST',
    path: '/api/conversations',
    kind: 'api',
    auth: 'write',
    body: StartBody,
    answer: '`{ id }` of the new conversation',
    notes:
      'Conversations, patterns and methods: [conversations.md](conversations.md), [consensus.md](consensus.md).',
    errors: [
      'CONV_PATTERN_UNKNOWN',
      'CONV_MANIFEST_INVALID',
      'CONSENSUS_METHOD_UNKNOWN',
      'CONSENSUS_PARAMS_INVALID'
    ],
    handler:
      ({ api }) =>
      async ({ body }) =>
        api.startConversation(body)
  }),
  route({
    method: 'GET',
    path: '/api/conversations',
    kind: 'api',
    auth: 'read',
    answer: '`{ conversations: [{ id, topic, pattern, closed }] }`',
    errors: [],
    handler:
      ({ api }) =>
      async () => ({ conversations: await api.listConversations() })
  }),
  route({
    method: 'GET',
    path: '/api/conversations/:id',
    kind: 'api',
    auth: 'read',
    params: IdParams,
    query: Page,
    answer: 'the conversation summary (messages paged, tally, outcome, viewHash)',
    errors: ['CONV_NO_MANIFEST'],
    handler:
      ({ api }) =>
      async ({ params: { id }, query }) =>
        api.showConversation(id, query)
  }),
  route({
    method: 'POST',
    path: '/api/conversations/:id/messages',
    kind: 'api',
    auth: 'write',
    params: IdParams,
    body: PostBody,
    answer:
      "`{ seq, writer, length, late, copies, target, durable: true, holders }` once `copies` nodes (default: the node's, 2) hold it; else `504 NODE_NOT_DURABLE` with the same fields, `durable: false` and `stored: true` in `data` — the message is stored and must not be sent again ([durability.md](durability.md))",
    answerType: 'PostAck',
    errors: [
      'CONV_NO_MANIFEST',
      'CONV_KIND_UNKNOWN',
      'CONV_BODY_INVALID',
      'CONV_WRONG_PHASE',
      'CONV_CLOSED',
      'CONV_NOT_WRITABLE',
      'NODE_NOT_DURABLE'
    ],
    handler:
      ({ api }) =>
      async ({ params: { id }, body: b }) =>
        api.postMessage(id, b.kind, b.body ?? {}, {
          ...(b.copies !== undefined ? { copies: b.copies } : {}),
          ...(b.copiesTimeoutMs !== undefined ? { copiesTimeoutMs: b.copiesTimeoutMs } : {})
        })
  }),
  route({
    method: 'GET',
    path: '/api/archives',
    kind: 'api',
    auth: 'read',
    answer:
      '`{ archives: [{ id, conversationId, holders, size, blocks, createdAt, by, local }] }` ([archive.md](archive.md) §11)',
    answerType: 'ArchiveSummary',
    errors: [],
    handler:
      ({ api }) =>
      async () => ({ archives: await api.listArchives() })
  }),
  route({
    method: 'GET',
    path: '/api/archives/:id/progress',
    kind: 'api',
    auth: 'read',
    params: ArchiveParams,
    answer:
      '`{ progress: { phase, waitingFor, bytes: { done, total }, blocks: { done, total } } | null }` while an open of that archive runs',
    answerType: 'ArchiveOpenProgress',
    errors: [],
    handler:
      ({ api }) =>
      async ({ params: { id } }) => ({ progress: await api.archiveOpenProgress(id) })
  }),
  route({
    method: 'POST',
    path: '/api/archives/:id/open',
    kind: 'api',
    auth: 'write',
    params: ArchiveParams,
    body: OpenBody,
    answer:
      "`{ id, title, count, verified: { done, total }, transcript }` once the other holder peeled and the transcript's header and message digest are checked; `transcript` is the header (conversation, outcome, tally, roots, archivedAt, archivedBy, count, messagesDigest, sig) and, with `all: true` (what `conclave archive open` asks), `messages` too, every one checked. `waitMs` defaults to 15000. Every call is a new two-device open; the archive then stays readable through `…/messages` for 15 min after its last use",
    answerType: 'OpenedArchiveSummary',
    errors: [
      'NODE_ARCHIVE_UNKNOWN',
      'NODE_ARCHIVE_NOT_HOLDER',
      'NODE_ARCHIVE_HOLDER_OFFLINE',
      'NODE_ARCHIVE_INCOMPLETE',
      'NODE_ARCHIVE_REFUSED',
      'ARCHIVE_INTEGRITY',
      'ARCHIVE_TRANSCRIPT_INVALID'
    ],
    notes: '`503 NODE_ARCHIVE_HOLDER_OFFLINE` names the device it waited for in `data.waitingFor`.',
    handler:
      ({ api }) =>
      async ({ params: { id }, body: b }) =>
        api.openArchive(id, {
          ...(b.waitMs !== undefined ? { waitMs: b.waitMs } : {}),
          ...(b.all !== undefined ? { all: b.all } : {})
        })
  }),
  route({
    method: 'GET',
    path: '/api/archives/:id/messages',
    kind: 'api',
    auth: 'read',
    params: ArchiveParams,
    query: MessagesQuery,
    answer:
      "`{ id, offset, total, count, verified, messages: [{ …message, index }] }`: a page of an open archive's messages (`limit` default 50; of those whose kind, author device or text holds `q`, case-insensitive, when given; `total` counts them), each message's signature checked before it is sent",
    answerType: 'ArchiveMessagesPage',
    errors: ['NODE_ARCHIVE_NOT_OPEN', 'ARCHIVE_TRANSCRIPT_INVALID'],
    notes:
      '`409 NODE_ARCHIVE_NOT_OPEN` when it is not open here; `422 ARCHIVE_TRANSCRIPT_INVALID` once any message of it failed its check (the open is forgotten).',
    handler:
      ({ api }) =>
      async ({ params: { id }, query: q }) =>
        api.archiveMessages(id, {
          ...(q.offset !== undefined ? { offset: q.offset } : {}),
          ...(q.limit !== undefined ? { limit: q.limit } : {}),
          ...(q.q !== undefined ? { q: q.q } : {})
        })
  }),
  route({
    method: 'POST',
    path: '/api/archives/:id/close',
    kind: 'api',
    auth: 'write',
    params: ArchiveParams,
    answer: "`{ closed }`: forgets the open archive's plaintext now (whether it was open)",
    errors: [],
    handler:
      ({ api }) =>
      async ({ params: { id } }) => ({ closed: await api.closeArchive(id) })
  }),
  route({
    method: 'POST',
    path: '/api/devices/:device/revoke',
    kind: 'api',
    auth: 'write',
    params: DeviceParams,
    answer: '`{ deviceId }` of the revoked device',
    errors: ['IDENTITY_NO_ROOT', 'CLUSTER_DEVICE_UNKNOWN', 'CLUSTER_DEVICE_REVOKED', 'CLUSTER_LAST_INDEXER'],
    handler:
      ({ api }) =>
      async ({ params: { device } }) =>
        api.revoke(device)
  })
]

/** Every route of the local HTTP server, in the order it registers them. */
export const routes: readonly RouteSpec[] = [loginRoute, ...pageRoutes, ...apiRoutes]
