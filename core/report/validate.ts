// Validates a parsed JSON value against the report contract (core/model/report.ts, schema
// dnsbundle.report/v1): every field the contract names must be there with its type; fields it
// does not name are allowed (the contract lets producers add fields). Used by the worker for
// reports that browsers and the CLI upload.
import type { Report } from '../model/report.js'
import { REPORT_SCHEMA } from '../model/report.js'

export type ReportValidation = { ok: true; report: Report } | { ok: false; problems: string[] }

/** At most this many problems are listed: past that the rest are noise. */
const MAX_PROBLEMS = 20

type Check = (value: unknown, path: string, out: string[]) => void

/**
 * Checks `value` against the report contract.
 * @example
 *   const v = validateReport(JSON.parse(text))
 *   if (!v.ok) console.log(v.problems) // ['summary.messages: expected a count (integer ≥ 0), got "7"']
 */
export function validateReport(value: unknown): ReportValidation {
  const problems: string[] = []
  report(value, '', problems)
  if (problems.length === 0) return { ok: true, report: value as Report }
  // Checking stops soon after the cap, so the count past it is not known: just say there is more.
  const listed = problems.slice(0, MAX_PROBLEMS)
  if (problems.length > MAX_PROBLEMS) listed.push('… and more problems, not listed')
  return { ok: false, problems: listed }
}

const str: Check = (v, path, out) => {
  if (typeof v !== 'string') fail(out, path, 'a string', v)
}
const count: Check = (v, path, out) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(out, path, 'a count (integer ≥ 0)', v)
}
const integer: Check = (v, path, out) => {
  if (!Number.isSafeInteger(v)) fail(out, path, 'an integer', v)
}
const num: Check = (v, path, out) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(out, path, 'a number', v)
}
const bool: Check = (v, path, out) => {
  if (typeof v !== 'boolean') fail(out, path, 'true or false', v)
}
const confidence: Check = (v, path, out) => {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(out, path, 'a confidence from 0 to 1', v)
}
const obj: Check = (v, path, out) => {
  if (!isObject(v)) fail(out, path, 'an object', v)
}
const nullable =
  (check: Check): Check =>
  (v, path, out) => {
    if (v !== null) check(v, path, out)
  }
const oneOf =
  (...allowed: string[]): Check =>
  (v, path, out) => {
    if (typeof v !== 'string' || !allowed.includes(v)) fail(out, path, allowed.join(' | '), v)
  }
const literal =
  (expected: string): Check =>
  (v, path, out) => {
    if (v !== expected) fail(out, path, JSON.stringify(expected), v)
  }
const arrayOf =
  (check: Check): Check =>
  (v, path, out) => {
    if (!Array.isArray(v)) return fail(out, path, 'an array', v)
    for (let i = 0; i < v.length && out.length <= MAX_PROBLEMS; i++)
      check(v[i], `${path}[${i}]`, out)
  }
const recordOf =
  (check: Check): Check =>
  (v, path, out) => {
    if (!isObject(v)) return fail(out, path, 'an object', v)
    for (const [k, x] of Object.entries(v)) check(x, `${path}.${k}`, out)
  }

/** An object with these fields; `?` after a name marks it optional. Other fields pass. */
function shape(fields: Record<string, Check>): Check {
  return (v, path, out) => {
    if (!isObject(v)) return fail(out, path, 'an object', v)
    for (const [spec, check] of Object.entries(fields)) {
      const optional = spec.endsWith('?')
      const name = optional ? spec.slice(0, -1) : spec
      const at = path ? `${path}.${name}` : name
      if (!(name in v) || v[name] === undefined) {
        if (!optional) out.push(`${at}: missing`)
        continue
      }
      check(v[name], at, out)
    }
  }
}

const problem = shape({ where: str, message: str })
const evidence = shape({ input: str, where: str, text: str })
const hop = shape({ vantage: str, time: num, what: str, 'input?': str, 'where?': str })
const verdict = shape({ findingId: str, title: str, confidence })
const lookup = shape({
  client: str,
  name: str,
  queries: count,
  outcome: oneOf('address', 'nxdomain', 'nodata', 'servfail', 'timeout', 'other'),
  wasted: count,
  durationMs: num,
  'answeredBy?': str,
  'transactions?': arrayOf(count),
})

const report = shape({
  schema: literal(REPORT_SCHEMA),
  generator: shape({ name: literal('dnsbundle'), version: str }),
  inputs: arrayOf(
    shape({
      path: str,
      kind: str,
      vantage: str,
      events: count,
      problems: arrayOf(problem),
      'skipped?': str,
      'bytes?': count,
    }),
  ),
  vantages: arrayOf(
    shape({
      id: str,
      type: oneOf('pod', 'node', 'dns-server', 'upstream', 'unknown'),
      name: str,
      'node?': str,
      addresses: arrayOf(str),
    }),
  ),
  summary: shape({
    messages: count,
    clientQueries: count,
    transactions: count,
    retransmits: count,
    responses: count,
    unanswered: count,
    lookups: count,
    failedLookups: count,
    searchExpansionQueries: count,
    aaaaQueries: count,
    aaaaNoData: count,
    forwarderQueries: count,
    forwarderUnanswered: count,
    rcodes: recordOf(count),
    qtypes: recordOf(count),
    latencyMs: shape({
      p50: nullable(num),
      p90: nullable(num),
      p99: nullable(num),
      max: nullable(num),
    }),
    'servers?': arrayOf(
      shape({
        server: str,
        address: nullable(str),
        transactions: count,
        failed: count,
        unanswered: count,
        servfail: count,
        refused: count,
        failureRate: num,
        medianMs: nullable(num),
      }),
    ),
  }),
  verdict: nullable(verdict),
  findings: arrayOf(
    shape({
      id: str,
      severity: oneOf('critical', 'warning', 'info'),
      title: str,
      confidence,
      'summary?': str,
      data: obj,
      evidence: arrayOf(evidence),
      mitigation: str,
      references: arrayOf(str),
    }),
  ),
  'transactions?': arrayOf(
    shape({
      client: str,
      server: str,
      'transport?': str,
      id: integer,
      qname: str,
      qtype: str,
      answered: bool,
      rcode: nullable(str),
      copies: count,
      firstSent: num,
      latencyMs: nullable(num),
      hops: arrayOf(hop),
      lastSeen: str,
    }),
  ),
  'lookups?': arrayOf(lookup),
  'alternatives?': arrayOf(verdict),
})

function fail(out: string[], path: string, expected: string, got: unknown): void {
  out.push(`${path || '(report)'}: expected ${expected}, got ${describe(got)}`)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)
  return String(v)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
