// The seed talk's diagnostic procedure: how often do failures happen (always, only at peaks,
// intermittently) and how widely (whole cluster, some nodes, some pods); the possible causes and
// next steps its two tables give for the answers; then the single most likely root cause among the
// findings, with the runner-ups.
import type { Vantage } from '../model/bundle.js'
import type { Severity } from '../model/report.js'
import type { Transaction } from '../correlate/types.js'
import type { FiredFinding } from './index.js'
import { perSecond, spearman, txFacts, type TxFacts } from './transaction-views.js'

export type Frequency = 'none' | 'always' | 'peaks' | 'intermittent' | 'unknown'
export type Scope = 'none' | 'whole-cluster' | 'some-nodes' | 'some-pods' | 'single-client'

export type TableRow = {
  /** The row's question answer, as the talk words it. */
  answer: string
  possibleCauses: string[]
  next: string[]
  /** Rule ids that implement the row's causes. */
  rules: string[]
  /** `seed` for the talk's own rows, `dnsbundle` for rows the talk does not have. */
  source: 'seed' | 'dnsbundle'
}

/** Seed talk, "Diagnostic Procedure": "How often are failures?" */
export const FREQUENCY_TABLE: Record<'always' | 'peaks' | 'intermittent', TableRow> = {
  always: {
    answer: 'Always',
    possibleCauses: ['config error', 'network issue'],
    next: ['check coredns log'],
    rules: ['config-error', 'packet-drop', 'upstream-failure'],
    source: 'seed',
  },
  peaks: {
    answer: 'Only on peak hours',
    possibleCauses: ['resource limit on cpu, conntrack'],
    next: ['check resource usage on nodes', "check CoreDNS's metrics"],
    rules: ['cpu-starvation', 'conntrack-table-full'],
    source: 'seed',
  },
  intermittent: {
    answer: 'Intermittently',
    possibleCauses: ['conflicts issue caused by port reuse'],
    next: [
      'use log plugin to locate cause first',
      'check coredns pod status',
      'check kernel version',
    ],
    rules: [
      'conntrack-race',
      'ipvs-port-reuse',
      'conntrack-stale-dns',
      'coredns-known-bug',
      'replica-unhealthy',
    ],
    source: 'seed',
  },
}

/** Seed talk, "Diagnostic Procedure": "How many nodes impacted?" (+ rows the talk leaves out). */
export const SCOPE_TABLE: Record<
  'whole-cluster' | 'some-nodes' | 'some-pods' | 'single-client',
  TableRow
> = {
  'whole-cluster': {
    answer: 'Whole cluster',
    possibleCauses: ['misconfig at server-side', 'kubernetes apiserver issue'],
    next: ['check coredns config'],
    rules: [
      'config-error',
      'coredns-known-bug',
      'upstream-failure',
      'cpu-starvation',
      'replica-unhealthy',
    ],
    source: 'seed',
  },
  'some-nodes': {
    answer: 'Only a number of nodes',
    possibleCauses: ['resource limit on cpu, conntrack'],
    next: ['check network connectivity', 'check resource usage on nodes'],
    rules: [
      'conntrack-table-full',
      'conntrack-race',
      'ipvs-port-reuse',
      'conntrack-stale-dns',
      'packet-drop',
      'cpu-starvation',
    ],
    source: 'seed',
  },
  'some-pods': {
    answer: 'Only some pods',
    possibleCauses: ['client-side resolver or node path of those pods'],
    next: ["compare the failing pods' nodes, resolv.conf and resolver library (glibc or musl)"],
    rules: ['conntrack-race', 'conntrack-stale-dns', 'packet-drop', 'config-error'],
    source: 'dnsbundle',
  },
  'single-client': {
    answer: 'One client in the bundle',
    possibleCauses: ['cannot tell from one vantage'],
    next: [
      'make dig tests from different places to confirm the failure scope (seed talk, "Collect")',
    ],
    rules: [],
    source: 'dnsbundle',
  },
}

