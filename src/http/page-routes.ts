import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { ConclaveError } from '../kernel/errors.js'
import type { NodeApi } from '../node/node-api.js'
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

export interface PageRoutesOptions {
  api: NodeApi
  /** The session's CSRF token, which the archive page's script sends with its POST. */
  csrf: string
  parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T
}

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

/**
 * The browsing pages: server-rendered HTML, each with its own CSP nonce for
 * its style and script. A coded error becomes an HTML page with its status.
 */
export function pageRoutes(app: FastifyInstance, opts: PageRoutesOptions): void {
  const { api, parse } = opts
  const send = async (
    reply: FastifyReply,
    render: (nonce: string) => Promise<string>
  ): Promise<FastifyReply> => {
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

  app.get('/', async (_req, reply) => send(reply, async (n) => devicesPage(await api.status(), n)))
  app.get('/conversations', async (_req, reply) =>
    send(reply, async (n) => conversationsPage(await api.listConversations(), n))
  )
  app.get('/conversations/:id', async (req, reply) => {
    const { id } = parse(ConvParams, req.params, 'parameters')
    const q = parse(ConvPage, req.query ?? {}, 'query')
    const page = { offset: q.offset ?? 0, limit: q.limit ?? PAGE_LIMIT }
    if (q.part === 'live') {
      // what the page's script swaps in: the tally, outcome and messages alone
      return send(reply, async () => conversationLive(await api.showConversation(id, page), page))
    }
    return send(reply, async (n) => conversationPage(await api.showConversation(id, page), page, n))
  })
  app.get('/friends', async (_req, reply) => send(reply, async (n) => friendsPage(await api.friends(), n)))
  app.get('/archives', async (_req, reply) =>
    send(reply, async (n) => archivesPage(await api.listArchives(), n))
  )
  app.get('/archives/:id', async (req, reply) => {
    const { id } = parse(ArchiveParams, req.params, 'parameters')
    return send(reply, async (n) => {
      const a = (await api.listArchives()).find((x) => x.id === id)
      if (!a) throw NodeErrors.NODE_ARCHIVE_UNKNOWN(`no archive ${id} is recorded`)
      return archivePage(a, opts.csrf, n)
    })
  })
}
