// Builds the JSON report (schema dnsbundle.report/v1) from the analysis.
import type { Vantage } from '../model/bundle.js'
import { type DnsTable, SOURCE } from '../model/dns-table.js'
import type {
  Hop,
  LatencySummary,
  Report,
  ReportInput,
  ReportLookup,
  ReportTransaction,
  Summary,
} from '../model/report.js'
import { REPORT_SCHEMA } from '../model/report.js'
import type { Correlation, Lookup, Transaction } from '../correlate/types.js'
import type { CorrelationStats } from '../correlate/index.js'
import type { FiredFinding } from '../rules/index.js'
import type { Problem } from '../importers/importer.js'
import { qtypeName, rcodeName, RCODE } from '../codec/dns-constants.js'
import { describeDns, whereOf } from './evidence.js'
import { buildFindings } from './findings.js'
import { select } from '../metrics/select.js'

export type AnalyzedInput = ReportInput

export interface BuildReportInput {
  version: string
  inputs: AnalyzedInput[]
  skipped: { path: string; reason: string }[]
  vantages: Vantage[]
  dns: DnsTable
  correlation: Correlation & { stats: CorrelationStats }
  findings: FiredFinding[]
  ruleProblems: Problem[]
  detail: boolean
}

/** How many failed or slow lookups the report shows as timelines. */
export const WORST_LOOKUPS = 10

export function buildReport(b: BuildReportInput): Report {
  const inputs: ReportInput[] = [...b.inputs]
  for (const s of b.skipped)
    inputs.push({
      path: s.path,
      kind: 'unknown',
      vantage: '',
      events: 0,
      problems: [],
      skipped: s.reason,
    })
  if (b.ruleProblems.length)
    inputs.push({
      path: '(rules)',
      kind: 'internal',
      vantage: '',
      events: 0,
      problems: b.ruleProblems,
    })

  const { transactions: txns, lookups, stats } = b.correlation
  const pathOf = (e: { input: number }) => b.inputs[e.input]?.path ?? '?'
  const { findings, verdict, alternatives, pattern } = buildFindings(b.findings, {
    inputs: b.inputs,
    transactions: txns,
    lookups,
    vantages: b.vantages,
  })

  const report: Report = {
    schema: REPORT_SCHEMA,
    generator: { name: 'dnsbundle', version: b.version },
    inputs,
    vantages: b.vantages,
    summary: summarize(b.dns, b.correlation),
    verdict,
    findings,
    alternatives,
    pattern,
    window: timeWindow(b.dns),
    resolver: stats.resolver,
    worstLookups: worstLookups(lookups, txns, WORST_LOOKUPS).map((l) => ({
      ...toReportLookup(l, txns, false),
      timeline: lookupTimeline(l, txns, pathOf),
    })),
  }
  if (b.detail) {
    report.transactions = txns.map((t) => toReportTransaction(t, pathOf))
    report.lookups = lookups.map((l) => toReportLookup(l, txns, true))
  }
  return report
}

function summarize(dns: DnsTable, c: Correlation & { stats: CorrelationStats }): Summary {
  let messages = 0
  for (let e = 0; e < dns.length; e++)
    if (dns.source[e] === SOURCE.capture || (dns.source[e] === SOURCE.dnstap && dns.id[e] >= 0))
      messages++
  // Counted by number first, named at the end: a name lookup per transaction is not free.
  const byQtype = new Map<number, number>()
  const byRcode = new Map<number, number>()
  const latencies = new Float64Array(c.transactions.length)
  let answeredWithLatency = 0
  let unanswered = 0
  let aaaaQueries = 0
  let aaaaNoData = 0
  for (const t of c.transactions) {
    const qtype = t.qtype
    byQtype.set(qtype, (byQtype.get(qtype) ?? 0) + 1)
    if (qtype === 28) aaaaQueries++
    const rcode = t.rcode
    if (rcode === null) {
      unanswered++
      continue
    }
    byRcode.set(rcode, (byRcode.get(rcode) ?? 0) + 1)
    if (qtype === 28 && rcode === RCODE.NOERROR && t.answerAddrs === 0) aaaaNoData++
    const latency = t.latencyUs
    if (latency !== null) latencies[answeredWithLatency++] = latency / 1000
  }
  const qtypes: Record<string, number> = {}
  for (const [qt, n] of byQtype) qtypes[qtypeName(qt)] = (qtypes[qtypeName(qt)] ?? 0) + n
  const rcodes: Record<string, number> = {}
  for (const [rc, n] of byRcode) rcodes[rcodeName(rc)] = (rcodes[rcodeName(rc)] ?? 0) + n
  const lookups = c.lookups
  return {
    messages,
    clientQueries: c.stats.clientQueries,
    transactions: c.transactions.length,
    retransmits: c.stats.clientQueries - c.transactions.length,
    responses: c.stats.responses,
    unanswered,
    lookups: lookups.length,
    failedLookups: lookups.filter((l) => l.outcome !== 'address').length,
    searchExpansionQueries: lookups.reduce((n, l) => n + l.wasted, 0),
    aaaaQueries,
    aaaaNoData,
    forwarderQueries: c.forwarder.length,
    forwarderUnanswered: c.forwarder.filter((f) => !f.response).length,
    rcodes,
    qtypes,
    latencyMs: percentiles(latencies.subarray(0, answeredWithLatency)),
  }
}