/** A type (not an interface) so it is assignable to Report.pattern (Record<string, unknown>). */
export type FailurePattern = {
  frequency: Frequency
  scope: Scope
  failures: number
  transactions: number
  failureShare: number
  /** Seconds with client queries, and how many of them saw a failure. */
  seconds: number
  failingSeconds: number
  /** Rank correlation between per-second load and failure rate. */
  loadFailureCorrelation: number | null
  clients: { failing: number; total: number }
  nodes: { failing: number; total: number } | null
  frequencyRow: TableRow | null
  scopeRow: TableRow | null
}

/** How often and how widely client transactions fail. */
export function failurePattern(
  correlation: { transactions: readonly Transaction[] },
  vantages: readonly Vantage[],
): FailurePattern {
  const tx = correlation.transactions
  const facts = txFacts(tx)
  // The failed transactions (isFailed: no rcode, SERVFAIL or REFUSED), and which clients had one.
  const failures = facts.failed.length
  const failingClient = new Uint8Array(facts.clients.length)
  for (const i of facts.failed) failingClient[facts.client[i]] = 1
  const buckets = perSecond(tx)
  const failing = buckets.filter((b) => b.failed > 0).length
  const rho = spearman(
    buckets.map((b) => b.load),
    buckets.map((b) => b.failed / b.load),
  )
  const frequency = classifyFrequency(failures, buckets, rho)
  const { scope, clients, nodes } = classifyScope(tx, facts, failures, failingClient, vantages)
  return {
    frequency,
    scope,
    failures,
    transactions: tx.length,
    failureShare: tx.length ? Math.round((failures / tx.length) * 1e4) / 1e4 : 0,
    seconds: buckets.length,
    failingSeconds: failing,
    loadFailureCorrelation: Number.isNaN(rho) ? null : Math.round(rho * 1000) / 1000,
    clients,
    nodes,
    frequencyRow:
      frequency === 'always' || frequency === 'peaks' || frequency === 'intermittent'
        ? FREQUENCY_TABLE[frequency]
        : null,
    scopeRow: scope === 'none' ? null : SCOPE_TABLE[scope],
  }
}

function classifyFrequency(
  failures: number,
  buckets: ReturnType<typeof perSecond>,
  rho: number,
): Frequency {
  if (failures === 0) return 'none'
  if (buckets.length < 3) return 'unknown'
  // Peaks: the failure rate climbs with the load (not just the failure count, which always does).
  const byLoad = [...buckets].sort((a, b) => a.load - b.load)
  const q = Math.max(1, Math.floor(byLoad.length / 4))
  const rate = (bs: typeof buckets) =>
    bs.reduce((n, b) => n + b.failed, 0) /
    Math.max(
      1,
      bs.reduce((n, b) => n + b.load, 0),
    )
  const low = rate(byLoad.slice(0, q))
  const high = rate(byLoad.slice(-q))
  const varied = byLoad[byLoad.length - 1].load >= 1.5 * byLoad[0].load
  if (varied && rho >= 0.4 && high >= 2 * low && high > 0) return 'peaks'
  const failing = buckets.filter((b) => b.failed > 0).length
  return failing / buckets.length >= 0.6 ? 'always' : 'intermittent'
}

