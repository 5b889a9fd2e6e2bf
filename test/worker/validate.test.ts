// core/report/validate.ts: the report contract check the worker applies to uploaded reports.
import { describe, expect, it } from 'vitest'
import { validateReport } from '../../core/report/validate.js'
import { analyzeBundle } from '../../core/analyze.js'
import { openZip } from '../../core/bundle/zip.js'
import { exampleBundle } from './helpers.js'

/** A report as plain JSON, freely mutated by the cases below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test cases break the types on purpose
type Loose = Record<string, any>

/** A real report (the example bundle, with --detail), as a mutable plain object. */
function real(): Loose {
  return JSON.parse(
    JSON.stringify(analyzeBundle(openZip(exampleBundle()), { detail: true, version: 't' })),
  )
}

const transaction = {
  client: '10.0.0.2:40000',
  server: '10.0.0.10:53',
  transport: 'udp',
  id: 4660,
  qname: 'example.com.',
  qtype: 'A',
  answered: true,
  rcode: 'NOERROR',
  copies: 1,
  firstSent: 1700000000000000,
  latencyMs: 1.5,
  hops: [{ vantage: 'node', time: 1700000000000000, what: 'query sent' }],
  lastSeen: 'node',
}

describe('validateReport', () => {
  it('accepts the core’s own report', () => {
    expect(validateReport(real())).toMatchObject({ ok: true })
  })

  it.each<[string, (r: Loose) => void]>([
    ['extra fields anywhere', (r) => ((r.extra = 1), (r.summary.more = { a: 1 }))],
    ['a verdict', (r) => (r.verdict = { findingId: 'x', title: 'X', confidence: 0.9 })],
    [
      'detail transactions and lookups',
      (r) => {
        r.transactions = [transaction]
        r.lookups = [
          {
            client: '10.0.0.2',
            name: 'a',
            queries: 2,
            outcome: 'timeout',
            wasted: 1,
            durationMs: 5000,
          },
        ]
      },
    ],
    [
      'a finding',
      (r) =>
        r.findings.push({
          id: 'conntrack-race',
          severity: 'critical',
          title: 'T',
          confidence: 1,
          data: {},
          evidence: [{ input: 'a.pcap', where: 'packet 3', text: 'x' }],
          mitigation: 'm',
          references: [],
        }),
    ],
  ])('accepts %s', (_what, change) => {
    const r = real()
    change(r)
    expect(validateReport(r)).toMatchObject({ ok: true })
  })

  it.each<[string, (r: Loose) => void, string]>([
    [
      'a wrong schema',
      (r) => (r.schema = 'other/v1'),
      'schema: expected "dnsbundle.report/v1", got "other/v1"',
    ],
    [
      'another generator',
      (r) => (r.generator.name = 'x'),
      'generator.name: expected "dnsbundle", got "x"',
    ],
    ['no summary', (r) => delete r.summary, 'summary: missing'],
    [
      'a negative count',
      (r) => (r.summary.unanswered = -1),
      'summary.unanswered: expected a count (integer ≥ 0), got -1',
    ],
    [
      'a fractional count',
      (r) => (r.summary.messages = 1.5),
      'summary.messages: expected a count (integer ≥ 0), got 1.5',
    ],
    [
      'a string in rcodes',
      (r) => (r.summary.rcodes = { NOERROR: '3' }),
      'summary.rcodes.NOERROR: expected a count (integer ≥ 0), got "3"',
    ],
    [
      'a string latency',
      (r) => (r.summary.latencyMs.p50 = '1ms'),
      'summary.latencyMs.p50: expected a number, got "1ms"',
    ],
    [
      'a confidence over 1',
      (r) => (r.verdict = { findingId: 'x', title: 'X', confidence: 2 }),
      'verdict.confidence: expected a confidence from 0 to 1, got 2',
    ],
    [
      'an unknown severity',
      (r) =>
        r.findings.push({
          id: 'x',
          severity: 'fatal',
          title: 'T',
          confidence: 1,
          data: {},
          evidence: [],
          mitigation: '',
          references: [],
        }),
      'findings[0].severity: expected critical | warning | info, got "fatal"',
    ],
    [
      'problems that are not a list',
      (r) => (r.inputs[0].problems = 'none'),
      'inputs[0].problems: expected an array, got "none"',
    ],
    [
      'an unknown vantage type',
      (r) => (r.vantages[0].type = 'cloud'),
      'vantages[0].type: expected pod | node | dns-server | upstream | unknown, got "cloud"',
    ],
    [
      'a string "answered"',
      (r) => (r.transactions = [{ ...transaction, answered: 'yes' }]),
      'transactions[0].answered: expected true or false, got "yes"',
    ],
    [
      'findings as an object',
      (r) => (r.findings = {}),
      'findings: expected an array, got an object',
    ],
  ])('refuses %s, saying where', (_what, change, problem) => {
    const r = real()
    change(r)
    expect(validateReport(r)).toEqual({ ok: false, problems: [problem] })
  })

  it.each([[null], [[]], ['report'], [42]])('refuses %j', (value) => {
    expect(validateReport(value)).toMatchObject({ ok: false })
  })

  it('lists at most 20 problems', () => {
    const r = real()
    r.inputs = Array.from({ length: 50 }, () => ({}))
    const v = validateReport(r)
    expect(v.ok).toBe(false)
    if (!v.ok) {
      expect(v.problems).toHaveLength(21)
      expect(v.problems[20]).toBe('… and more problems, not listed')
    }
  })
})
