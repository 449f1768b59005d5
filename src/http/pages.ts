import type { ArchiveSummary, FriendSummary, StatusReport } from '../node/node-api.js'
import { bodyText } from '../node/message-text.js'
import { escapeHtml, layout, pager, when } from './page-layout.js'
import { tallyChart } from './tally-chart.js'

/** A table with one header row, or `empty` (HTML) when there are no rows. */
function tableOr(empty: string, columns: string[], rows: string[]): string {
  if (rows.length === 0) return empty
  const head = columns.map((c) => `<th scope="col">${c}</th>`).join('')
  return `<table>
<thead><tr>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
}

/** The home page: this account's devices and what the node is waiting for. */
export function devicesPage(s: StatusReport, nonce: string): string {
  const rows = s.devices
    .map(
      (d) => `<tr>
  <td>${d.device}</td>
  <td><code>${escapeHtml(d.deviceId)}</code>${d.self ? ' (this device)' : ''}</td>
  <td>${d.revoked ? 'revoked' : d.online ? 'online' : 'offline'}</td>
  <td>${escapeHtml(d.roles.join(', '))}${d.indexer ? ', indexer' : ''}</td>
  <td>${d.lastAddress ? escapeHtml(d.lastAddress) : d.address ? escapeHtml(d.address) : '—'}${d.direct ? ' (direct)' : ''}</td>
  <td>${d.rttMs === null ? '—' : `${d.rttMs.toFixed(1)} ms${d.offsetMs === null ? '' : `, clock ${d.offsetMs >= 0 ? '+' : ''}${Math.round(d.offsetMs)} ms`}`}</td>
  <td>${when(d.lastSeen)}</td>
</tr>`
    )
    .join('\n')
  const target = s.durability.statusTarget
  const cores = s.cores
    .map((c) => {
      const held = c.holders.map((h) => `${h.deviceId}${h.online ? '' : ' (offline)'}`).join(', ')
      const flag = c.belowTarget ? ` <strong>below ${target}</strong>` : ''
      return `<tr><td><code>${escapeHtml(c.key.slice(0, 16))}…</code></td><td>${escapeHtml(c.name)}</td><td>${c.length}</td><td><meter min="0" max="${Math.max(target, c.copies)}" value="${c.copies}"></meter> ${c.copies}${flag}</td><td>${held ? escapeHtml(held) : '—'}</td></tr>`
    })
    .join('\n')
  const waiting = s.waitingFor.map((w) => `<li>${escapeHtml(w)}</li>`).join('')
  return layout(
    'Devices',
    `<h1>Account <code>${escapeHtml(s.accountId)}</code></h1>
<p>This is device ${s.device} (<code>${escapeHtml(s.deviceId)}</code>), writer epoch ${s.epoch}, ${s.writable ? 'writable' : 'not writable yet'}.</p>
${waiting ? `<h2>Waiting for</h2><ul>${waiting}</ul>` : ''}
<h2>Devices</h2>
<table>
<thead><tr><th scope="col">#</th><th scope="col">device</th><th scope="col">state</th><th scope="col">roles</th><th scope="col">address</th><th scope="col">round trip, clock</th><th scope="col">last seen</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Cores</h2>
<p>Copies: the nodes holding all of a core, this one included. Writer cores held by fewer than ${target} are marked${s.durability.belowTarget ? ` (${s.durability.belowTarget} now)` : ''}.</p>
<table>
<thead><tr><th scope="col">key</th><th scope="col">what</th><th scope="col">length</th><th scope="col">copies</th><th scope="col">also held by</th></tr></thead>
<tbody>
${cores}
</tbody>
</table>`,
    { nonce, current: '/' }
  )
}

export function conversationsPage(
  list: Array<{ id: string; topic: string; pattern: string; closed: boolean }>,
  nonce: string
): string {
  const rows = list.map(
    (c) =>
      `<tr><td><a href="/conversations/${encodeURIComponent(c.id)}">${escapeHtml(c.topic)}</a></td><td>${escapeHtml(c.pattern)}</td><td>${c.closed ? 'closed' : 'open'}</td></tr>`
  )
  return layout(
    'Conversations',
    `<h1>Conversations</h1>
${tableOr(
  '<p>No conversation on this device yet. Start one with <code>conclave convo start</code>.</p>',
  ['topic', 'pattern', 'state'],
  rows
)}`,
    { nonce, current: '/conversations' }
  )
}

/** The parts of `GET /api/conversations/:id` the page shows. */
interface Shown {
  id: string
  topic: string
  pattern: string
  consensus: { method?: string; expr?: string } & Record<string, unknown>
  options: string[]
  deadline: number | null
  createdAt: number
  creator: { accountId: string; deviceId: string }
  members: Array<{ accountId: string; devices: Array<{ deviceId: string; revoked: boolean }> }>
  phase: string
  closed: boolean
  total: number
  late: number
  messages: Array<{
    seq: number
    kind: string
    body: Record<string, unknown>
    author: { accountId: string; deviceId: string }
    late: boolean
  }>
  tally: Record<string, unknown> | null
  outcome: { state: string; winners: string[]; reachedAt: number } | null
  unsupported: string | null
}

/**
 * Keeps a conversation page live: every 3 s while the tab is visible it
 * fetches the page's `#live` part (`?part=live`: the tally, outcome and
 * messages, no script or style) and swaps it in when it changed; it stops
 * once the outcome is final. A template parses it inert.
 */
