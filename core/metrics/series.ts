// Pure helpers over MetricEvents for the rules: series grouping, rates between snapshots, and
// classic-histogram quantiles with the semantics of PromQL's histogram_quantile
// (prometheus/prometheus promql/quantile.go, bucketQuantile).
import type { FactEvent, MetricEvent } from '../model/event.js'
import { isBreakdownOf } from './coredns-names.js'

/** One sample of one series. */
export interface Point {
  /** µs since the epoch, NaN when unknown. */
  time: number
  value: number
}

/** All samples of one metric name + label set, oldest first. */
export interface Series {
  key: string
  name: string
  labels: Readonly<Record<string, string>>
  type: string
  points: Point[]
}

/**
 * A stable id for a name and label set (labels sorted by name).
 * @example seriesKey('coredns_panics_total', {}) // 'coredns_panics_total{}'
 */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort()
  let key = name + '{'
  for (let i = 0; i < names.length; i++) {
    key += (i ? ',' : '') + names[i] + '=' + JSON.stringify(labels[names[i]])
  }
  return key + '}'
}

/** Groups samples into series; points are sorted by time (NaN times keep file order, first). */
export function groupSeries(samples: readonly MetricEvent[]): Map<string, Series> {
  const out = new Map<string, Series>()
  for (const s of samples) {
    const key = seriesKey(s.name, s.labels)
    let series = out.get(key)
    if (!series) {
      series = { key, name: s.name, labels: s.labels, type: s.type, points: [] }
      out.set(key, series)
    }
    series.points.push({ time: s.time, value: s.value })
  }
  for (const series of out.values()) {
    series.points.sort((a, b) =>
      Number.isNaN(a.time) ? -1 : Number.isNaN(b.time) ? 1 : a.time - b.time,
    )
  }
  return out
}

/** The distinct snapshot times in a set of samples, oldest first (NaN excluded). */
export function snapshotTimes(samples: readonly MetricEvent[]): number[] {
  const times = new Set<number>()
  for (const s of samples) if (!Number.isNaN(s.time)) times.add(s.time)
  return [...times].sort((a, b) => a - b)
}

/** What a counter did between two samples. */
export interface CounterChange {
  /** Increase over the interval; after a reset, the later value (the count restarted at 0). */
  increase: number
  /** Per second. NaN when either time is unknown or the interval is not positive. */
  rate: number
  /** The later value was lower: the process restarted (CoreDNS pod restart) in between. */
  reset: boolean
}

/**
 * Increase and per-second rate of a counter between two samples, with PromQL's reset rule
 * (a decrease means the counter restarted from 0). No extrapolation: two scrapes are all we have.
 * @example counterChange({ time: 0, value: 10 }, { time: 10e6, value: 30 }) // rate 2
 */
export function counterChange(earlier: Point, later: Point): CounterChange {
  const reset = later.value < earlier.value
  const increase = reset ? later.value : later.value - earlier.value
  const dt = (later.time - earlier.time) / 1e6
  const rate = dt > 0 ? increase / dt : NaN
  return { increase, rate, reset }
}

/** `counterChange` under the name the rules use. */
export function rate(earlier: Point, later: Point): number {
  return counterChange(earlier, later).rate
}

/** One series' change between two snapshots. */
export interface SeriesChange extends CounterChange {
  name: string
  labels: Readonly<Record<string, string>>
}

/**
 * Changes of every series of `name` present in both snapshots (matched by label set).
 * Series only in one snapshot are left out: nothing can be said of their rate.
 */
export function changesBetween(
  earlier: readonly MetricEvent[],
  later: readonly MetricEvent[],
  name: string,
): SeriesChange[] {
  const before = new Map<string, MetricEvent>()
  for (const s of earlier) if (s.name === name) before.set(seriesKey(s.name, s.labels), s)
  const out: SeriesChange[] = []
  for (const s of later) {
    if (s.name !== name) continue
    const a = before.get(seriesKey(s.name, s.labels))
    if (a) out.push({ name, labels: s.labels, ...counterChange(a, s) })
  }
  return out
}

/**
 * Samples of one normalized family, from one partition only. Before 1.7 CoreDNS exported
 * requests twice (request_count_total by zone/proto, request_type_count_total by type) and
 * both normalize to coredns_dns_requests_total: summing all would double the count. This keeps
 * the type breakdown only when `by` asks for a label that only it has.
 */
