// A report built the way build-report will build it: findings from the real rules on a context
// with hostile input (a qname that is HTML, a log line with terminal escapes, a hostile file name).
import type { Report } from '../../core/model/report.js'
import { REPORT_SCHEMA } from '../../core/model/report.js'
import { runRules } from '../../core/rules/index.js'
import { reportFindings } from '../../core/report/findings.js'
import { ctx, drop, fact, log, tx, T0 } from '../rules/context.js'

export const HOSTILE_QNAME = '<script>alert(1)</script>.x.'
export const HOSTILE_ATTR = '"onmouseover=alert(1) x=".example.'
export const HOSTILE_PATH = '../../<img src=x onerror=alert(1)>.pcap'
export const ESCAPE_LOG =
  'evil \u001b[2J\u001b[31m cleared \u202e gnp.exe: read udp 10.0.0.9:1234->8.8.8.8:53: i/o timeout'

export function sampleReport(): Report {
  const lost = [0, 1, 2].map((i) =>
    tx({
      qname: i === 0 ? HOSTILE_QNAME : HOSTILE_ATTR,
      clientPort: 40100 + i,
      at: 1e6 * i,
      path: ['pod-a', 'node-a'],
      latencyMs: null,
      input: 1,
    }),
  )
  lost[0].drop = drop('10.0.0.5:40100', '10.96.0.10:53', 'ipt_do_table', 'NETFILTER_DROP', {
    input: 2,
  })
  const answered = Array.from({ length: 12 }, (_, i) =>
    tx({
      qname: `ok${i}.example.com.`,
      clientPort: 41000 + i,
      at: 1e6 * i + 500,
      path: ['pod-a', 'node-a', 'coredns'],
      replyPath: ['coredns', 'node-a', 'pod-a'],
      input: 1,
    }),
  )
  const c = ctx({
    transactions: [...lost, ...answered],
    events: [
      lost[0].drop,
      log(ESCAPE_LOG, { plugin: 'errors', input: 3 }),
      fact({ type: 'kernel', release: '6.1.0' }),
    ],
    inputs: [
      { path: 'bundle/manifest.json', kind: 'manifest', vantage: '' },
      { path: 'pod-a.pcap', kind: 'pcap', vantage: 'pod-a' },
      { path: 'node-a/drops.txt', kind: 'bpftrace', vantage: 'node-a' },
      { path: 'coredns.log', kind: 'coredns-log', vantage: 'coredns' },
    ],
  })
  const { findings } = runRules(c)
  const built = reportFindings({
    fired: findings,
    inputs: c.inputs,
    correlation: c.correlation,
    vantages: c.vantages,
  })
  return {
    schema: REPORT_SCHEMA,
    generator: { name: 'dnsbundle', version: '0.1.0' },
    inputs: [
      {
        path: 'pod-a.pcap',
        kind: 'pcap',
        vantage: 'pod-a',
        events: 30,
        problems: [{ where: 'packet 9', message: `truncated DNS message for ${HOSTILE_QNAME}` }],
      },
      { path: 'node-a/drops.txt', kind: 'bpftrace', vantage: 'node-a', events: 1, problems: [] },
      { path: 'coredns.log', kind: 'coredns-log', vantage: 'coredns', events: 1, problems: [] },
      {
        path: HOSTILE_PATH,
        kind: 'unknown',
        vantage: '',
        events: 0,
        problems: [],
        skipped: 'unrecognised binary format (magic 3c 69 6d 67)',
      },
    ],
    vantages: c.vantages as Report['vantages'],
    summary: {
      messages: 27,
      clientQueries: 15,
      transactions: 15,
      retransmits: 0,
      responses: 12,
      unanswered: 3,
      lookups: 0,
      failedLookups: 0,
      searchExpansionQueries: 0,
      aaaaQueries: 0,
      aaaaNoData: 0,
      forwarderQueries: 0,
      forwarderUnanswered: 0,
      rcodes: { NOERROR: 12 },
      qtypes: { A: 15 },
      latencyMs: { p50: 1, p90: 1, p99: 1, max: 1 },
    },
    verdict: built.verdict,
    alternatives: built.alternatives,
    pattern: built.pattern,
    findings: built.findings,
    worstLookups: [
      {
        client: '10.0.0.5',
        name: HOSTILE_QNAME,
        queries: 1,
        transactionCount: 1,
        outcome: 'timeout',
        wasted: 0,
        durationMs: 5000,
        answeredBy: null,
        start: T0,
        timeline: [
          {
            vantage: 'pod-a',
            time: T0,
            what: `query A? ${HOSTILE_QNAME}`,
            input: 'pod-a.pcap',
            where: 'packet 3 @ byte 412',
          },
          {
            vantage: 'node-a',
            time: T0 + 180,
            what: 'query seen (before DNAT)',
            input: 'node.pcap',
            where: 'packet 7',
          },
          {
            vantage: 'node-a',
            time: T0 + 250,
            what: 'dropped in ipt_do_table (NETFILTER_DROP)',
            input: 'node-a/drops.txt',
            where: 'line 4',
          },
        ],
      },
    ],
    window: { start: T0, end: T0 + 12_000_000 },
  }
}
