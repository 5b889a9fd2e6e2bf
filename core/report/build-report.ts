// Builds the JSON report (schema dnsbundle.report/v1) from the analysis.
import type { Manifest, Vantage } from '../model/bundle.js'
import { type DnsTable, SOURCE, SOURCES } from '../model/dns-table.js'
import type {
  Hop,
  LatencySummary,
  Report,
  ReportInput,
  ReportLookup,
  ReportTransaction,
  ServerStats,
  Summary,
} from '../model/report.js'
import { REPORT_SCHEMA } from '../model/report.js'
import type { Correlation, Lookup, Transaction } from '../correlate/types.js'
import type { CorrelationStats } from '../correlate/index.js'
import type { FiredFinding } from '../rules/index.js'
import type { Problem } from '../importers/importer.js'
import { qtypeName, rcodeName, QTYPE, RCODE } from '../codec/dns-constants.js'
import { describeDns, whereOf } from './evidence.js'
import { lastOf } from '../correlate/transaction-columns.js'
import { lookupColumnsOf } from '../correlate/group-lookups.js'
import { TxnStore } from '../correlate/txn-store.js'
import { buildFindings } from './findings.js'
import { serverTable } from '../rules/dns-servers.js'
import { select } from '../metrics/select.js'
import {
  HAS_RESPONSE,
  OUTCOME_ADDRESS,
  TIMED,
  type LookupFacts,
  type TxFacts,
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
  /** The bundle's manifest: its Service IPs say which addresses are not servers. */
  manifest?: Manifest
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
  const reviewed = reviewLookups(lookups, txns, WORST_LOOKUPS)
  const servers = serverTable({
    correlation: b.correlation,
    vantages: b.vantages,
    inputs: b.inputs,
    manifest: b.manifest,
  })
  const report: Report = {
    schema: REPORT_SCHEMA,
    generator: { name: 'dnsbundle', version: b.version },
    inputs,
    vantages: b.vantages,
    summary: {
      ...summarize(rows.messages, b.correlation, reviewed),
      ...(servers ? { servers: busiestServers(servers.stats) } : {}),
    },
    verdict,
    findings,
    alternatives,
    pattern,
    window: rows.window,
    resolver: stats.resolver,
    worstLookups: reviewed.worst.map((l) => ({
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

/** Servers the summary lists at most: the busiest (a hostile capture can name thousands). */
export const SUMMARY_SERVERS = 64

function busiestServers(stats: readonly ServerStats[]): ServerStats[] {
  return stats
    .filter((x) => x.transactions > 0)
    .sort((a, b) => b.transactions - a.transactions)
    .slice(0, SUMMARY_SERVERS)
}

function summarize(
  messages: number,
  c: Correlation & { stats: CorrelationStats },
  lookups: LookupReview,
): Summary {
  const counts = countTransactions(txFacts(c.transactions))
  // Named at the end, by number first: a name lookup per transaction is not free.
  const qtypes: Record<string, number> = {}
  for (const qt of counts.qtypeOrder)
    qtypes[qtypeName(qt)] = (qtypes[qtypeName(qt)] ?? 0) + counts.byQtype[qt]
  const rcodes: Record<string, number> = {}
  for (const rc of counts.rcodeOrder)
    rcodes[rcodeName(rc)] = (rcodes[rcodeName(rc)] ?? 0) + counts.byRcode[rc & 0xffff]
  return {
    messages,
    clientQueries: c.stats.clientQueries,
    transactions: counts.n,
    retransmits: c.stats.clientQueries - counts.n,
    responses: c.stats.responses,
    unanswered: counts.unanswered,
    lookups: c.lookups.length,
    failedLookups: lookups.failed,
    searchExpansionQueries: lookups.wasted,
    aaaaQueries: counts.byQtype[QTYPE.AAAA],
    aaaaNoData: counts.aaaaNoData,
    forwarderQueries: c.forwarder.length,
    forwarderUnanswered: c.forwarder.filter((f) => !f.response).length,
    rcodes,
    qtypes,
    latencyMs: percentilesInPlace(answeredLatencies(c.transactions, counts.timed), 1000),
  }
}

/**
 * What the summary counts of the transactions, from the facts the rules read (computed once per
 * analysis, typed arrays) in one pass: transactions by qtype, answered ones by rcode (qtypes and
 * rcodes listed in order of first sight), the unanswered and the timed ones, and AAAA answers
 * without an address.
 */
function countTransactions(f: TxFacts) {
  const { n, qtype, flags, rcode, answerAddrs } = f
  const { AAAA } = QTYPE
  const { NOERROR } = RCODE
  const byQtype = new Int32Array(0x10000)
  const qtypeOrder: number[] = []
  const byRcode = new Int32Array(0x10000)
  const rcodeOrder: number[] = []
  // Unanswered and timed ones are counted by their flags, not by a branch each: this loop runs
  // once per analysis, and a branch first taken after it was optimized costs a deoptimization.
  const byFlags = new Int32Array((HAS_RESPONSE | TIMED) + 1)
  let aaaaNoData = 0
  for (let i = 0; i < n; i++) {
    const qt = qtype[i]
    if (byQtype[qt]++ === 0) qtypeOrder.push(qt)
    const fl = flags[i]
    byFlags[fl & (HAS_RESPONSE | TIMED)]++
    if (fl & HAS_RESPONSE) {
      // The client's rcode, or -1 for a response without one (a CoreDNS log's `-`).
      const rc = rcode[i]
      if (byRcode[rc & 0xffff]++ === 0) rcodeOrder.push(rc)
      if (rc === NOERROR && qt === AAAA && answerAddrs[i] === 0) aaaaNoData++
    }
  }
  const unanswered = byFlags[0] + byFlags[TIMED]
  const timed = byFlags[TIMED] + byFlags[HAS_RESPONSE | TIMED]
  return { n, byQtype, qtypeOrder, byRcode, rcodeOrder, unanswered, timed, aaaaNoData }
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
  const { source, time, length } = dns
  // The earliest and latest time, kept in a typed array: in a local, each new one would be a boxed
  // double while this loop still runs unoptimized. The messages are counted by source rather than
  // tested one by one: the less this loop does, the less it costs before V8 optimizes it.
  const span = new Float64Array([Infinity, -Infinity])
  const bySource = new Int32Array(SOURCES.length)
  for (let e = 0; e < length; e++) {
    const t = time[e]
    if (t > span[1]) span[1] = t
    if (t < span[0]) span[0] = t
    bySource[source[e]]++
  }
  const dnstap = bySource[SOURCE.dnstap]
  const [start, end] = span
  return {
    messages: bySource[SOURCE.capture] + dnstap - (dnstap ? dnstapWithoutId(dns) : 0),
    window: start === Infinity ? { start: null, end: null } : { start, end },
  }
}

/** How many dnstap messages have no id (no wire bytes), read only when some message has none. */
function dnstapWithoutId(dns: DnsTable): number {
  const { source, id, length } = dns
  // -1 is the id column's only negative value.
  if (id.subarray(0, length).indexOf(-1) < 0) return 0
  let count = 0
  for (let e = 0; e < length; e++) if (source[e] === SOURCE.dnstap && id[e] < 0) count++
  return count
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

/** What the report says of the lookups. */
interface LookupReview {
  /** How many got no address. */
  failed: number
  /** Queries spent on search-list candidates before the name that answered, summed. */
  wasted: number
  /** The worst: failed lookups first (longest first), then the slowest successful ones. */
  worst: Lookup[]
}

/**
 * How many lookups failed, how many queries they wasted, and the `n` worst. Worth showing: a
 * lookup that did not go well, or one of whose queries was resent. Only the lookups shown are
 * made: the candidates are scored by index, from the columns when there are any.
 */
function reviewLookups(
  lookups: readonly Lookup[],
  txns: readonly Transaction[],
  n: number,
): LookupReview {
  const facts = lookupFacts(lookups)
  const store = TxnStore.of(txns)
  const chains = lookupColumnsOf(lookups)
  const resent =
    store && chains
      ? resentLookups(store, facts.n)
      : Uint8Array.from(lookups, (l) =>
          l.transactions.some((t) => !(txns[t].copies <= 1)) ? 1 : 0,
        )
  const candidates = new Int32Array(facts.n)
  const tally = tallyLookups(facts, resent, candidates)
  const scores = new Float64Array(tally.count)
  if (store && chains) scoreStoreCandidates(candidates, facts.outcome, store, chains, scores)
  else
    for (let k = 0; k < scores.length; k++) {
      const l = lookups[candidates[k]]
      scores[k] = lookupScore(facts.outcome[candidates[k]], l.end - l.start, l.transactions.length)
    }
  return {
    failed: tally.failed,
    wasted: tally.wasted,
    worst: highestScores(scores, n).map((k) => lookups[candidates[k]]),
  }
}

/** Which of `count` lookups had a query resent (a transaction with copies > 1), by index. */
function resentLookups(store: TxnStore, count: number): Uint8Array {
  const { copies, lookup, length } = store
  const resent = new Uint8Array(count)
  for (let t = 0; t < length; t++) if (copies[t] > 1 && lookup[t] >= 0) resent[lookup[t]] = 1
  return resent
}

/**
 * Counts the failed lookups and sums the queries wasted, in one pass that also writes the
 * candidates (lookups that failed, wasted queries or were resent) to the start of `candidates`,
 * in order; `count` says how many.
 */
function tallyLookups(
  facts: LookupFacts,
  resent: Uint8Array,
  candidates: Int32Array,
): { failed: number; wasted: number; count: number } {
  const { n, outcome, wasted } = facts
  let failed = 0
  let wastedQueries = 0
  let count = 0
  for (let l = 0; l < n; l++) {
    const ok = outcome[l] === OUTCOME_ADDRESS
    if (!ok) failed++
    wastedQueries += wasted[l]
    if (!ok || wasted[l] !== 0 || resent[l] !== 0) candidates[count++] = l
  }
  return { failed, wasted: wastedQueries, count }
}

/**
 * A candidate's score: failed lookups above all others, then by duration, then by size. Never NaN
 * from the store's columns (a lookup without times scores -Infinity); from other lookups a NaN
 * counts as -Infinity too, so that the scores can be selected from.
 */
function lookupScore(outcome: number, duration: number, size: number): number {
  // Summed in this order: the score is a double, and another order could round differently.
  const score = (outcome === OUTCOME_ADDRESS ? 0 : 1e15) + duration + size
  return Number.isNaN(score) ? -Infinity : score
}

/**
 * Scores the first `scores.length` of `candidates`, lookups of the correlator over its TxnStore:
 * their size, start (earliest first send) and end (latest of each transaction's first send and
 * last time) are what Lookup's getters would say, read from the store's columns along each
 * lookup's chain of transactions, without making it.
 */
function scoreStoreCandidates(
  candidates: Int32Array,
  outcome: Uint8Array,
  store: TxnStore,
  chains: { head: Int32Array; next: Int32Array },
  scores: Float64Array,
): void {
  const { head, next } = chains
  const { firstSent, lastTime } = store
  for (let k = 0; k < scores.length; k++) {
    const l = candidates[k]
    let size = 0
    let start = Infinity
    let end = -Infinity
    for (let t = head[l]; t >= 0; t = next[t]) {
      size++
      const sent = firstSent[t]
      if (sent < start) start = sent
      const last = lastOf(sent, lastTime[t])
      if (last > end) end = last
    }
    scores[k] = lookupScore(outcome[l], end - start, size)
  }
}

/**
 * The indexes of the `n` highest of `scores` (no NaN), highest first, equal ones in index order:
 * what a stable sort of all of them would put first. The n highest values are found by selection
 * in a copy, then each one's first occurrences by indexOf, without a loop over every score.
 */
export function highestScores(scores: Float64Array, n: number): number[] {
  const values = scores.slice()
  const from = Math.max(0, values.length - Math.max(0, n))
  if (from > 0 && from < values.length) select(values, 0, values.length - 1, from)
  // The n highest, highest first; equal values are next to each other.
  const top = values.subarray(from).sort().reverse()
  const picked: number[] = []
  for (let j = 0; j < top.length; j++)
    picked.push(scores.indexOf(top[j], j > 0 && top[j] === top[j - 1] ? picked[j - 1] + 1 : 0))
  return picked
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
