// core/report/findings.ts: evidence pointers and excerpts, the evidence cap, the order of findings,
// wording from data, and a rule whose wording throws.
import { describe, expect, it } from 'vitest'
import { evidenceItem, reportFindings, EVIDENCE_SHOWN } from '../../core/report/findings.js'
import type { FiredFinding } from '../../core/rules/index.js'
import type { Rule } from '../../core/rules/rule.js'
import { ctx, dns, drop, fact, log, metric } from '../rules/context.js'

const inputs = [
  { path: 'pod-a.pcap' },
  { path: 'coredns.dnstap' },
  { path: 'coredns.log' },
  { path: 'node/facts.txt' },
]

describe('evidenceItem', () => {
  it('points at packet and byte for a capture, frame for dnstap, line for text', () => {
    const q = dns({
      qname: 'example.com.',
      qtype: 1,
      id: 4242,
      srcAddr: '10.0.0.5',
      srcPort: 41234,
      ref: 17,
      offset: 2310,
    })
    expect(evidenceItem(q, inputs)).toEqual({
      input: 'pod-a.pcap',
      where: 'packet 17 @ byte 2310',
      text: '10.0.0.5:41234 → 10.96.0.10:53 A? example.com. id 4242',
    })
    const r = dns({
      qname: 'example.com.',
      qtype: 28,
      qr: true,
      id: 4242,
      srcAddr: '10.96.0.10',
      srcPort: 53,
      dstAddr: '10.0.0.5',
      dstPort: 41234,
      rcode: 0,
      answerAddrs: 0,
      input: 1,
      ref: 3,
      source: 'dnstap',
      dnstapType: 'CLIENT_RESPONSE',
    })
    expect(evidenceItem(r, inputs)).toEqual({
      input: 'coredns.dnstap',
      where: 'frame 3 @ byte 40',
      text: '10.96.0.10:53 → 10.0.0.5:41234 AAAA example.com. id 4242: NOERROR, 0 addresses [CLIENT_RESPONSE]',
    })
    // A CoreDNS log line names only the client, and may say no response was sent (rcode -).
    const l = dns({
      qname: 'cognito-idp.us-east-1.amazonaws.com.',
      qtype: 28,
      qr: true,
      id: 59952,
      srcAddr: '172.30.32.1',
      srcPort: 35887,
      dstAddr: '',
      rcode: -1,
      durationUs: 6_002_435,
      input: 2,
      ref: 1,
      source: 'log',
    })
    expect(evidenceItem(l, inputs)).toEqual({
      input: 'coredns.log',
      where: 'line 1',
      text: '172.30.32.1:35887 AAAA cognito-idp.us-east-1.amazonaws.com. id 59952: no response in 6002.44 ms',
    })
    const v6 = dns({
      qname: 'x.',
      qtype: 1,
      srcAddr: '2001:db8::1',
      srcPort: 5353,
      dstAddr: '::1',
      dstPort: 53,
    })
    expect(evidenceItem(v6, inputs).text).toBe('[2001:db8::1]:5353 → [::1]:53 A? x. id 1')
  })
  it('words logs, drops, metrics and facts', () => {
    expect(
      evidenceItem(
        log('2 a. A: read udp 1.2.3.4:5->8.8.8.8:53: i/o timeout', { plugin: 'errors', input: 2 }),
        inputs,
      ).text,
    ).toBe('[ERROR] plugin/errors: 2 a. A: read udp 1.2.3.4:5->8.8.8.8:53: i/o timeout')
    expect(
      evidenceItem(drop('172.20.6.28:38888', '172.21.0.10:53', 'ip_vs_remote_request4', ''), inputs)
        .text,
    ).toBe('dropped udp 172.20.6.28:38888 → 172.21.0.10:53 in ip_vs_remote_request4 — bpftrace')
    expect(
      evidenceItem(
        metric('coredns_panics_total', {}, 99, { originalName: 'coredns_panic_count_total' }),
        inputs,
      ).text,
    ).toBe('coredns_panic_count_total 99')
    expect(
      evidenceItem(
        fact(
          {
            type: 'conntrack-stats',
            perCpu: [{ insert_failed: 2 }, { insert_failed: 3, drop: 1 }],
            totals: {},
          },
          { input: 3, ref: 12 },
        ),
        inputs,
      ),
    ).toEqual({
      input: 'node/facts.txt',
      where: 'line 12',
      text: 'conntrack -S: insert_failed=5 drop=1 early_drop=0 invalid=0 error=0 (2 CPUs)',
    })
    expect(
      evidenceItem(
        fact({
          type: 'ipvs-connection',
          protocol: 'UDP',
          expireSec: 264,
          state: 'UDP',
          source: '192.168.127.89:44117',
          virtual: '192.168.127.89:514',
          destination: '192.168.129.116:514',
        }),
        inputs,
      ).text,
    ).toBe(
      'UDP 192.168.127.89:44117 → 192.168.127.89:514 → 192.168.129.116:514 UDP expires in 264 s',
    )
  })
  it('clips long excerpts', () => {
    expect(evidenceItem(log('x'.repeat(500)), inputs).text.length).toBe(200)
  })
})

