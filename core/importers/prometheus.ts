// Prometheus text exposition format 0.0.4 (prometheus/docs content/docs/instrumenting/exposition_formats.md,
// "Text format details"); CoreDNS metric names normalized by core/metrics/coredns-names.ts.
//
// Several snapshots in one file: a collector that scrapes more than once writes a line
//   # dnsbundle-snapshot 2024-05-01T10:00:00Z
// (RFC 3339, any offset, up to 9 fraction digits) before each scrape. Samples after it get that
// time. A sample's own timestamp (milliseconds since the epoch, per the format) wins over the
// marker. Without either, sample times are NaN.
import type { Event, FactEvent, MetricEvent } from '../model/event.js'
import type { Importer, ImportInput, ImportResult, Problem } from './importer.js'
import { normalizeSampleName } from '../metrics/coredns-names.js'

const MAX_PROBLEMS = 100
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

// coredns_dns_responses_total{rcode="NOERROR",server="dns://:53",zone="."} 266
// coredns_panics_total 99
// ebpf_exporter_kfree_skb_total{reason="SKB_DROP_REASON_SOCKET_RCVBUFF"} 1.59664e+06
const SAMPLE_HEAD = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[ \t]*(\{)?/
// # TYPE coredns_cache_entries gauge
const TYPE_LINE = /^#[ \t]+TYPE[ \t]+([a-zA-Z_:][a-zA-Z0-9_:]*)[ \t]+(\w+)[ \t]*$/
// # HELP coredns_cache_entries The number of elements in the cache.
const HELP_LINE = /^#[ \t]+HELP[ \t]+[a-zA-Z_:][a-zA-Z0-9_:]*(?:[ \t]|$)/
// # dnsbundle-snapshot 2024-05-01T10:00:00.5+02:00
const SNAPSHOT_LINE = /^#[ \t]+dnsbundle-snapshot[ \t]+(\S+)[ \t]*$/
// 2024-05-01T10:00:00.123456Z
const RFC3339 =
  /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A parsed sample line, before normalization. */
interface RawSample {
  name: string
  labels: Record<string, string>
  value: number
  /** Sample timestamp in ms, or NaN. */
  timestampMs: number
}

/** Parses one sample line; returns the reason when it is not one. */
export function parseSampleLine(line: string): RawSample | string {
  const head = SAMPLE_HEAD.exec(line)
  if (!head) return 'not a sample, comment or blank line'
  const labels: Record<string, string> = {}
  let i = head[0].length
  if (head[2]) {
    const end = parseLabels(line, i, labels)
    if (typeof end === 'string') return end
    i = end
  }
  const rest = line
    .slice(i)
    .trim()
    .split(/[ \t]+/)
  if (rest[0] === '') return 'sample has no value (line cut off?)'
  const value = parseValue(rest[0])
  if (value === undefined) return `value "${rest[0]}" is not a number`
  if (rest.length > 2) return `unexpected text after the value: "${rest.slice(2).join(' ')}"`
  let timestampMs = NaN
  if (rest.length === 2) {
    if (!/^-?\d+$/.test(rest[1])) return `timestamp "${rest[1]}" is not integer milliseconds`
    timestampMs = Number(rest[1])
  }
  return { name: head[1], labels, value, timestampMs }
}

/** Reads `name="value",...}` from `i` (just after `{`); returns the index after `}` or a reason. */
function parseLabels(line: string, i: number, out: Record<string, string>): number | string {
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++
    if (line[i] === '}') return i + 1
    const eq = line.indexOf('=', i)
    if (eq < 0) return 'label set is not closed (line cut off?)'
    const name = line.slice(i, eq).trim()
    if (!LABEL_NAME.test(name)) return `bad label name "${name.slice(0, 40)}"`
    i = eq + 1
    while (line[i] === ' ' || line[i] === '\t') i++
    if (line[i] !== '"') return `label ${name} has no quoted value`
    let value = ''
    let j = i + 1
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== '\\') continue
      // Escapes in label values: \\, \" and \n (format spec); anything else is kept as written.
      value += line.slice(i + 1, j)
      const c = line[j + 1]
      value += c === 'n' ? '\n' : c === '\\' || c === '"' ? c : '\\' + (c ?? '')
      i = ++j
    }
    if (j >= line.length) return `value of label ${name} is not closed (line cut off?)`
    out[name] = value + line.slice(i + 1, j)
    i = j + 1
    while (line[i] === ' ' || line[i] === '\t') i++
    if (line[i] === ',') i++
    else if (line[i] !== '}') return `expected , or } after label ${name}`
  }
}

/** Go ParseFloat's spellings as the format allows: NaN, +Inf, -Inf, decimal, scientific. */
function parseValue(s: string): number | undefined {
  const lower = s.toLowerCase()
  if (lower === 'nan') return NaN
  if (lower === '+inf' || lower === 'inf') return Infinity
  if (lower === '-inf') return -Infinity
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(s)) return undefined
  return Number(s)
}

/** RFC 3339 time to µs since the epoch, NaN when malformed. */
export function rfc3339Micros(s: string): number {
  const m = RFC3339.exec(s)
  if (!m) return NaN
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])
  const frac = m[7] ? Math.round(Number(m[7].padEnd(9, '0')) / 1000) : 0
  let offsetMin = 0
  if (m[8] !== 'Z' && m[8] !== 'z') {
    offsetMin =
      (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * (m[8][0] === '-' ? -1 : 1)
  }
  return (ms - offsetMin * 60_000) * 1000 + frac
}

