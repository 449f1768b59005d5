import type { ArchiveSummary } from '../node/node-api.js'
import { escapeHtml, layout, when } from './page-layout.js'

/**
 * Runs in the page: opens the archive with a POST carrying the CSRF header
 * (the session cookie alone may not write), polls the open's progress while
 * it waits, then shows the transcript with search and paging. Everything
 * from the node is set with textContent, never parsed as HTML.
 */
const SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id)
  const id = $('archive').dataset.id
  const csrf = document.querySelector('meta[name="conclave-csrf"]').content
  const PAGE = 20
  const READABLE = {
    NODE_ARCHIVE_HOLDER_OFFLINE: 'The other holder is not connected or did not answer in time. Start it, check that it is online on the Devices page, and open again.',
    NODE_ARCHIVE_NOT_HOLDER: 'This device is not one of the two holders of this archive; open it on a holder.',
    NODE_ARCHIVE_REFUSED: 'The other holder refused to peel its layer (is this device revoked?).',
    NODE_ARCHIVE_UNKNOWN: 'No archive with this id is recorded in this account.',
    NODE_ARCHIVE_INCOMPLETE: 'Blocks of the archive are neither on this device nor sent by another in time.',
    ARCHIVE_INTEGRITY: 'The archive failed its integrity check: it was altered or damaged.',
    ARCHIVE_TRANSCRIPT_INVALID: 'The transcript failed its signature checks; nothing of it is shown.',
    HTTP_UNAUTHORIZED: 'The session is not valid any more: open the login link that conclave run printed.',
    HTTP_CSRF: 'The request lacked its CSRF token: reload the page.'
  }
  const button = $('open')
  const state = $('state')
  const errorBox = $('error')
  let total = 0
  let offset = 0
  let running = false
  let query = ''
  let asked = 0

  const pct = (d, t) => (t > 0 ? Math.round((100 * d) / t) : 0)
  function progressText(p) {
    const bytes = p.bytes.done + ' of ' + p.bytes.total + ' bytes (' + pct(p.bytes.done, p.bytes.total) + '%)'
    if (p.phase === 'waiting') return 'Waiting for ' + (p.waitingFor || 'the other holder') + ' to peel its layer… ' + bytes
    if (p.phase === 'reading') return 'Reading the archive: block ' + p.blocks.done + ' of ' + p.blocks.total + ', ' + bytes
    return (p.phase === 'decrypting' ? 'Decrypting' : 'Verifying the transcript') + '… ' + bytes
  }
  async function poll() {
    try {
      const res = await fetch('/api/archives/' + id + '/progress', { credentials: 'same-origin' })
      const json = await res.json()
      if (running && json.progress) state.textContent = progressText(json.progress)
    } catch {
      // the next poll tries again
    }
  }
  function bodyText(body) {
    if (!body || typeof body !== 'object') return ''
    if (typeof body.text === 'string') return body.text
    if (typeof body.choice === 'string') return body.choice
    if (Array.isArray(body.choices)) return body.choices.join(', ')
    const json = JSON.stringify(body)
    return json === '{}' ? '' : json
  }
  function line(m) {
    return m.kind + ' by ' + ((m.author && m.author.deviceId) || '?') + (m.late ? ' (late)' : '') + ': ' + bodyText(m.body)
  }
  // Asks the node for one page (of the matches of the search, if any); only the newest answer is shown.
  async function showPage() {
    const n = ++asked
    const params = new URLSearchParams({ offset: String(offset), limit: String(PAGE) })
    if (query) params.set('q', query)
    const res = await fetch('/api/archives/' + id + '/messages?' + params, { credentials: 'same-origin' })
    const json = await res.json()
    if (n !== asked) return
    if (!res.ok) {
      showError(json)
      return
    }
    total = json.total
    const list = $('messages')
    list.replaceChildren()
    for (const m of json.messages) {
      const li = document.createElement('li')
      li.value = m.index + 1
      li.textContent = line(m)
      list.append(li)
    }
    const last = Math.min(total, offset + PAGE)
    $('page').textContent = total === 0 ? 'No message matches.' : (offset + 1) + '–' + last + ' of ' + total + (query ? ' matching (' + json.count + ' in all)' : '')
    $('checked').textContent = json.verified.done + ' of ' + json.verified.total
    $('prev').disabled = offset === 0
    $('next').disabled = last >= total
  }
  let typing = null
  function filter() {
    clearTimeout(typing)
    typing = setTimeout(() => {
      query = $('q').value.trim()
      offset = 0
      showPage()
    }, 250)
  }
  function render(r) {
    const t = r.transcript || {}
    const c = t.conversation || {}
    $('t-title').textContent = r.title
    $('t-topic').textContent = c.topic || ''
    $('t-pattern').textContent = (c.pattern || '') + (c.consensus && c.consensus.method ? ', ' + c.consensus.method : '')
    $('t-outcome').textContent = t.outcome
      ? (t.outcome.winners.length ? t.outcome.winners.join(', ') : 'no winner') + ' (final, reached ' + new Date(t.outcome.reachedAt).toISOString() + ')'
      : 'not reached when archived'
    $('t-archived').textContent = t.archivedAt ? new Date(t.archivedAt).toISOString() : ''
    $('t-count').textContent = String(r.count)
    $('transcript').hidden = false
    offset = 0
    query = $('q').value.trim()
    showPage()
    $('t-title').focus()
  }
  function showError(e) {
    const waiting = e.data && e.data.waitingFor ? ' (waiting for ' + e.data.waitingFor + ')' : ''
    $('error-code').textContent = e.code || 'ERROR'
    $('error-text').textContent = (READABLE[e.code] || 'Opening failed.') + waiting
    $('error-message').textContent = e.message || ''
    errorBox.hidden = false
    errorBox.focus()
  }
  button.addEventListener('click', async () => {
    button.disabled = true
    errorBox.hidden = true
    running = true
    state.textContent = 'Opening…'
    const timer = setInterval(poll, 300)
    const wait = Math.max(0, Math.min(120, Number($('wait').value) || 0))
    try {
      const res = await fetch('/api/archives/' + id + '/open', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-conclave-csrf': csrf },
        body: JSON.stringify({ waitMs: wait * 1000 })
      })
      const json = await res.json()
      running = false
      if (res.ok) {
        state.textContent = 'Opened: the transcript is signed by a device of this account; each message shown has its signature checked.'
        render(json)
      } else {
        state.textContent = 'Not opened.'
        showError(json)
      }
    } catch (err) {
      running = false
      state.textContent = 'Not opened.'
      showError({ code: 'NETWORK', message: String(err) })
    } finally {
      clearInterval(timer)
      button.disabled = false
    }
  })
  $('q').addEventListener('input', filter)
  $('prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); showPage() })
  $('next').addEventListener('click', () => { if (offset + PAGE < total) { offset += PAGE; showPage() } })
})()
`

/** One archive: what is recorded of it, and a button that opens it with the other holder. */
export function archivePage(a: ArchiveSummary, csrf: string, nonce: string): string {
  return layout(
    `Archive ${a.id.slice(0, 12)}`,
    `<h1>Archive <code>${a.id.slice(0, 16)}…</code></h1>
