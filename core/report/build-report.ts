// Builds the JSON report (schema dnsbundle.report/v1) from the analysis.
import type { Vantage } from '../model/bundle.js'
import type { DnsMessageEvent } from '../model/event.js'
import type { Report, ReportInput, Summary } from '../model/report.js'
import { REPORT_SCHEMA } from '../model/report.js'
import type { Correlation } from '../correlate/types.js'
import type { FiredFinding } from '../rules/index.js'
import type { Problem } from '../importers/importer.js'

export type AnalyzedInput = ReportInput

export interface BuildReportInput {
  version: string
  inputs: AnalyzedInput[]
  skipped: { path: string; reason: string }[]
  vantages: Vantage[]
  dns: DnsMessageEvent[]
  correlation: Correlation
  findings: FiredFinding[]
  ruleProblems: Problem[]
  detail: boolean
}

export function buildReport(b: BuildReportInput): Report {
  const inputs: ReportInput[] = [...b.inputs]
  for (const s of b.skipped)
    inputs.push({ path: s.path, kind: 'unknown', vantage: '', events: 0, problems: [], skipped: s.reason })
  const summary: Summary = {
    messages: b.dns.filter((e) => e.source !== 'log').length,
    clientQueries: 0,
    transactions: 0,
    retransmits: 0,
    responses: 0,
    unanswered: 0,
    lookups: 0,
    failedLookups: 0,
    searchExpansionQueries: 0,
    aaaaQueries: 0,
    aaaaNoData: 0,
    forwarderQueries: 0,
    forwarderUnanswered: 0,
    rcodes: {},
    qtypes: {},
    latencyMs: { p50: null, p90: null, p99: null, max: null },
  }
  return {
    schema: REPORT_SCHEMA,
    generator: { name: 'dnsbundle', version: b.version },
    inputs,
    vantages: b.vantages,
    summary,
    verdict: null,
    findings: [],
  }
}
