// Turns fired rule findings into report findings with evidence, and picks the verdict.
import type { Event } from '../model/event.js'
import type { ReportFinding, ReportInput, Verdict, Severity } from '../model/report.js'
import type { FiredFinding } from '../rules/index.js'
import type { Lookup, Transaction } from '../correlate/types.js'
import { describeDns, whereOf } from './evidence.js'

export interface FindingsContext {
  inputs: readonly ReportInput[]
  transactions: readonly Transaction[]
  lookups: readonly Lookup[]
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 }
const MAX_EVIDENCE = 10

export function buildFindings(
  fired: readonly FiredFinding[],
  ctx: FindingsContext,
): { findings: ReportFinding[]; verdict: Verdict | null; alternatives: Verdict[]; pattern: Record<string, unknown> } {
  const findings = fired.map(({ rule, finding }) => ({
    id: rule.id,
    severity: finding.severity ?? rule.severity,
    title: rule.title,
    confidence: finding.confidence,
    data: finding.data,
    evidence: finding.evidence.slice(0, MAX_EVIDENCE).map((e) => evidenceOf(e, ctx.inputs)),
    mitigation: finding.mitigation ?? rule.mitigation,
    references: rule.references,
  }))
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.confidence - a.confidence)
  const causes = findings.filter((f) => f.severity !== 'info')
  const [first, ...rest] = causes
  return {
    findings,
    verdict: first ? { findingId: first.id, title: first.title, confidence: first.confidence } : null,
    alternatives: rest.map((f) => ({ findingId: f.id, title: f.title, confidence: f.confidence })),
    pattern: {},
  }
}

function evidenceOf(e: Event, inputs: readonly ReportInput[]) {
  const text = e.kind === 'dns' ? describeDns(e) : e.kind === 'log' ? e.message : e.kind
  return { input: inputs[e.input]?.path ?? '?', where: whereOf(e), text }
}