const LIVE_SCRIPT = `
(() => {
  const live = document.getElementById('live')
  if (!live || live.dataset.final === 'true') return
  const url = new URL(location.href)
  url.searchParams.set('part', 'live')
  let busy = false
  let last = null
  const timer = setInterval(async () => {
    if (busy || document.visibilityState !== 'visible') return
    busy = true
    try {
      const res = await fetch(url, { credentials: 'same-origin' })
      if (!res.ok) return
      const text = await res.text()
      if (text === last) return
      last = text
      const template = document.createElement('template')
      template.innerHTML = text
      const next = template.content.getElementById('live')
      if (!next) return
      live.replaceChildren(...next.childNodes)
      live.dataset.final = next.dataset.final
      if (next.dataset.final === 'true') clearInterval(timer)
    } catch {
      // the next tick tries again
    } finally {
      busy = false
    }
  }, 3000)
})()
`

/** The part of a conversation's page that changes: tally, outcome, messages (the page's `#live`). */
export function conversationLive(raw: unknown, page: { offset: number; limit: number }): string {
  const c = raw as Shown
  const base = `/conversations/${encodeURIComponent(c.id)}`
  const outcome = c.outcome
    ? `<p><strong>${c.outcome.winners.length ? escapeHtml(c.outcome.winners.join(', ')) : 'no winner'}</strong> — ${escapeHtml(c.outcome.state)} (reached ${when(c.outcome.reachedAt)})</p>`
    : `<p>Not reached yet${c.unsupported ? ` (this node cannot evaluate the rule: ${escapeHtml(c.unsupported)})` : ''}.</p>`
  const messages = c.messages
    .map(
      (m) =>
        `<li value="${m.seq + 1}"><strong>${escapeHtml(m.kind)}</strong> by <code>${escapeHtml(m.author.deviceId)}</code>${m.late ? ' <em>(late)</em>' : ''}: ${escapeHtml(bodyText(m.body))}</li>`
    )
    .join('\n')
  return `<div id="live" data-final="${c.outcome?.state === 'final'}">
<h2>Tally</h2>
${tallyChart(c.tally, c.outcome?.winners ?? [])}
<h2>Outcome</h2>
<div role="status">${outcome}</div>
<h2 id="messages">Messages (${c.total}${c.late ? `, ${c.late} late` : ''})</h2>
${c.messages.length ? `<ol class="messages">${messages}</ol>` : '<p>None on this page.</p>'}
${pager(base, page.offset, page.limit, c.total)}
</div>`
}

export function conversationPage(
  raw: unknown,
  page: { offset: number; limit: number },
  nonce: string
): string {
  const c = raw as Shown
  const method = c.consensus.method ?? (c.consensus.expr ? 'expression' : '—')
  const members = c.members
    .map(
      (m) =>
        `<li><code>${escapeHtml(m.accountId)}</code>: ${m.devices
          .map((d) => `<code>${escapeHtml(d.deviceId)}</code>${d.revoked ? ' (revoked)' : ''}`)
          .join(', ')}</li>`
    )
    .join('')
  return layout(
    c.topic,
    `<h1>${escapeHtml(c.topic)}</h1>
<dl>
<dt>pattern</dt><dd>${escapeHtml(c.pattern)}, ${escapeHtml(method)}</dd>
<dt>state</dt><dd>${c.closed ? 'closed' : 'open'} (${escapeHtml(c.phase)})</dd>
<dt>options</dt><dd>${c.options.length ? escapeHtml(c.options.join(', ')) : '—'}</dd>
<dt>started</dt><dd>${when(c.createdAt)} by <code>${escapeHtml(c.creator.deviceId)}</code></dd>
<dt>deadline</dt><dd>${when(c.deadline)}</dd>
</dl>
<h2>Members</h2>
<ul>${members}</ul>
${conversationLive(c, page)}`,
    { nonce, current: '/conversations', script: LIVE_SCRIPT }
  )
}

export function friendsPage(friends: FriendSummary[], nonce: string): string {
  const rows = friends.map(
    (f) =>
      `<tr><td>${f.name ? escapeHtml(f.name) : '—'}</td><td><code>${escapeHtml(f.accountId)}</code></td><td>${f.devices
        .map((d) => `${d.device}: <code>${escapeHtml(d.deviceId)}</code> (${escapeHtml(d.roles.join(', '))})`)
        .join('<br>')}</td><td>${when(f.issuedAt)}</td></tr>`
  )
  return layout(
    'Friends',
    `<h1>Friends</h1>
${tableOr(
  '<p>No friend yet. Exchange cards in person: <code>conclave card</code>, then <code>conclave friend add CARD</code>.</p>',
  ['name', 'account', 'devices', 'card issued'],
  rows
)}`,
    { nonce, current: '/friends' }
  )
}

export function archivesPage(list: ArchiveSummary[], nonce: string): string {
  const rows = list.map(
    (a) =>
      `<tr><td><a href="/archives/${a.id}"><code>${a.id.slice(0, 16)}…</code></a></td><td><a href="/conversations/${encodeURIComponent(a.conversationId)}"><code>${escapeHtml(a.conversationId)}</code></a></td><td>${a.holders.map((h) => `<code>${escapeHtml(h)}</code>`).join(', ')}</td><td>${a.size} B</td><td>${a.local}/${a.blocks}</td><td>${when(a.createdAt)}</td></tr>`
  )
  return layout(
    'Archives',
    `<h1>Archives</h1>
<p>An archive opens only with both of its holders: this device and the other one must be online.</p>
${tableOr(
  '<p>No archive yet: a conversation is archived once it closes with a final outcome, or after it was idle long enough.</p>',
  ['archive', 'conversation', 'holders', 'size', 'blocks here', 'created'],
  rows
)}`,
    { nonce, current: '/archives' }
  )
}
