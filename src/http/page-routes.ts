import type { FastifyReply } from 'fastify'
import { z } from 'zod'
import { ConclaveError } from '../kernel/errors.js'
import { NodeErrors } from '../node/errors.js'
import { archivePage } from './archive-page.js'
import { escapeHtml, layout, newNonce, pageCsp } from './page-layout.js'
import {
  archivesPage,
  conversationLive,
  conversationPage,
  conversationsPage,
  devicesPage,
  friendsPage
} from './pages.js'
import { route, type RouteSpec } from './route.js'

const PAGE_LIMIT = 50

/** A coded error as an HTML page (with its CSP): what a page shows instead of its content. */
export function sendErrorPage(reply: FastifyReply, err: ConclaveError, hint = ''): FastifyReply {
  const nonce = newNonce()
  const html = layout(
    err.code,
    `<h1>${escapeHtml(err.code)}</h1><p class="error">${escapeHtml(err.message)}</p>${hint}`,
    { nonce, current: '' }
  )
  return reply
    .status(err.status)
    .header('content-security-policy', pageCsp(nonce))
    .type('text/html; charset=utf-8')
    .send(html)
}

/** Whether a request is a browser's GET of a page (not of the JSON API). */
export function isPageRequest(method: string, url: string): boolean {
  return method === 'GET' && !url.startsWith('/api/') && !url.startsWith('/login')
}

/** Renders a page with a fresh CSP nonce; a coded error while rendering becomes an error page. */
async function send(reply: FastifyReply, render: (nonce: string) => Promise<string>): Promise<FastifyReply> {
  const nonce = newNonce()
  let html: string
  try {
    html = await render(nonce)
  } catch (err) {
    if (!(err instanceof ConclaveError)) throw err
    return sendErrorPage(reply, err)
  }
  return reply.header('content-security-policy', pageCsp(nonce)).type('text/html; charset=utf-8').send(html)
}

const ConvParams = z.object({ id: z.string().min(1).max(80) }).strict()
const ArchiveParams = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }).strict()
const Page = z
  .object({
    offset: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional()
  })
  .strict()
const ConvPage = Page.extend({ part: z.literal('live').optional() }).strict()

/**
 * The browsing pages: server-rendered HTML, each with its own CSP nonce for
 * its style and script. A coded error becomes an HTML page with its status.
 */
export const pageRoutes: RouteSpec[] = [
  route({
    method: 'GET',
    path: '/',
    kind: 'page',
    auth: 'read',
    answer: 'HTML page: devices',
    errors: [],
    handler:
      ({ api }) =>
      async ({ reply }) =>
        send(reply, async (n) => devicesPage(await api.status(), n))
  }),
  route({
    method: 'GET',
    path: '/conversations',
    kind: 'page',
    auth: 'read',
    answer: 'HTML page: conversations',
    errors: [],
    handler:
      ({ api }) =>
      async ({ reply }) =>
        send(reply, async (n) => conversationsPage(await api.listConversations(), n))
  }),
  route({
    method: 'GET',
    path: '/conversations/:id',
    kind: 'page',
    auth: 'read',
    params: ConvParams,
    query: ConvPage,
    answer: `HTML page: one conversation, \`limit\` messages from \`offset\` (default 50); with \`part=live\`, only the tally, outcome and messages, which the page's script swaps in`,
    errors: ['CONV_NO_MANIFEST'],
    handler:
      ({ api }) =>
      async ({ params: { id }, query: q, reply }) => {
        const page = { offset: q.offset ?? 0, limit: q.limit ?? PAGE_LIMIT }
        if (q.part === 'live') {
          // what the page's script swaps in: the tally, outcome and messages alone
          return send(reply, async () => conversationLive(await api.showConversation(id, page), page))
        }
        return send(reply, async (n) => conversationPage(await api.showConversation(id, page), page, n))
      }
  }),
  route({
    method: 'GET',
    path: '/friends',
    kind: 'page',
    auth: 'read',
    answer: 'HTML page: friends',
    errors: [],
    handler:
      ({ api }) =>
      async ({ reply }) =>
        send(reply, async (n) => friendsPage(await api.friends(), n))
  }),
  route({
    method: 'GET',
    path: '/archives',
    kind: 'page',
    auth: 'read',
    answer: 'HTML page: archives',
    errors: [],
    handler:
      ({ api }) =>
      async ({ reply }) =>
        send(reply, async (n) => archivesPage(await api.listArchives(), n))
  }),
  route({
    method: 'GET',
    path: '/archives/:id',
    kind: 'page',
    auth: 'read',
    params: ArchiveParams,
    answer: 'HTML page: one archive and its open button',
    errors: ['NODE_ARCHIVE_UNKNOWN'],
    handler:
      ({ api, csrf }) =>
      async ({ params: { id }, reply }) =>
        send(reply, async (n) => {
          const a = (await api.listArchives()).find((x) => x.id === id)
          if (!a) throw NodeErrors.NODE_ARCHIVE_UNKNOWN(`no archive ${id} is recorded`)
          return archivePage(a, csrf, n)
        })
  })
]
