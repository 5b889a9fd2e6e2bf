// What the text, Markdown and HTML reports say, in the same order and words: the verdict sentence,
// the failure pattern, times and percentages. The renderers only add their markup (and escaping).
import type { Hop, Report, ReportFinding, ReportLookup, ServerStats } from '../model/report.js'

export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '?'
  return `${Math.round(x * 1000) / 10}%`
}

export function confidence(c: number): string {
  return `${Math.round(c * 100)}%`
}

/** µs since the epoch as an ISO time with milliseconds; `untimed` for NaN. */
export function isoTime(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return 'untimed'
  return new Date(us / 1000).toISOString()
}

/** A hop's offset from the first hop of its timeline, in ms with µs precision. */
export function offsetMs(us: number, startUs: number): string {
  if (!Number.isFinite(us) || !Number.isFinite(startUs)) return 'untimed'
  const ms = (us - startUs) / 1000
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(3)} ms`
}

/** The finding the verdict names. */
export function verdictFinding(report: Report): ReportFinding | null {
  const v = report.verdict
  if (!v) return null
  if (v.findingIndex !== undefined && report.findings[v.findingIndex]?.id === v.findingId)
    return report.findings[v.findingIndex]
  return (
    report.findings.find((f) => f.id === v.findingId && f.title === v.title) ??
    report.findings.find((f) => f.id === v.findingId) ??
    null
  )
}

/** The first screen's one sentence. */
export function verdictSentence(report: Report): string {
  const v = report.verdict
  if (!v) {
    const n = report.findings.length
    return n === 0
      ? 'No DNS problem found in this bundle.'
      : `No failure cause stands out; ${n} finding${n === 1 ? '' : 's'} below.`
  }
  return `Most likely cause: ${v.title} (confidence ${confidence(v.confidence)}).`
}

export interface PatternView {
  sentence: string
  frequency?: { answer: string; possibleCauses: string[]; next: string[]; source: string }
  scope?: { answer: string; possibleCauses: string[]; next: string[]; source: string }
}

interface PatternRow {
  answer: string
  possibleCauses: string[]
  next: string[]
  source: string
}

const FREQUENCY_WORDS: Record<string, string> = {
  always: 'all the time',
  peaks: 'only at peak load',
  intermittent: 'intermittently, not tied to load',
  unknown: 'too briefly to tell how often',
}
const SCOPE_WORDS: Record<string, string> = {
  'whole-cluster': 'the whole cluster',
  'some-nodes': 'only some nodes',
  'some-pods': 'only some pods',
  'single-client': 'the one client in the bundle',
}

/** "How often, how widely", from report.pattern (the seed's procedure). */
export function patternView(report: Report): PatternView | null {
  const p = report.pattern as
    | {
        frequency?: string
        scope?: string
        failures?: number
        transactions?: number
        failureShare?: number
        seconds?: number
        failingSeconds?: number
        clients?: { failing: number; total: number }
        nodes?: { failing: number; total: number } | null
        frequencyRow?: PatternRow | null
        scopeRow?: PatternRow | null
      }
    | undefined
  if (!p || p.frequency === undefined) return null
  if (!p.transactions)
    return {
      sentence:
        'The bundle has no client queries, so how often and how widely DNS fails cannot be measured.',
    }
  if (p.frequency === 'none')
    return {
      sentence: `No query failed (of ${p.transactions ?? 0}): no timeouts, SERVFAIL or REFUSED.`,
    }
  let s =
    `${p.failures} of ${p.transactions} queries failed (${pct(p.failureShare)}), ` +
    `${FREQUENCY_WORDS[p.frequency] ?? p.frequency}`
  if (p.seconds) s += ` (in ${p.failingSeconds} of ${p.seconds} seconds)`
  if (p.scope && SCOPE_WORDS[p.scope]) {
    s += `, affecting ${SCOPE_WORDS[p.scope]}`
    if (p.nodes && p.nodes.total > 1) s += ` (${p.nodes.failing} of ${p.nodes.total} nodes)`
    else if (p.clients) s += ` (${p.clients.failing} of ${p.clients.total} clients)`
  }
  return {
    sentence: s + '.',
    ...(p.frequencyRow ? { frequency: p.frequencyRow } : {}),
    ...(p.scopeRow ? { scope: p.scopeRow } : {}),
  }
}

export function lookupHeadline(l: ReportLookup): string {
  return (
    `${l.client} asked ${l.name}: ${l.outcome} after ${Math.round(l.durationMs * 1000) / 1000} ms, ` +
    `${l.queries} quer${l.queries === 1 ? 'y' : 'ies'}` +
    (l.wasted ? `, ${l.wasted} wasted` : '')
  )
}

export function hopWhere(h: Hop): string {
  return h.input ? `${h.input}${h.where ? ` ${h.where}` : ''}` : ''
}

export const SEVERITY_LABEL: Record<string, string> = {
  critical: 'CRITICAL',
  warning: 'WARNING',
  info: 'INFO',
}

/** The summary counters in report order, with their labels. */
export function summaryRows(report: Report): [string, string][] {
  const s = report.summary
  const l = s.latencyMs
  const ms = (x: number | null) => (x === null ? '—' : `${x} ms`)
  return [
    ['DNS messages', String(s.messages)],
    ['client queries', String(s.clientQueries)],
    ['transactions', String(s.transactions)],
    ['retransmits', String(s.retransmits)],
    ['responses', String(s.responses)],
    ['unanswered', String(s.unanswered)],
    ['lookups', String(s.lookups)],
    ['failed lookups', String(s.failedLookups)],
    ['search-expansion queries', String(s.searchExpansionQueries)],
    ['AAAA queries', String(s.aaaaQueries)],
    ['AAAA NODATA', String(s.aaaaNoData)],
    ['forwarder queries', String(s.forwarderQueries)],
    ['forwarder unanswered', String(s.forwarderUnanswered)],
    [
      'rcodes',
      Object.entries(s.rcodes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '—',
    ],
    [
      'qtypes',
      Object.entries(s.qtypes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '—',
    ],
    ['latency p50 / p90 / p99 / max', `${ms(l.p50)} / ${ms(l.p90)} / ${ms(l.p99)} / ${ms(l.max)}`],
    ...(s.servers?.length ? [['DNS servers', serversLine(s.servers)] as [string, string]] : []),
  ]
}

/** Servers the summary line names; the JSON has them all. */
const SERVERS_SHOWN = 8

/** Each server with its queries, failures and median latency, the one failing most first. */
export function serversLine(servers: readonly ServerStats[]): string {
  const sorted = [...servers].sort(
    (a, b) => b.failureRate - a.failureRate || b.transactions - a.transactions,
  )
  const shown = sorted
    .slice(0, SERVERS_SHOWN)
    .map(
      (s) =>
        `${s.server}${s.address && s.address !== s.server ? ` (${s.address})` : ''}: ` +
        `${s.transactions} ${s.transactions === 1 ? 'query' : 'queries'}, ${s.failed} failed ` +
        `(${pct(s.failureRate)}), median ${s.medianMs === null ? '—' : `${s.medianMs} ms`}`,
    )
  const more = sorted.length - shown.length
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '')
}

/** Splits text into plain and `code` parts, so each renderer can mark code up its own way. */
export function codeParts(text: string): { code: boolean; text: string }[] {
  const out: { code: boolean; text: string }[] = []
  const re = /`([^`\n]+)`/g
  let last = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ code: false, text: text.slice(last, m.index) })
    out.push({ code: true, text: m[1] })
    last = m.index + m[0].length
  }
  if (last < text.length) out.push({ code: false, text: text.slice(last) })
  return out
}

/** Findings other than the verdict's, in report order (severity, then confidence). */
export function otherFindings(report: Report): ReportFinding[] {
  const v = verdictFinding(report)
  return report.findings.filter((f) => f !== v)
}
