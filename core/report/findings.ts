// Turns the rules' findings (data + evidence events) into the report's findings (worded, with
// evidence as file + packet/line/frame + excerpt), sorted by severity then confidence, and runs the
// seed's procedure for the verdict, its runner-ups and the failure pattern.
import type { Vantage } from '../model/bundle.js'
import type { DnsMessageEvent, Event, NodeFact } from '../model/event.js'
import type { EvidenceItem, ReportFinding, Severity, Verdict } from '../model/report.js'
import type { Lookup, Transaction } from '../correlate/types.js'
import type { FiredFinding } from '../rules/index.js'
import { failurePattern, findingTitle, rankCauses, type FailurePattern } from '../rules/verdict.js'
import { qtypeName, rcodeName } from '../codec/dns-constants.js'
import { whereOf } from './evidence.js'

/** Evidence items shown per finding; the rest are counted in `evidenceTotal`. */
export const EVIDENCE_SHOWN = 10
const EXCERPT_MAX = 200
/** Runner-up causes listed under the verdict. */
const ALTERNATIVES = 3

export interface FindingsInput {
  fired: readonly FiredFinding[]
  /** The report's inputs, indexed like events' `input`. */
  inputs: readonly { path: string }[]
  correlation: { transactions: readonly Transaction[] }
  /** Vantages with their nodes, for the failure scope; without them scope is by client. */
  vantages: readonly Vantage[]
}

/** What build-report hands over. */
export interface FindingsContext {
  inputs: readonly { path: string }[]
  transactions: readonly Transaction[]
  lookups: readonly Lookup[]
  vantages?: readonly Vantage[]
}

export interface FindingsResult {
  findings: ReportFinding[]
  verdict: Verdict | null
  alternatives: Verdict[]
  pattern: FailurePattern
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 }

/**
 * Report findings, verdict, runner-ups and failure pattern.
 * @example
 *   const { findings, verdict, alternatives, pattern } =
 *     reportFindings({ fired: findings, inputs, correlation, vantages })
 */
export function reportFindings(input: FindingsInput): FindingsResult {
  const built = input.fired.map((f, i) => ({ i, finding: toReportFinding(f, input.inputs) }))
  built.sort(
    (a, b) =>
      SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] ||
      b.finding.confidence - a.finding.confidence ||
      a.i - b.i,
  )
  const position = new Map(built.map((b, pos) => [b.i, pos]))
  const pattern = failurePattern(input.correlation, input.vantages)
  const ranked = rankCauses(input.fired, pattern)
  const asVerdict = (c: (typeof ranked)[number]): Verdict => ({
    findingId: c.findingId,
    title: c.title,
    confidence: c.confidence,
    findingIndex: position.get(c.findingIndex),
  })
  return {
    findings: built.map((b) => b.finding),
    verdict: ranked.length ? asVerdict(ranked[0]) : null,
    alternatives: ranked.slice(1, 1 + ALTERNATIVES).map(asVerdict),
    pattern,
  }
}

/**
 * The same, with build-report's arguments.
 * @example
 *   const { findings, verdict, alternatives, pattern } =
 *     buildFindings(b.findings, { inputs: b.inputs, transactions, lookups, vantages: b.vantages })
 */
export function buildFindings(
  fired: readonly FiredFinding[],
  ctx: FindingsContext,
): FindingsResult {
  return reportFindings({
    fired,
    inputs: ctx.inputs,
    correlation: { transactions: ctx.transactions },
    vantages: ctx.vantages ?? [],
  })
}

function toReportFinding(f: FiredFinding, inputs: FindingsInput['inputs']): ReportFinding {
  const { rule, finding } = f
  let summary: string | undefined
  try {
    summary = rule.describe?.(finding.data)
  } catch {
    summary = undefined // wording must never sink the report; the title still says what fired
  }
  return {
    id: rule.id,
    severity: finding.severity ?? rule.severity,
    title: findingTitle(f),
    confidence: Math.round(finding.confidence * 100) / 100,
    ...(summary ? { summary } : {}),
    data: finding.data,
    evidence: finding.evidence.slice(0, EVIDENCE_SHOWN).map((e) => evidenceItem(e, inputs)),
    evidenceTotal: finding.evidence.length,
    mitigation: finding.mitigation ?? rule.mitigation,
    references: rule.references,
  }
}

/** Where an event is in its input, and a one-line excerpt of what it says. */
export function evidenceItem(e: Event, inputs: FindingsInput['inputs']): EvidenceItem {
  return {
    input: inputs[e.input]?.path ?? `input ${e.input}`,
    where: whereOf(e),
    text: clip(excerpt(e)),
  }
}

