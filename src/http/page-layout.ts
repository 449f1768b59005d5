import { randomBytes } from 'node:crypto'

export function escapeHtml(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** A fresh nonce for one response's CSP and its `<style>`/`<script>` tags. */
export function newNonce(): string {
  return randomBytes(16).toString('base64')
}

/** The policy of an HTML page: nothing but this response's own nonce'd style and script, and fetches to this server. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'"
  ].join('; ')
}

const CSS = `
:root { color-scheme: light dark; --accent: #2b6cb0; --muted: #777; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; }
header nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: .75rem 1rem; border-bottom: 1px solid #8884; }
header nav a { padding: .25rem 0; }
main { padding: 1rem; max-width: 60rem; margin: 0 auto; }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
a[aria-current="page"] { font-weight: bold; }
table { border-collapse: collapse; width: 100%; display: block; overflow-x: auto; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
code { overflow-wrap: anywhere; }
svg.chart { width: 100%; max-width: 40rem; height: auto; }
svg.chart rect.bar { fill: var(--accent); }
svg.chart rect.win { fill: #2f855a; }
svg.chart text { fill: currentColor; font-size: 14px; }
ol.messages { padding-left: 1.5rem; }
ol.messages li { margin: .5rem 0; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.error { border-left: 4px solid #c53030; padding: .25rem .75rem; }
.pager { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
button, input { font: inherit; padding: .25rem .75rem; }
input[type="search"] { width: 100%; max-width: 30rem; }
@media (max-width: 30rem) { main { padding: .5rem; } th, td { padding: .2rem .3rem; } }
`

const NAV: Array<[string, string]> = [
  ['/', 'Devices'],
  ['/conversations', 'Conversations'],
  ['/archives', 'Archives'],
  ['/friends', 'Friends']
]

export interface PageOptions {
  nonce: string
  /** The nav entry to mark as current. */
  current: string
  /** Extra `<head>` content (already escaped). */
  head?: string
  /** Script run at the end of the body; gets the response's nonce. */
  script?: string
}

export function layout(title: string, body: string, opts: PageOptions): string {
  const nav = NAV.map(
    ([href, label]) => `<a href="${href}"${href === opts.current ? ' aria-current="page"' : ''}>${label}</a>`
  ).join('')
  const nonce = escapeHtml(opts.nonce)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Conclave</title>
<style nonce="${nonce}">${CSS}</style>
${opts.head ?? ''}
</head>
<body>
<header><nav aria-label="main">${nav}</nav></header>
<main>
${body}
</main>
${opts.script ? `<script nonce="${nonce}">${opts.script}</script>\n` : ''}</body>
</html>
`
}

/** A time as ISO text, or a dash. */
export function when(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? escapeHtml(new Date(ms).toISOString()) : '—'
}

/** Previous/next links for `?offset=&limit=` paging over `total` items. */
export function pager(base: string, offset: number, limit: number, total: number): string {
  if (total <= limit && offset === 0) return ''
  const link = (o: number, label: string, rel: string) =>
    `<a href="${escapeHtml(`${base}?offset=${o}&limit=${limit}`)}" rel="${rel}">${label}</a>`
  const last = Math.min(total, offset + limit)
  return `<nav class="pager" aria-label="pages">${offset > 0 ? link(Math.max(0, offset - limit), '← previous', 'prev') : ''}<span>${total === 0 ? 0 : offset + 1}–${last} of ${total}</span>${last < total ? link(offset + limit, 'next →', 'next') : ''}</nav>`
}
