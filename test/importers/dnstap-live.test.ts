// A dnstap file made during the test run by a real DNS server: unbound writes dnstap through
// fstrm_capture while dig sends a known list of queries; the import must hold exactly those.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dnstapImporter } from '../../core/importers/dnstap.js'
import { detectImporter } from '../../core/importers/index.js'
import { qtypeNumber, rcodeNumber } from '../../core/codec/dns-constants.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import type { ImportResult } from '../../core/importers/importer.js'
import {
  captureUnboundDnstap,
  haveLabTools,
  type LabAnswer,
  type LabQuery,
} from '../fixtures/dnstap/unbound-lab.js'
import { asLdnsLine, ldnsLines, lowerName } from '../fixtures/dnstap/ldns.js'

const PORT = 5391
const IDENTITY = 'lab-unbound'
/** Answers, NODATA, NXDOMAIN (also a search-path style name), REFUSED, AAAA, TCP, mixed case. */
const QUERIES: (LabQuery & { expect: string })[] = [
  { name: 'a.lab.test', type: 'A', expect: 'NOERROR' },
  { name: 'b.lab.test', type: 'AAAA', expect: 'NOERROR' },
  { name: 'a.lab.test', type: 'AAAA', expect: 'NOERROR' },
  { name: 'nx.lab.test', type: 'A', expect: 'NXDOMAIN' },
  { name: 'api.default.svc.lab.test', type: 'AAAA', expect: 'NXDOMAIN' },
  { name: 'txt.lab.test', type: 'TXT', expect: 'NOERROR' },
  { name: 'mx.lab.test', type: 'MX', expect: 'NOERROR' },
  { name: 'x.refused.test', type: 'A', expect: 'REFUSED' },
  { name: 'c.lab.test', type: 'A', tcp: true, expect: 'NOERROR' },
  { name: 'A.Lab.TEST', type: 'A', expect: 'NOERROR' },
]

const missing = haveLabTools()
if (missing.length)
  throw new Error(
    `the dnstap live test needs ${missing.join(', ')} (apt-get install unbound fstrm-bin bind9-dnsutils dnstap-ldns)`,
  )

describe('dnstap written by unbound through fstrm_capture during this run', () => {
  let dir = ''
  let file = ''
  let answers: LabAnswer[] = []
  let result: ImportResult
  let events: DnsMessageEvent[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnsbundle-dnstap-live-'))
    ;({ file, answers } = await captureUnboundDnstap(dir, PORT, IDENTITY, QUERIES))
    const bytes = new Uint8Array(readFileSync(file))
    expect(detectImporter(bytes.subarray(0, 65536), 'out.dnstap').importer).toBe(dnstapImporter)
    result = dnstapImporter.parse(
      { index: 0, path: 'out.dnstap', bytes, vantage: 'out.dnstap' },
      { dnsPorts: new Set([53]) },
    )
    events = result.events.filter((e): e is DnsMessageEvent => e.kind === 'dns')
  }, 60_000)

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('dig got the rcodes the zone should give', () => {
    expect(answers.map((a) => a.status)).toEqual(QUERIES.map((q) => q.expect))
  })

  it('imports without problems: one CLIENT_QUERY and one CLIENT_RESPONSE per query, nothing else', () => {
    expect(result.problems).toEqual([])
    expect(result.eventCount).toBe(2 * QUERIES.length)
    expect(events.map((e) => e.dnstapType)).toEqual(
      QUERIES.flatMap(() => ['CLIENT_QUERY', 'CLIENT_RESPONSE']),
    )
  })

  it('the queries are exactly the ones sent: names, types, ids, transport, addresses', () => {
    const cq = events.filter((e) => e.dnstapType === 'CLIENT_QUERY')
    expect(cq.map((e) => [e.qname, e.qtype])).toEqual(
      QUERIES.map((q) => [q.name.toLowerCase() + '.', qtypeNumber(q.type)]),
    )
    expect(cq.map((e) => e.id)).toEqual(answers.map((a) => a.id))
    expect(cq.map((e) => e.transport)).toEqual(QUERIES.map((q) => (q.tcp ? 'tcp' : 'udp')))
    for (const e of cq)
      expect([e.qr, e.srcAddr, e.dstAddr, e.dstPort]).toEqual([
        false,
        '127.0.0.1',
        '127.0.0.1',
        PORT,
      ])
  })

  it('the responses carry the rcodes dig saw, and answer the queries they follow', () => {
    const cr = events.filter((e) => e.dnstapType === 'CLIENT_RESPONSE')
    expect(cr.map((e) => e.rcode)).toEqual(answers.map((a) => rcodeNumber(a.status)))
    expect(cr.map((e) => [e.id, e.qname, e.qtype])).toEqual(
      events.filter((e) => e.dnstapType === 'CLIENT_QUERY').map((e) => [e.id, e.qname, e.qtype]),
    )
    expect(cr.map((e) => e.answerAddrs)).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 1, 2])
    for (const [i, e] of cr.entries()) {
      expect([e.qr, e.srcAddr, e.srcPort, e.dstAddr]).toEqual([
        true,
        '127.0.0.1',
        PORT,
        '127.0.0.1',
      ])
      expect(e.time).toBeGreaterThanOrEqual(events[2 * i].time)
    }
  })

  it('the identity is the vantage point: a dns-server named with unbound version', () => {
    expect(result.vantages).toHaveLength(1)
    expect(result.vantages![0]).toMatchObject({
      id: IDENTITY,
      type: 'dns-server',
      addresses: ['127.0.0.1'],
    })
    expect(result.vantages![0].name).toMatch(/^lab-unbound \(unbound \d+\.\d+\.\d+\)$/)
    expect(events.every((e) => e.vantage === IDENTITY)).toBe(true)
  })

  it('agrees with dnstap-ldns line by line', () => {
    expect(events.map(asLdnsLine)).toEqual(ldnsLines(file).map(lowerName))
  })
})