function classifyScope(
  tx: readonly Transaction[],
  facts: TxFacts,
  failures: number,
  failingClient: Uint8Array,
  vantages: readonly Vantage[],
) {
  const nodeOf = new Map(vantages.filter((v) => v.node).map((v) => [v.id, v.node as string]))
  // A client's first transaction says its node (hops are built lazily: do not build them all).
  const clientNode = (c: number) => {
    if (nodeOf.size)
      for (const h of tx[facts.clientFirst[c]].hops) {
        const v = nodeOf.get(h.vantage)
        if (v) return v
      }
    return null
  }
  const allClients = new Set<string>()
  const failClients = new Set<string>()
  const allNodes = new Set<string>()
  const failNodes = new Set<string>()
  facts.clients.forEach((client, c) => {
    allClients.add(client)
    if (failingClient[c]) failClients.add(client)
    const node = clientNode(c)
    if (node === null) return
    allNodes.add(node)
    if (failingClient[c]) failNodes.add(node)
  })
  const clients = { failing: failClients.size, total: allClients.size }
  const nodes = allNodes.size ? { failing: failNodes.size, total: allNodes.size } : null
  let scope: Scope
  if (failures === 0) scope = 'none'
  else if (nodes && nodes.total >= 2)
    scope = nodes.failing / nodes.total >= 0.8 ? 'whole-cluster' : 'some-nodes'
  else if (clients.total <= 1) scope = 'single-client'
  else scope = clients.failing / clients.total >= 0.8 ? 'whole-cluster' : 'some-pods'
  return { scope, clients, nodes }
}

export interface Candidate {
  findingIndex: number
  findingId: string
  title: string
  confidence: number
  score: number
}

const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 1, warning: 0.7, info: 0 }
/** Causes whose mechanism explains packets that packet-drop only locates. */
const DROP_MECHANISMS = [
  'conntrack-race',
  'ipvs-port-reuse',
  'conntrack-stale-dns',
  'conntrack-table-full',
  'cpu-starvation',
]
/** Findings about waste rather than failure: a verdict only when nothing fails. */
const WASTE = ['ndots-amplification', 'aaaa-waste']

/** A finding's title with the detail that tells several findings of one rule apart. */
export function findingTitle(f: FiredFinding): string {
  const d = f.finding.data
  const detail = typeof d.bug === 'string' ? d.bug : typeof d.check === 'string' ? d.check : ''
  return detail ? `${f.rule.title} (${detail})` : f.rule.title
}

/**
 * Ranks the fired findings as root-cause candidates: confidence x severity, discounted for
 * symptoms another finding explains, plus agreement with the failure pattern's table rows.
 * Info findings are never candidates.
 */
export function rankCauses(fired: readonly FiredFinding[], pattern: FailurePattern): Candidate[] {
  const sev = (f: FiredFinding) => f.finding.severity ?? f.rule.severity
  const strong = (id: string) =>
    fired.some((f) => f.rule.id === id && f.finding.confidence >= 0.5 && sev(f) !== 'info')
  const out: Candidate[] = []
  fired.forEach((f, i) => {
    const w = SEVERITY_WEIGHT[sev(f)]
    if (w === 0) return
    const id = f.rule.id
    let kind = 1
    if (id === 'packet-drop') {
      kind = 0.9
      const reasons =
        (f.finding.data.kernelReasons as { reason: string; count: number }[] | undefined) ?? []
      const total = reasons.reduce((n, r) => n + r.count, 0)
      const rcvbuf = reasons
        .filter((r) => /SOCKET_RCVBUFF/.test(r.reason))
        .reduce((n, r) => n + r.count, 0)
      if (strong('cpu-starvation') && total > 0 && rcvbuf * 2 >= total) kind *= 0.4
      else if (DROP_MECHANISMS.some(strong)) kind *= 0.6
    } else if (WASTE.includes(id)) kind = pattern.failures > 0 ? 0.3 : 0.6
    else if (id === 'nxdomain-storm') kind = 0.8
    // Where failures concentrate, not why: a mechanism found at that server explains it.
    else if (id === 'replica-unhealthy') kind = 0.85
    else if (id === 'config-error' && f.finding.data.check === 'missing-observability') return
    let score = f.finding.confidence * w * kind
    if (pattern.frequencyRow?.rules.includes(id)) score += 0.1
    if (pattern.scopeRow?.rules.includes(id)) score += 0.05
    out.push({
      findingIndex: i,
      findingId: id,
      title: findingTitle(f),
      confidence: f.finding.confidence,
      score,
    })
  })
  return out.sort((a, b) => b.score - a.score)
}