export function familySamples(
  samples: readonly MetricEvent[],
  name: string,
  by: readonly string[] = [],
): MetricEvent[] {
  const all = samples.filter((s) => s.name === name)
  const main = all.filter((s) => !isBreakdownOf(s.originalName))
  if (main.length === all.length) return all
  const breakdown = all.filter((s) => isBreakdownOf(s.originalName))
  const mainHasBy = main.length > 0 && by.every((l) => l in main[0].labels)
  return mainHasBy || by.length === 0 ? main : breakdown
}

/** Sums samples (one snapshot) grouped by the given labels. Key is the JSON of the label values. */
export function sumBy(samples: readonly MetricEvent[], by: readonly string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of samples) {
    const key = JSON.stringify(by.map((l) => s.labels[l] ?? ''))
    out.set(key, (out.get(key) ?? 0) + s.value)
  }
  return out
}

/** One classic-histogram bucket: cumulative count of observations <= le. */
export interface Bucket {
  le: number
  count: number
}

/** The buckets of each histogram series of `family` (its `_bucket` samples), keyed without `le`. */
export function histogramBuckets(
  samples: readonly MetricEvent[],
  family: string,
): Map<string, { labels: Record<string, string>; buckets: Bucket[] }> {
  const out = new Map<string, { labels: Record<string, string>; buckets: Bucket[] }>()
  const name = family + '_bucket'
  for (const s of samples) {
    if (s.name !== name || s.labels.le === undefined) continue
    const { le, ...labels } = s.labels
    const key = seriesKey(family, labels)
    let h = out.get(key)
    if (!h) out.set(key, (h = { labels, buckets: [] }))
    h.buckets.push({ le: parseLe(le), count: s.value })
  }
  return out
}

function parseLe(le: string): number {
  const l = le.toLowerCase()
  return l === '+inf' || l === 'inf' ? Infinity : l === '-inf' ? -Infinity : Number(le)
}

/**
 * The q-quantile of a classic histogram, as PromQL's histogram_quantile: linear interpolation
 * inside the bucket, lower bound 0 for the first bucket when its bound is positive, the
 * second-highest bound when the rank falls in the +Inf bucket. NaN with fewer than two buckets,
 * no +Inf bucket or no observations; -Inf for q < 0, +Inf for q > 1.
 * @example histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: 2, count: 10 }, { le: Infinity, count: 10 }]) // 1.5
 */
export function histogramQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN
  if (q < 0) return -Infinity
  if (q > 1) return Infinity
  if (input.length === 0) return NaN
  const sorted = [...input].sort((a, b) => a.le - b.le)
  if (sorted[sorted.length - 1].le !== Infinity) return NaN
  // Buckets with the same bound (from several series) add up; then take the running maximum so
  // counts never fall with a rising bound (values rounded in transit can break monotonicity).
  const buckets: Bucket[] = []
  for (const b of sorted) {
    const last = buckets[buckets.length - 1]
    if (last && last.le === b.le) last.count += b.count
    else buckets.push({ le: b.le, count: b.count })
  }
  for (let i = 1; i < buckets.length; i++) {
    const prev = buckets[i - 1].count
    const cur = buckets[i].count
    if (cur < prev || (cur !== prev && Math.abs(cur - prev) / cur <= 1e-12)) buckets[i].count = prev
  }
  if (buckets.length < 2) return NaN
  const observations = buckets[buckets.length - 1].count
  if (!(observations > 0)) return NaN
  let rank = q * observations
  let b = 0
  while (b < buckets.length - 1 && buckets[b].count < rank) b++
  if (b === buckets.length - 1) return buckets[buckets.length - 2].le
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le
  let start = 0
  let count = buckets[b].count
  if (b > 0) {
    start = buckets[b - 1].le
    count -= buckets[b - 1].count
    rank -= buckets[b - 1].count
  }
  return start + (buckets[b].le - start) * (rank / count)
}

/**
 * The CoreDNS version a set of events names (build_info, a log banner), or '' when none does.
 * When several differ (a rolling upgrade), the one seen most often wins.
 */
export function coreDnsVersion(facts: readonly FactEvent[]): string {
  const counts = new Map<string, number>()
  for (const f of facts) {
    if (f.fact.type === 'coredns-version')
      counts.set(f.fact.version, (counts.get(f.fact.version) ?? 0) + 1)
  }
  let best = ''
  let bestCount = 0
  for (const [v, n] of counts) if (n > bestCount) [best, bestCount] = [v, n]
  return best
}
