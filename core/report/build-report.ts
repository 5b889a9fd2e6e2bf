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
import { lastOf } from '../correlate/transaction-columns.js'
import { lookupColumnsOf } from '../correlate/group-lookups.js'
import { TxnStore } from '../correlate/txn-store.js'
import { buildFindings } from './findings.js'
import { select } from '../metrics/select.js'
import {
  HAS_RESPONSE,
  OUTCOME_ADDRESS,
  TIMED,
  lookupFacts,
  spareBucketLatencies,
  txFacts,
} from '../rules/transaction-views.js'

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

  const rows = dnsRows(b.dns)
  const report: Report = {
    schema: REPORT_SCHEMA,
    generator: { name: 'dnsbundle', version: b.version },
    inputs,
    vantages: b.vantages,
    summary: summarize(rows.messages, b.correlation),
    verdict,
    findings,
    alternatives,
    pattern,
    window: rows.window,
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

function summarize(messages: number, c: Correlation & { stats: CorrelationStats }): Summary {
  // Counted from the facts the rules read (computed once per analysis, typed arrays), by number
  // first and named at the end: a name lookup per transaction is not free. Qtypes and rcodes are
  // listed in order of first sight.
  const f = txFacts(c.transactions)
  const { n, qtype, flags, rcode, answerAddrs } = f
  const byQtype = new Int32Array(0x10000)
  const qtypeOrder: number[] = []
  const byRcode = new Int32Array(0x10000)
  const rcodeOrder: number[] = []
  let answeredWithLatency = 0
  let unanswered = 0
  let aaaaQueries = 0
  let aaaaNoData = 0
  for (let i = 0; i < n; i++) {
    const qt = qtype[i]
    if (byQtype[qt]++ === 0) qtypeOrder.push(qt)
    if (qt === 28) aaaaQueries++
    if (flags[i] & TIMED) answeredWithLatency++
    if (!(flags[i] & HAS_RESPONSE)) {
      unanswered++
      continue
    }
    // The client's rcode, or -1 for a response without one (a CoreDNS log's `-`).
    const rc = rcode[i]
    if (byRcode[rc & 0xffff]++ === 0) rcodeOrder.push(rc)
    if (qt === 28 && rc === RCODE.NOERROR && answerAddrs[i] === 0) aaaaNoData++
  }
  const qtypes: Record<string, number> = {}
  for (const qt of qtypeOrder) qtypes[qtypeName(qt)] = (qtypes[qtypeName(qt)] ?? 0) + byQtype[qt]
  const rcodes: Record<string, number> = {}
  for (const rc of rcodeOrder)
    rcodes[rcodeName(rc)] = (rcodes[rcodeName(rc)] ?? 0) + byRcode[rc & 0xffff]
  const { n: lookups, outcome, wasted } = lookupFacts(c.lookups)
  let failedLookups = 0
  let searchExpansionQueries = 0
  for (let i = 0; i < lookups; i++) {
    if (outcome[i] !== OUTCOME_ADDRESS) failedLookups++
    searchExpansionQueries += wasted[i]
  }
  return {
    messages,
    clientQueries: c.stats.clientQueries,
    transactions: n,
    retransmits: c.stats.clientQueries - n,
    responses: c.stats.responses,
    unanswered,
    lookups,
    failedLookups,
    searchExpansionQueries,
    aaaaQueries,
    aaaaNoData,
    forwarderQueries: c.forwarder.length,
    forwarderUnanswered: c.forwarder.filter((f) => !f.response).length,
    rcodes,
    qtypes,
    latencyMs: percentilesInPlace(answeredLatencies(c.transactions, answeredWithLatency), 1000),
  }
}

/**
 * The latencies (µs) of the `count` answered transactions with one, in an array the caller may
 * reorder. The per-second buckets' copy is borrowed when it is free and holds as many: it holds
 * those with an rcode and a second, a subset, so as many means the same ones.
 */
function answeredLatencies(txns: readonly Transaction[], count: number): Float64Array {
  const spare = spareBucketLatencies(txns)
  if (spare && spare.length === count) return spare
  const { n, flags, latencyUs } = txFacts(txns)
  // Copied a run of consecutive rows at a time: copying one by one would box each double while
  // this loop still runs unoptimized.
  const latencies = new Float64Array(count)
  let at = 0
  let run = -1
  for (let i = 0; i < n; i++)
    if (flags[i] & TIMED) {
      if (run < 0) run = i
    } else if (run >= 0) {
      latencies.set(latencyUs.subarray(run, i), at)
      at += i - run
      run = -1
    }
  if (run >= 0) latencies.set(latencyUs.subarray(run, n), at)
  return latencies
}

/** Nearest-rank percentiles, in milliseconds rounded to microseconds. */
export function percentiles(values: ArrayLike<number>): LatencySummary {
  return percentilesInPlace(Float64Array.from(values), 1)
}

/**
 * percentiles of values the caller owns, in units `per` to the millisecond: reorders them rather
 * than selecting in a copy. Only the results are divided: x / per keeps the values' order, so the
 * value at each rank is the same as if each value had been divided first.
 */
function percentilesInPlace(v: Float64Array, per: number): LatencySummary {
  if (v.length === 0) return { p50: null, p90: null, p99: null, max: null }
  // Three ranks and the maximum of half a million values: selection, not a sort. Each selection
  // leaves everything above its rank to its right, so the next one searches only there.
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
  const ms = (x: number) => round3(x / per)
  return { p50: ms(p50), p90: ms(p90), p99: ms(p99), max: ms(max) }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}

/**
 * What the report says of the DNS messages as stored, in one pass over them: how many are client
 * or server messages (captured, or dnstap messages with an id), and the time they span.
 */
function dnsRows(dns: DnsTable): {
  messages: number
  window: { start: number | null; end: number | null }
} {
  const { source, id, time, length } = dns
  let messages = 0
  // The earliest and latest time, kept in a typed array: in a local, each new one would be a boxed
  // double while this loop still runs unoptimized. Rows come about in time order, so a time is
  // mostly a new latest one.
  const span = new Float64Array([Infinity, -Infinity])
  for (let e = 0; e < length; e++) {
    if (source[e] === SOURCE.capture || (source[e] === SOURCE.dnstap && id[e] >= 0)) messages++
    if (time[e] > span[1]) {
      span[1] = time[e]
      if (time[e] < span[0]) span[0] = time[e]
    } else if (time[e] < span[0]) span[0] = time[e]
  }
  const [start, end] = span
  return {
    messages,
    window: start === Infinity ? { start: null, end: null } : { start, end },
  }
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
  const { n: total, outcome, wasted } = lookupFacts(lookups)
  // Worth showing: a lookup that did not go well, or one of whose queries was resent.
  const candidate = new Uint8Array(total)
  for (let i = 0; i < total; i++)
    if (outcome[i] !== OUTCOME_ADDRESS || wasted[i] !== 0) candidate[i] = 1
  const spans = candidateSpans(txns, lookups, candidate)
  if (!spans)
    for (let i = 0; i < total; i++)
      if (!candidate[i] && lookups[i].transactions.some((t) => !(txns[t].copies <= 1)))
        candidate[i] = 1
  // Scored by index (from the columns when there are any, else through each candidate's
  // getters); only the lookups shown are made.
  const top: { i: number; score: number }[] = []
  const byScore = (a: { score: number }, b: { score: number }) => b.score - a.score
  for (let i = 0; i < total; i++) {
    if (!candidate[i]) continue
    let duration: number
    let size: number
    if (spans) {
      duration = spans.end[i] - spans.start[i]
      size = spans.count[i]
    } else {
      const l = lookups[i]
      duration = l.end - l.start
      size = l.transactions.length
    }
    // Summed in this order: the score is a double, and another order could round differently.
    top.push({ i, score: (outcome[i] === OUTCOME_ADDRESS ? 0 : 1e15) + duration + size })
    if (top.length > n * 4) {
      top.sort(byScore)
      top.length = n
    }
  }
  return top
    .sort(byScore)
    .slice(0, n)
    .map((x) => lookups[x.i])
}

/**
 * For the correlator's lookups over its TxnStore, what Lookup's getters would say of each
 * candidate lookup: its transaction count, start (earliest first send) and end (latest of each
 * transaction's first send and last time). Marks as candidates the lookups one of whose queries was
 * resent. Read from the store's `lookup`, `copies`, `firstSent` and `lastTime` columns and the
 * lookups' chains of transactions, without making a lookup: only the candidates' own transactions
 * are walked. Null for other transactions or lookups.
 */
function candidateSpans(
  txns: readonly Transaction[],
  lookups: readonly Lookup[],
  candidate: Uint8Array,
): { count: Int32Array; start: Float64Array; end: Float64Array } | null {
  const store = TxnStore.of(txns)
  const chains = lookupColumnsOf(lookups)
  if (!store || !chains) return null
  const { lookup, copies, firstSent, lastTime, length } = store
  for (let t = 0; t < length; t++)
    if (copies[t] > 1) {
      const l = lookup[t]
      if (l >= 0) candidate[l] = 1
    }
  const { head, next } = chains
  const count = new Int32Array(candidate.length)
  const start = new Float64Array(candidate.length).fill(Infinity)
  const end = new Float64Array(candidate.length).fill(-Infinity)
  for (let l = 0; l < candidate.length; l++) {
    if (!candidate[l]) continue
    for (let t = head[l]; t >= 0; t = next[t]) {
      count[l]++
      const sent = firstSent[t]
      if (sent < start[l]) start[l] = sent
      const last = lastOf(sent, lastTime[t])
      if (last > end[l]) end[l] = last
    }
  }
  return { count, start, end }
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