function sniff(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 16 * 1024))
  const lines = text.split('\n')
  // The last piece may be a line cut by the 64 KiB head (or a file without a final newline).
  if (head.length >= 16 * 1024) lines.pop()
  let good = 0
  let strong = false
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '') continue
    if (line[0] === '#') {
      if (TYPE_LINE.test(line) || HELP_LINE.test(line)) strong = true
    } else {
      const s = parseSampleLine(line)
      if (typeof s === 'string') return false
      if (Object.keys(s.labels).length > 0) strong = true
    }
    if (++good >= 40) break
  }
  // Bare `name value` lines alone (sysctl-like dumps) are not enough: want HELP/TYPE or labels.
  return good > 0 && strong
}

function parse(input: ImportInput): ImportResult {
  const text = new TextDecoder().decode(input.bytes)
  const bytes = input.bytes
  const events: Event[] = []
  const problems: Problem[] = []
  let dropped = 0
  const problem = (where: string, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ where, message })
    else dropped++
  }

  const types = new Map<string, string>()
  const versions = new Set<string>()
  const seen = new Set<string>()
  let snapshotTime = NaN
  let repeatReported = false
  let pos = 0
  let bpos = 0
  let ref = 0
  while (pos < text.length) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    let bend = bytes.indexOf(10, bpos)
    if (bend < 0) bend = bytes.length
    const offset = bpos
    const line = text.slice(pos, end).trim()
    pos = end + 1
    bpos = bend + 1
    ref++
    if (line === '') continue
    if (line[0] === '#') {
      const t = TYPE_LINE.exec(line)
      if (t) {
        if (TYPES.has(t[2])) types.set(normalizeSampleName(t[1]).name, t[2])
        else problem(`line ${ref}`, `unknown metric TYPE "${t[2]}"`)
        continue
      }
      const snap = SNAPSHOT_LINE.exec(line)
      if (snap) {
        snapshotTime = rfc3339Micros(snap[1])
        if (Number.isNaN(snapshotTime))
          problem(`line ${ref}`, `snapshot time "${snap[1]}" is not RFC 3339`)
        seen.clear()
      }
      continue
    }
    const s = parseSampleLine(line)
    if (typeof s === 'string') {
      problem(`line ${ref}`, `${s}: ${quote(line)}`)
      continue
    }
    const norm = normalizeSampleName(s.name)
    const labels = norm.rename?.addLabels ? { ...s.labels, ...norm.rename.addLabels } : s.labels
    // The label text as written is key enough: one exporter writes a series' labels one way.
    const open = line.indexOf('{')
    const key = open < 0 ? norm.name : norm.name + line.slice(open, line.lastIndexOf('}') + 1)
    if (seen.has(key) && Number.isNaN(s.timestampMs) && !repeatReported) {
      repeatReported = true
      problem(
        `line ${ref}`,
        `series ${norm.name} repeats without a "# dnsbundle-snapshot <time>" line between: ` +
          'several scrapes are mixed and cannot be told apart',
      )
    }
    seen.add(key)
    const time = Number.isNaN(s.timestampMs) ? snapshotTime : s.timestampMs * 1000
    const ev: MetricEvent = {
      kind: 'metric',
      input: input.index,
      ref,
      offset,
      vantage: input.vantage,
      time,
      name: norm.name,
      labels,
      value: s.value,
      type: familyType(types, norm.name, labels),
    }
    if (norm.name !== s.name) ev.originalName = s.name
    events.push(ev)
    if (norm.name === 'coredns_build_info' && labels.version && !versions.has(labels.version)) {
      versions.add(labels.version)
      const fact: FactEvent = {
        kind: 'fact',
        input: input.index,
        ref,
        offset,
        vantage: input.vantage,
        time,
        fact: { type: 'coredns-version', version: labels.version },
      }
      events.push(fact)
    }
  }
  inferFragmentTypes(events)
  if (dropped) problems.push({ where: 'file', message: `${dropped} more problems not listed` })
  // inputs[].events in the report: the samples read (version facts are derived, not counted).
  return { events, problems, eventCount: events.length - versions.size }
}

const HISTOGRAM_PARTS = ['_bucket', '_sum', '_count'] as const

/** The TYPE of the family a sample belongs to; guessed from `le`, `quantile`, `_total` without one. */
function familyType(
  types: Map<string, string>,
  name: string,
  labels: Record<string, string>,
): string {
  const own = types.get(name)
  if (own) return own
  for (const suffix of HISTOGRAM_PARTS) {
    if (!name.endsWith(suffix)) continue
    const t = types.get(name.slice(0, -suffix.length))
    if (t === 'histogram' || t === 'summary') return t
  }
  if (name.endsWith('_bucket') && 'le' in labels) return 'histogram'
  if ('quantile' in labels) return 'summary'
  // No TYPE line (a pasted fragment): `_total` is the counter suffix by Prometheus naming
  // convention (and required by OpenMetrics), so rates can still be taken.
  if (name.endsWith('_total')) return 'counter'
  return 'untyped'
}

/** Fragments without TYPE: a `_sum`/`_count` whose family has buckets in the file is a histogram. */
function inferFragmentTypes(events: Event[]): void {
  const histograms = new Set<string>()
  for (const e of events) {
    if (e.kind === 'metric' && e.type === 'histogram' && e.name.endsWith('_bucket')) {
      histograms.add(e.name.slice(0, -'_bucket'.length))
    }
  }
  if (histograms.size === 0) return
  for (const e of events) {
    if (e.kind !== 'metric' || e.type !== 'untyped') continue
    const base = e.name.replace(/_(sum|count)$/, '')
    if (base !== e.name && histograms.has(base)) e.type = 'histogram'
  }
}

function quote(line: string): string {
  return JSON.stringify(line.length > 80 ? line.slice(0, 80) + '…' : line)
}

export const prometheusImporter: Importer = {
  id: 'prometheus',
  title: 'Prometheus text exposition (CoreDNS /metrics)',
  binary: false,
  sniff,
  parse,
}
