// Prometheus samples grouped into series (vantage + name + labels), so a counter read from several
// snapshots can be summed at its latest value or compared between its first and last sample.
import type { MetricEvent } from '../model/event.js'

export interface Series {
  key: string
  name: string
  labels: Record<string, string>
  first: MetricEvent
  last: MetricEvent
  samples: number
}

/** The series of `name` (and, when given, whose labels pass `filter`). */
export function seriesOf(
  metrics: readonly MetricEvent[],
  name: string | ((name: string) => boolean),
  filter?: (labels: Record<string, string>) => boolean,
): Series[] {
  const byKey = new Map<string, Series>()
  for (const m of metrics) {
    if (typeof name === 'string' ? m.name !== name : !name(m.name)) continue
    if (filter && !filter(m.labels)) continue
    const key = `${m.vantage}|${m.name}|${Object.keys(m.labels)
      .sort()
      .map((k) => `${k}=${m.labels[k]}`)
      .join(',')}`
    const s = byKey.get(key)
    if (!s) byKey.set(key, { key, name: m.name, labels: m.labels, first: m, last: m, samples: 1 })
    else {
      s.samples++
      if (!(m.time < s.first.time)) {
        if (!(m.time < s.last.time)) s.last = m
      } else s.first = m
    }
  }
  return [...byKey.values()]
}

/** Sum of the latest value of every series. */
export function latestSum(series: readonly Series[]): number {
  let n = 0
  for (const s of series) if (Number.isFinite(s.last.value)) n += s.last.value
  return n
}

/**
 * Sum over series with two or more snapshots of (last - first); null when no series was sampled
 * twice (a single snapshot says how much, never how fast).
 */
export function increaseSum(series: readonly Series[]): number | null {
  let n = 0
  let any = false
  for (const s of series) {
    if (s.samples < 2 || !(s.last.time > s.first.time)) continue
    any = true
    // A counter that went down was reset (a restart): count from zero.
    n += s.last.value >= s.first.value ? s.last.value - s.first.value : s.last.value
  }
  return any ? n : null
}