<section id="archive" data-id="${a.id}" aria-label="record">
<dl>
<dt>id</dt><dd><code>${a.id}</code></dd>
<dt>conversation</dt><dd><code>${escapeHtml(a.conversationId)}</code></dd>
<dt>holders</dt><dd>${a.holders.map((h) => `<code>${escapeHtml(h)}</code>`).join(' and ')}</dd>
<dt>size</dt><dd>${a.size} bytes in ${a.blocks} blocks, ${a.local} of them on this device</dd>
<dt>created</dt><dd>${when(a.createdAt)} by <code>${escapeHtml(a.by)}</code></dd>
</dl>
</section>
<h2>Open</h2>
<p>Opening needs both holders: this device asks the other one to peel its layer.</p>
<noscript><p>Opening from this page needs script; <code>conclave archive open ${a.id}</code> does the same.</p></noscript>
<p><label for="wait">Wait for the other holder (seconds)</label>
<input id="wait" type="number" min="0" max="120" value="60" inputmode="numeric"></p>
<p><button type="button" id="open">Open the archive</button></p>
<p id="state" role="status" aria-live="polite"></p>
<div id="error" class="error" role="alert" tabindex="-1" hidden><p><code id="error-code"></code>: <span id="error-text"></span></p><p class="muted" id="error-message"></p></div>
<section id="transcript" aria-labelledby="t-title" hidden>
<h2 id="t-title" tabindex="-1"></h2>
<dl>
<dt>topic</dt><dd id="t-topic"></dd>
<dt>pattern</dt><dd id="t-pattern"></dd>
<dt>outcome</dt><dd id="t-outcome"></dd>
<dt>archived</dt><dd id="t-archived"></dd>
<dt>messages</dt><dd id="t-count"></dd>
<dt>signatures checked</dt><dd id="checked"></dd>
</dl>
<h3>Messages</h3>
<p><label for="q">Search the messages</label><br><input id="q" type="search" autocomplete="off"></p>
<ol id="messages" class="messages"></ol>
<nav class="pager" aria-label="message pages"><button type="button" id="prev">← previous</button><span id="page" aria-live="polite"></span><button type="button" id="next">next →</button></nav>
</section>`,
    {
      nonce,
      current: '/archives',
      head: `<meta name="conclave-csrf" content="${escapeHtml(csrf)}">`,
      script: SCRIPT
    }
  )
}
