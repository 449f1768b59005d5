import { escapeHtml } from './page-layout.js'

/** Per-option figures, in the order methods name them (docs/consensus.md). */
const SERIES = ['counts', 'approvals', 'totals', 'firstPreferences', 'credits', 'available']

function numbersOf(v: unknown): Array<[string, number]> | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
  const out = Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number')
  return out.length > 0 ? out : null
}

/**
 * What a tally's chart draws: the first per-option series it has (votes,
 * approvals, score totals…), else its numeric figures (acks, objections…).
 */
export function chartSeries(
  tally: Record<string, unknown> | null
): { name: string; bars: Array<[string, number]> } | null {
  if (!tally) return null
  for (const name of SERIES) {
    const bars = numbersOf(tally[name])
    if (bars) return { name, bars }
  }
  const bars = Object.entries(tally).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])
  )
  return bars.length > 0 ? { name: 'figures', bars } : null
}

const ROW = 44
const WIDTH = 600
const BAR_MAX = 520

/** The tally as an inline SVG bar chart, one bar per option or figure; winners drawn in another colour. */
export function tallyChart(tally: Record<string, unknown> | null, winners: string[] = []): string {
  const s = chartSeries(tally)
  if (!s) return '<p class="muted">No tally to draw.</p>'
  const max = Math.max(1, ...s.bars.map(([, n]) => Math.abs(n)))
  const rows = s.bars
    .map(([label, n], i) => {
      const y = i * ROW
      const w = Math.max(n === 0 ? 0 : 2, Math.round((Math.abs(n) / max) * BAR_MAX))
      const win = winners.includes(label)
      return `<g><text x="0" y="${y + 15}">${escapeHtml(label)}${win ? ' ✓' : ''}</text><rect class="bar${win ? ' win' : ''}" x="0" y="${y + 21}" width="${w}" height="16"></rect><text x="${w + 6}" y="${y + 34}">${n}</text></g>`
    })
    .join('')
  const desc = s.bars.map(([label, n]) => `${label}: ${n}`).join(', ')
  return `<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 ${WIDTH} ${s.bars.length * ROW}" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">Tally: ${escapeHtml(s.name)}</title><desc id="chart-desc">${escapeHtml(desc)}</desc>${rows}</svg>`
}