function clip(s: string): string {
  return s.length > EXCERPT_MAX ? s.slice(0, EXCERPT_MAX - 1) + '…' : s
}

function hostPort(addr: string, port: number): string {
  if (!addr) return '?'
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`
}

function dnsExcerpt(e: DnsMessageEvent): string {
  const type = qtypeName(e.qtype)
  const route = e.dstAddr
    ? `${hostPort(e.srcAddr, e.srcPort)} → ${hostPort(e.dstAddr, e.dstPort)}`
    : hostPort(e.srcAddr, e.srcPort)
  const tap = e.dnstapType ? ` [${e.dnstapType}]` : ''
  if (!e.qr) return `${route} ${type}? ${e.qname} id ${e.id}${tap}`
  const rcode = e.rcode < 0 ? 'no response' : rcodeName(e.rcode)
  const addrs =
    e.answerAddrs >= 0 ? `, ${e.answerAddrs} address${e.answerAddrs === 1 ? '' : 'es'}` : ''
  const dur = e.durationUs !== undefined ? ` in ${Math.round(e.durationUs / 10) / 100} ms` : ''
  return `${route} ${type} ${e.qname} id ${e.id}: ${rcode}${addrs}${dur}${tap}`
}

function factExcerpt(f: NodeFact): string {
  switch (f.type) {
    case 'kernel':
      return `kernel ${f.release}`
    case 'conntrack-stats': {
      const keys = ['insert_failed', 'drop', 'early_drop', 'invalid', 'error']
      const sum = (k: string) => f.totals[k] ?? f.perCpu.reduce((n, c) => n + (c[k] ?? 0), 0)
      return (
        `conntrack -S: ${keys.map((k) => `${k}=${sum(k)}`).join(' ')}` +
        (f.perCpu.length ? ` (${f.perCpu.length} CPUs)` : '')
      )
    }
    case 'conntrack-count':
      return `nf_conntrack_count ${f.count ?? '?'} of nf_conntrack_max ${f.max ?? '?'}`
    case 'conntrack-table-full':
      return f.line
    case 'ipvs-service':
      return (
        `${f.protocol} ${f.vip}:${f.port} ${f.scheduler} → ` +
        f.realServers
          .map(
            (r) =>
              `${r.addr}:${r.port} weight ${r.weight} active ${r.activeConn} inactive ${r.inactConn}`,
          )
          .join('; ')
      )
    case 'ipvs-connection':
      return `${f.protocol} ${f.source} → ${f.virtual} → ${f.destination} ${f.state} expires in ${f.expireSec} s`
    case 'kube-proxy-mode':
      return `kube-proxy mode ${f.mode}`
    case 'resolv-conf':
      return (
        `nameserver ${f.nameservers.join(' ')}; search ${f.search.join(' ')}; ` +
        `options ndots:${f.ndots} timeout:${f.timeout} attempts:${f.attempts}` +
        (f.options.length ? ' ' + f.options.join(' ') : '')
      )
    case 'corefile':
      return `Corefile: ${f.servers.map((s) => `${s.zones.join(' ') || '.'}:${s.port} {${s.plugins.map((p) => p.name).join(' ')}}`).join(' ')}`
    case 'coredns-version':
      return `CoreDNS ${f.version}`
    case 'cpu-limit':
      return `container ${f.container} CPU limit ${f.millicores}m`
    case 'conntrack-entry':
      return (
        `${f.protocol} ${f.state} src=${f.src} dst=${f.dst} sport=${f.sport} dport=${f.dport} reply from ${f.replySrc}` +
        (f.unreplied ? ' [UNREPLIED]' : '')
      )
  }
}

function excerpt(e: Event): string {
  switch (e.kind) {
    case 'dns':
      return dnsExcerpt(e)
    case 'log':
      return `[${e.level.toUpperCase()}]${e.plugin ? ` plugin/${e.plugin}:` : ''} ${e.message}`
    case 'drop':
      return (
        `dropped ${e.protocol} ${hostPort(e.srcAddr, e.srcPort)} → ${hostPort(e.dstAddr, e.dstPort)} in ${e.func || '?'}` +
        (e.reason ? ` (${e.reason})` : '') +
        (e.tool ? ` — ${e.tool}` : '')
      )
    case 'host-lookup':
      return `${e.comm} (pid ${e.pid}) looked up ${e.host} in ${Math.round(e.latencyUs / 10) / 100} ms`
    case 'metric': {
      const labels = Object.entries(e.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')
      return `${e.originalName ?? e.name}${labels ? `{${labels}}` : ''} ${e.value}`
    }
    case 'fact':
      return factExcerpt(e.fact)
  }
}
