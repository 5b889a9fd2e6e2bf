// The report contract, schema dnsbundle.report/v1. Field names and meanings are documented in
// README.md ("Report format"); other tools read them, so change them only with a new schema.
import type { Vantage } from './bundle.js'

export const REPORT_SCHEMA = 'dnsbundle.report/v1'

export interface ReportInput {
  path: string
  kind: string
  vantage: string
  events: number
  problems: { where: string; message: string }[]
  /** Set for inputs no importer recognised, or that were dropped: why. */
  skipped?: string
  bytes?: number
}

export interface LatencySummary {
  p50: number | null
  p90: number | null
  p99: number | null
  max: number | null
}

export interface Summary {
  messages: number
  clientQueries: number
  transactions: number
  retransmits: number
  responses: number
  unanswered: number
  lookups: number
  failedLookups: number
  searchExpansionQueries: number
  aaaaQueries: number
  aaaaNoData: number
  forwarderQueries: number
  forwarderUnanswered: number
  rcodes: Record<string, number>
  qtypes: Record<string, number>
  latencyMs: LatencySummary
  /**
   * The DNS servers side by side, when the bundle shows two or more handling queries (CoreDNS
   * replicas, a pod's nameservers): which one handled each query comes from its own log, dnstap
   * or capture, or from the endpoint address after DNAT. The 64 busiest, busiest first.
   */
  servers?: ServerStats[]
}

/** One DNS server's share of the transactions. */
export interface ServerStats {
  /** Its vantage id (its log, dnstap or capture), else its address. */
  server: string
  address: string | null
  transactions: number
  /** No answer, SERVFAIL or REFUSED. */
  failed: number
  unanswered: number
  servfail: number
  refused: number
  failureRate: number
  /** Median latency of its answered transactions (ms), null without any. */
  medianMs: number | null
}

export interface EvidenceItem {
  /** Input path. */
  input: string
  /** `line 12`, `packet 7`, `frame 3`, optionally with `@ byte N`. */
  where: string
  /** A short excerpt or description of what is there. */
  text: string
}

export type Severity = 'critical' | 'warning' | 'info'

export interface ReportFinding {
  id: string
  severity: Severity
  title: string
  confidence: number
  /** Plain-language statement built from data by the report layer. */
  summary?: string
  data: Record<string, unknown>
  evidence: EvidenceItem[]
  /** How many evidence events the rule gave; `evidence` shows the first few. */
  evidenceTotal?: number
  mitigation: string
  references: string[]
}

export interface Hop {
  vantage: string
  /** Microseconds since the epoch. */
  time: number
  what: string
  /** Evidence of this hop. */
  input?: string
  where?: string
}

export interface ReportTransaction {
  client: string
  clientPort: number
  server: string
  transport: string
  id: number
  qname: string
  qtype: string
  answered: boolean
  rcode: string | null
  copies: number
  /** Microseconds since the epoch of the first copy. */
  firstSent: number
  latencyMs: number | null
  hops: Hop[]
  lastSeen: string
  /** Index into `lookups`, or -1 (not an A/AAAA query). */
  lookup: number
  drop?: { func: string; reason: string; input: string; where: string } | null
}

export interface ReportLookup {
  client: string
  name: string
  /** Wire queries sent for the lookup, retransmits included. */
  queries: number
  /** Transactions (distinct questions and ids) in the lookup. */
  transactionCount: number
  outcome: 'address' | 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'other'
  wasted: number
  durationMs: number
  /** The candidate name that produced the address, or null. */
  answeredBy: string | null
  /** Microseconds since the epoch. */
  start: number
  /** Indexes into transactions (when --detail). */
  transactions?: number[]
}

export interface Verdict {
  findingId: string
  title: string
  confidence: number
  /** Index into `findings` of the finding this verdict names (a rule can fire more than once). */
  findingIndex?: number
}

export interface Report {
  schema: typeof REPORT_SCHEMA
  generator: { name: 'dnsbundle'; version: string }
  inputs: ReportInput[]
  vantages: Vantage[]
  summary: Summary
  verdict: Verdict | null
  findings: ReportFinding[]
  /** Present with --detail. */
  transactions?: ReportTransaction[]
  /** Present with --detail. */
  lookups?: ReportLookup[]
  /** Worst lookups as timelines, always present (bounded). */
  worstLookups?: (ReportLookup & { timeline: Hop[] })[]
  /** How often and how widely failures happen (the seed's procedure). */
  pattern?: Record<string, unknown>
  /** Runner-up causes. */
  alternatives?: Verdict[]
  /** The resolver configuration used to group lookups, and where it came from. */
  resolver?: {
    search: string[]
    ndots: number
    timeoutSec: number
    attempts: number
    source: string
  }
  /** Time window covered by the evidence (µs since epoch). */
  window?: { start: number | null; end: number | null }
}
