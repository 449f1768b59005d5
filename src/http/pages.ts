import type { StatusReport } from '../node/node-api.js'

export function escapeHtml(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Conclave</title>
</head>
<body>
<header><nav aria-label="main"><a href="/">Devices</a></nav></header>
<main>
${body}
</main>
</body>
</html>
`
}

/** The home page: this account's devices and what the node is waiting for. */
export function devicesPage(s: StatusReport): string {
  const rows = s.devices
    .map(
      (d) => `<tr>
  <td>${d.device}</td>
  <td><code>${escapeHtml(d.deviceId)}</code>${d.self ? ' (this device)' : ''}</td>
  <td>${d.revoked ? 'revoked' : d.online ? 'online' : 'offline'}</td>
  <td>${escapeHtml(d.roles.join(', '))}${d.indexer ? ', indexer' : ''}</td>
  <td>${d.lastAddress ? escapeHtml(d.lastAddress) : d.address ? escapeHtml(d.address) : '—'}${d.direct ? ' (direct)' : ''}</td>
  <td>${d.rttMs === null ? '—' : `${d.rttMs.toFixed(1)} ms${d.offsetMs === null ? '' : `, clock ${d.offsetMs >= 0 ? '+' : ''}${Math.round(d.offsetMs)} ms`}`}</td>
  <td>${d.lastSeen ? escapeHtml(new Date(d.lastSeen).toISOString()) : '—'}</td>
</tr>`
    )
    .join('\n')
  const target = s.durability.statusTarget
  const cores = s.cores
    .map((c) => {
      const held = c.holders.map((h) => `${h.deviceId}${h.online ? '' : ' (offline)'}`).join(', ')
      const flag = c.belowTarget ? ` <strong>below ${target}</strong>` : ''
      return `<tr><td><code>${escapeHtml(c.key.slice(0, 16))}…</code></td><td>${escapeHtml(c.name)}</td><td>${c.length}</td><td>${c.copies}${flag}</td><td>${held ? escapeHtml(held) : '—'}</td></tr>`
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
</table>`
  )
}
