// Small charts drawn as inline SVG from DOM APIs (no chart library): horizontal bars for counts,
// and a log-bucketed latency histogram. Labels are Text nodes, never markup.
import { h, s } from './dom.js'
import { num } from './format.js'

export interface BarClick {
  (label: string): void
}

/** Horizontal bars, largest first, at most `limit` rows (the rest summed as "other"). */
export function barChart(
  title: string,
  counts: Record<string, unknown>,
  onClick?: BarClick,
  limit = 12,
): HTMLElement {
  let entries = Object.entries(counts)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0)
    .sort((a, b) => b[1] - a[1])
  if (entries.length > limit) {
    const rest = entries.slice(limit - 1).reduce((n, e) => n + e[1], 0)
    entries = [...entries.slice(0, limit - 1), ['other', rest]]
  }
  const box = h('figure', { class: 'chart' }, h('figcaption', null, title))
  if (!entries.length) {
    box.append(h('div', { class: 'muted small' }, 'No data'))
    return box
  }
  const W = 360
  const ROW = 18
  const LABEL = 96
  const COUNT = 64
  const max = Math.max(...entries.map((e) => e[1]))
  const total = entries.reduce((n, e) => n + e[1], 0)
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${entries.length * ROW}`,
    class: 'chart-svg',
    role: 'img',
    'aria-label': title,
  })
  entries.forEach(([label, n], i) => {
    const y = i * ROW
    const w = Math.max(1, ((W - LABEL - COUNT) * n) / max)
    const g = s('g', { class: onClick && label !== 'other' ? 'bar clickable' : 'bar' })
    g.append(
      s('title', null, `${label}: ${num(n)} (${((100 * n) / total).toFixed(1)}%)`),
      s(
        'text',
        {
          x: LABEL - 6,
          y: y + ROW / 2,
          class: 'bar-label',
          'text-anchor': 'end',
          'dominant-baseline': 'central',
        },
        clip(label, 14),
      ),
      s('rect', { x: LABEL, y: y + 3, width: w, height: ROW - 6, rx: 2, class: barClass(label) }),
      s(
        'text',
        { x: LABEL + w + 4, y: y + ROW / 2, class: 'bar-count', 'dominant-baseline': 'central' },
        num(n),
      ),
    )
    if (onClick && label !== 'other') g.addEventListener('click', () => onClick(label))
    svg.append(g)
  })
  box.append(svg)
  return box
}

function barClass(label: string): string {
  if (label === 'NOERROR') return 'fill-ok'
  if (label === 'NXDOMAIN') return 'fill-warn'
  if (label === 'SERVFAIL' || label === 'REFUSED' || label === 'unanswered') return 'fill-bad'
  return 'fill-neutral'
}

/** Bucket edges in ms for the latency histogram: 1-2-5 steps from 0.1 ms to 5 s, then more. */
const EDGES = [0, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity]

export function latencyBucket(ms: number): number {
  for (let b = EDGES.length - 2; b >= 0; b--) if (ms >= EDGES[b]) return b
  return 0
}

function edgeLabel(v: number): string {
  if (v === Infinity) return '∞'
  if (v >= 1000) return `${v / 1000}s`
  return `${v}`
}

/** Histogram of answered latencies (log buckets), with the unanswered count as a last bar. */
export function latencyHistogram(
  latencies: number[],
  unanswered: number,
  onClick?: (bucket: number | 'unanswered', label: string) => void,
): HTMLElement {
  const box = h(
    'figure',
    { class: 'chart chart-wide' },
    h('figcaption', null, 'Latency (answered), ms'),
  )
  const counts = new Array(EDGES.length - 1).fill(0) as number[]
  for (const v of latencies) counts[latencyBucket(v)]++
  if (!latencies.length && !unanswered) {
    box.append(h('div', { class: 'muted small' }, 'No transactions'))
    return box
  }
  // Trim empty buckets at both ends, keeping at least a few for context.
  let lo = counts.findIndex((n) => n > 0)
  let hi = counts.length - 1 - [...counts].reverse().findIndex((n) => n > 0)
  if (lo < 0) {
    lo = 3
    hi = 8
  }
  lo = Math.max(0, lo - 1)
  hi = Math.min(counts.length - 1, hi + 1)
  const buckets = counts.slice(lo, hi + 1).map((n, k) => ({
    b: lo + k,
    n,
    label: `${edgeLabel(EDGES[lo + k])}–${edgeLabel(EDGES[lo + k + 1])} ms`,
  }))
  const bars: { b: number | 'unanswered'; n: number; label: string }[] = [...buckets]
  if (unanswered) bars.push({ b: 'unanswered', n: unanswered, label: 'no answer' })
  const gap = unanswered ? 1 : 0
  const W = 720
  const H = 150
  const BOTTOM = 30
  const TOP = 14
  const bw = W / (bars.length + gap * 0.5)
  const max = Math.max(1, ...bars.map((x) => x.n))
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart-svg',
    role: 'img',
    'aria-label': 'Latency histogram',
  })
  svg.append(s('line', { x1: 0, x2: W, y1: H - BOTTOM + 0.5, y2: H - BOTTOM + 0.5, class: 'axis' }))
  bars.forEach((bar, i) => {
    const bh = ((H - BOTTOM - TOP) * bar.n) / max
    // The no-answer bar stands apart from the latency scale.
    const x = i * bw + (bar.b === 'unanswered' ? bw * 0.5 : 0)
    const g = s('g', { class: onClick && bar.n ? 'bar clickable' : 'bar' })
    g.append(
      s('title', null, `${bar.label}: ${num(bar.n)}`),
      s('rect', {
        x: x + 2,
        y: H - BOTTOM - bh,
        width: Math.max(1, bw - 4),
        height: bh,
        rx: 2,
        class: bar.b === 'unanswered' ? 'fill-bad' : 'fill-accent',
      }),
    )
    // Bucket edges label the boundaries between bars; the no-answer bar is labelled below itself.
    if (bar.b === 'unanswered')
      g.append(
        s(
          'text',
          { x: x + bw / 2, y: H - BOTTOM + 13, 'text-anchor': 'middle', class: 'tick' },
          'no answer',
        ),
      )
    else {
      g.append(
        s(
          'text',
          { x, y: H - BOTTOM + 13, 'text-anchor': i ? 'middle' : 'start', class: 'tick' },
          edgeLabel(EDGES[bar.b]),
        ),
      )
      const next = bars[i + 1]
      if (!next || next.b === 'unanswered')
        g.append(
          s(
            'text',
            {
              x: x + bw,
              y: H - BOTTOM + 13,
              'text-anchor': next ? 'middle' : 'end',
              class: 'tick',
            },
            edgeLabel(EDGES[bar.b + 1]),
          ),
        )
    }
    if (bar.n)
      g.append(
        s(
          'text',
          { x: x + bw / 2, y: H - BOTTOM - bh - 3, 'text-anchor': 'middle', class: 'bar-count' },
          num(bar.n),
        ),
      )
    if (onClick && bar.n) g.addEventListener('click', () => onClick(bar.b, bar.label))
    svg.append(g)
  })
  box.append(svg)
  return box
}

function clip(v: string, n: number): string {
  return v.length > n ? v.slice(0, n - 1) + '…' : v
}