describe('reportFindings', () => {
  const rule = (id: string, severity: Rule['severity'], describe?: Rule['describe']): Rule => ({
    id,
    title: `title of ${id}`,
    severity,
    description: '',
    mitigation: `run \`fix-${id}\``,
    references: ['seed talk'],
    check: () => [],
    describe,
  })
  const fired = (
    r: Rule,
    confidence: number,
    n = 1,
    data: Record<string, unknown> = { n },
  ): FiredFinding => ({
    rule: r,
    finding: {
      confidence,
      data,
      evidence: Array.from({ length: n }, (_, i) => log(`line ${i}`, { input: 2 })),
    },
  })

  it('sorts by severity then confidence, caps evidence and counts the rest', () => {
    const out = reportFindings({
      fired: [
        fired(rule('a', 'info'), 0.99),
        fired(rule('b', 'warning'), 0.5, 25),
        fired(rule('c', 'critical'), 0.4),
        fired(rule('d', 'warning'), 0.9),
      ],
      inputs,
      correlation: ctx().correlation,
      vantages: [],
    })
    expect(out.findings.map((f) => f.id)).toEqual(['c', 'd', 'b', 'a'])
    const b = out.findings[2]
    expect(b.evidence.length).toBe(EVIDENCE_SHOWN)
    expect(b.evidenceTotal).toBe(25)
    expect(b.mitigation).toBe('run `fix-b`')
  })

  it('words the summary from data, and survives wording that throws', () => {
    const ok = rule('ok', 'warning', (d) => `${d.n} things`)
    const bad = rule('bad', 'warning', () => {
      throw new Error('boom')
    })
    const out = reportFindings({
      fired: [fired(ok, 0.5, 3), fired(bad, 0.6)],
      inputs,
      correlation: ctx().correlation,
      vantages: [],
    })
    expect(out.findings.find((f) => f.id === 'ok')?.summary).toBe('3 things')
    expect(out.findings.find((f) => f.id === 'bad')?.summary).toBeUndefined()
  })

  it('names the verdict by its index in the sorted findings, never an info finding', () => {
    const out = reportFindings({
      fired: [
        fired(rule('i', 'info'), 1),
        fired(rule('w', 'warning'), 0.9),
        fired(rule('c', 'critical'), 0.8),
      ],
      inputs,
      correlation: ctx().correlation,
      vantages: [],
    })
    expect(out.verdict).toEqual({
      findingId: 'c',
      title: 'title of c',
      confidence: 0.8,
      findingIndex: 0,
    })
    expect(out.alternatives).toEqual([
      { findingId: 'w', title: 'title of w', confidence: 0.9, findingIndex: 1 },
    ])
  })
})