/** Nearest-rank percentiles, in milliseconds rounded to microseconds. */
export function percentiles(values: ArrayLike<number>): LatencySummary {
  if (values.length === 0) return { p50: null, p90: null, p99: null, max: null }
  // Three ranks and the maximum of half a million values: selection, not a sort. Each selection
  // leaves everything above its rank to its right, so the next one searches only there.
  const v = Float64Array.from(values)
  const n = v.length
  const rank = (q: number) => Math.min(n - 1, Math.ceil(q * n) - 1)
  const at = (from: number, k: number) => {
    select(v, from, n - 1, k)
    return v[k]
  }
  const p50 = at(0, rank(0.5))
  const p90 = at(rank(0.5), rank(0.9))
  const p99 = at(rank(0.9), rank(0.99))
  let max = -Infinity
  for (let i = rank(0.99); i < n; i++) if (v[i] > max) max = v[i]
  return { p50: round3(p50), p90: round3(p90), p99: round3(p99), max: round3(max) }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}

function timeWindow(dns: DnsTable): { start: number | null; end: number | null } {
  let start = Infinity
  let end = -Infinity
  for (let e = 0; e < dns.length; e++) {
    const t = dns.time[e]
    if (t < start) start = t
    if (t > end) end = t
  }
  return start === Infinity ? { start: null, end: null } : { start, end }
}

function toReportTransaction(
  t: Transaction,
  pathOf: (e: { input: number }) => string,
): ReportTransaction {
  return {
    client: t.client,
    clientPort: t.clientPort,
    server: t.server,
    transport: t.transport,
    id: t.id,
    qname: t.qname,
    qtype: qtypeName(t.qtype),
    answered: t.answered,
    rcode: t.rcode === null ? null : rcodeName(t.rcode),
    copies: t.copies,
    firstSent: t.firstSent,
    latencyMs: t.latencyUs === null ? null : round3(t.latencyUs / 1000),
    hops: t.hops.map((h) => ({
      vantage: h.vantage,
      time: h.time,
      what: h.what,
      input: pathOf(h.event),
      where: whereOf(h.event),
    })),
    lastSeen: t.lastSeen,
    lookup: t.lookup,
    drop: t.drop
      ? { func: t.drop.func, reason: t.drop.reason, input: pathOf(t.drop), where: whereOf(t.drop) }
      : null,
  }
}

function toReportLookup(
  l: Lookup,
  txns: readonly Transaction[],
  withIndexes: boolean,
): ReportLookup {
  return {
    client: l.client,
    name: l.name,
    queries: l.transactions.reduce((n, i) => n + Math.max(1, txns[i].copies), 0),
    transactionCount: l.transactions.length,
    outcome: l.outcome,
    wasted: l.wasted,
    durationMs: round3((l.end - l.start) / 1000),
    answeredBy: l.answeredName,
    start: l.start,
    ...(withIndexes ? { transactions: l.transactions } : {}),
  }
}

/** Failed lookups first (longest first), then the slowest successful ones. */
function worstLookups(
  lookups: readonly Lookup[],
  txns: readonly Transaction[],
  n: number,
): Lookup[] {
  const score = (l: Lookup) =>
    (l.outcome === 'address' ? 0 : 1e15) + (l.end - l.start) + l.transactions.length
  const top: Lookup[] = []
  for (const l of lookups) {
    if (
      l.outcome === 'address' &&
      l.wasted === 0 &&
      l.transactions.every((i) => txns[i].copies <= 1)
    )
      continue
    top.push(l)
    if (top.length > n * 4) {
      top.sort((a, b) => score(b) - score(a))
      top.length = n
    }
  }
  return top.sort((a, b) => score(b) - score(a)).slice(0, n)
}

function lookupTimeline(
  l: Lookup,
  txns: readonly Transaction[],
  pathOf: (e: { input: number }) => string,
): Hop[] {
  const hops: Hop[] = []
  for (const i of l.transactions) {
    const t = txns[i]
    for (const h of t.hops)
      hops.push({
        vantage: h.vantage,
        time: h.time,
        what: `${h.what}: ${describeDns(h.event)}`,
        input: pathOf(h.event),
        where: whereOf(h.event),
      })
    if (!t.answered)
      hops.push({
        vantage: t.lastSeen,
        time: t.hops.length ? t.hops[t.hops.length - 1].time : t.firstSent,
        what: `never answered; last seen at ${t.lastSeen}${t.drop ? `; kernel dropped it in ${t.drop.func || '?'} (${t.drop.reason || 'no reason'})` : ''}`,
      })
  }
  return hops.sort((a, b) => a.time - b.time)
}
