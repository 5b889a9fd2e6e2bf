// A timeline of hops: one lane per vantage point, markers at the time each saw the message.
// This is how a lost query shows where it was last seen and which hop it never reached.
import type { Hop } from '../../core/model/report.js'
import { h, s } from './dom.js'
import { arr, ms, str, timeUs } from './format.js'

const W = 900
const GUTTER = 190
const LANE = 26
const AXIS = 22
/** Room above the first lane for its labels. */
const TOP = 14

function hopClass(what: string): string {
  const w = what.toLowerCase()
  if (/drop|lost|discard/.test(w)) return 'hop-drop'
  if (/response|answer|reply|nxdomain|servfail|noerror|refused/.test(w)) return 'hop-resp'
  if (/retrans|retry|copy/.test(w)) return 'hop-retry'
  return 'hop-query'
}

/**
 * Draws hops as swimlanes and lists them beneath with their evidence.
 * @example
 *   box.append(timeline(transaction.hops))
 */
export function timeline(hopsIn: Hop[]): HTMLElement {
  const hops = arr<Hop>(hopsIn)
    .filter((x) => x && typeof x.time === 'number' && Number.isFinite(x.time))
    .sort((a, b) => a.time - b.time)
  const box = h('div', { class: 'timeline' })
  if (!hops.length) {
    box.append(h('div', { class: 'muted small' }, 'No hops recorded.'))
    return box
  }
  const lanes: string[] = []
  for (const x of hops) if (!lanes.includes(str(x.vantage))) lanes.push(str(x.vantage))
  const t0 = hops[0].time
  const span = Math.max(1, hops[hops.length - 1].time - t0)
  const x = (t: number) => GUTTER + 10 + ((W - GUTTER - 60) * (t - t0)) / span
  const height = TOP + lanes.length * LANE + AXIS
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${height}`,
    class: 'timeline-svg',
    role: 'img',
    'aria-label': 'Timeline',
  })
  lanes.forEach((lane, i) => {
    const y = TOP + i * LANE + LANE / 2
    svg.append(
      s('line', { x1: GUTTER, x2: W - 10, y1: y, y2: y, class: 'lane' }),
      s(
        'text',
        {
          x: GUTTER - 8,
          y,
          'text-anchor': 'end',
          'dominant-baseline': 'central',
          class: 'lane-label',
        },
        s('title', null, lane),
        clip(lane, 28),
      ),
    )
  })
  // Ticks: start, middle, end (relative ms).
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const t = t0 + span * f
    const tx = x(t)
    svg.append(
      s('line', { x1: tx, x2: tx, y1: TOP - 4, y2: height - AXIS + 4, class: 'grid' }),
      s(
        'text',
        { x: tx, y: height - 6, 'text-anchor': 'middle', class: 'tick' },
        '+' + ms((t - t0) / 1000),
      ),
    )
  }
  const lastLabelX = new Map<string, number>()
  for (const hop of hops) {
    const lane = lanes.indexOf(str(hop.vantage))
    const y = TOP + lane * LANE + LANE / 2
    const hx = x(hop.time)
    const what = str(hop.what)
    const g = s('g', { class: `hop ${hopClass(what)}` })
    g.append(
      s(
        'title',
        null,
        `${what}\n${str(hop.vantage)}\n${timeUs(hop.time)} (+${ms((hop.time - t0) / 1000)})`,
      ),
      s('circle', { cx: hx, cy: y, r: 4.5 }),
    )
    const prev = lastLabelX.get(str(hop.vantage)) ?? -Infinity
    if (hx - prev > 110) {
      // Near the right edge the label goes to the left of its marker.
      const left = hx > W - 150
      g.append(
        s(
          'text',
          {
            x: left ? hx - 7 : hx + 7,
            y: y - 7,
            'text-anchor': left ? 'end' : 'start',
            class: 'hop-label',
          },
          clip(what, 22),
        ),
      )
      lastLabelX.set(str(hop.vantage), hx)
    }
    svg.append(g)
  }
  box.append(svg)
  const rows = hops.map((hop) =>
    h(
      'tr',
      { class: hopClass(str(hop.what)) },
      h('td', { class: 'num' }, '+' + ms((hop.time - t0) / 1000)),
      h('td', { class: 'mono' }, timeUs(hop.time)),
      h('td', null, str(hop.vantage)),
      h('td', null, str(hop.what)),
      h('td', { class: 'muted' }, [str(hop.input), str(hop.where)].filter(Boolean).join(' · ')),
    ),
  )
  box.append(
    h(
      'table',
      { class: 'grid-table hops' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, 'Δ'),
          h('th', null, 'Time (UTC)'),
          h('th', null, 'Vantage'),
          h('th', null, 'What'),
          h('th', null, 'Evidence'),
        ),
      ),
      h('tbody', null, rows),
    ),
  )
  return box
}

function clip(v: string, n: number): string {
  return v.length > n ? v.slice(0, n - 1) + '…' : v
}
