import { describe, expect, it } from 'vitest'
import { corpus } from '../corpus.js'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { dnstapImporter, DNSTAP_CONTENT_TYPE } from '../../core/importers/dnstap.js'
import { detectImporter, SNIFF_BYTES } from '../../core/importers/index.js'
import { analyzeBundle } from '../../core/analyze.js'
import { qtypeName } from '../../core/codec/dns-constants.js'
import { FrameStreamReader, countDataFrames } from '../../core/codec/frame-stream.js'
import type { DnsMessageEvent, Event, FactEvent } from '../../core/model/event.js'
import type { ImportResult } from '../../core/importers/importer.js'
import { asLdnsLine, ldnsLines, lowerName, MNEMONIC } from '../fixtures/dnstap/ldns.js'
import {
  concat,
  controlFrame,
  dataFrame,
  encodeDnstap,
  frameStream,
  ipv4,
} from '../fixtures/dnstap/make-fstrm.js'

const CORPUS = corpus('dnstap')
/** The valid dnstap files of the corpus, and our own capture from unbound (see its README). */
const VALID = [
  'bind9/dnstap.saved.fstrm',
  'bind9/large-answer.fstrm',
  'go-dnscollector_dnsdist.fstrm',
  'pktvisor_fixture.dnstap',
  join(import.meta.dirname, '../fixtures/dnstap/unbound/1.17.1/lab-queries.fstrm'),
]
const RAWPB = readdirSync(join(CORPUS, 'bind9')).filter((f) => f.endsWith('.rawpb'))

function read(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(rel.startsWith('/') ? rel : join(CORPUS, rel)))
}

function parse(bytes: Uint8Array, path = 'input.fstrm'): ImportResult {
  return dnstapImporter.parse({ index: 0, path, bytes, vantage: path }, { dnsPorts: new Set([53]) })
}

function dns(r: ImportResult): DnsMessageEvent[] {
  return r.events.filter((e): e is DnsMessageEvent => e.kind === 'dns')
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1
  return out
}

describe('dnstap importer on the corpus, against dnstap-ldns', () => {
  for (const rel of VALID) {
    it(`${rel}: every message equals dnstap-ldns -q (type counts, time, peer, transport, size, question)`, () => {
      const bytes = read(rel)
      expect(dnstapImporter.sniff(bytes.subarray(0, SNIFF_BYTES), rel)).toBe(true)
      const r = parse(bytes, rel)
      const ours = dns(r)
      const theirs = ldnsLines(rel.startsWith('/') ? rel : join(CORPUS, rel))
      expect(r.eventCount).toBe(theirs.length)
      expect(countBy(ours, (e) => MNEMONIC[e.dnstapType!])).toEqual(
        countBy(theirs, (l) => l.split(' ')[2]),
      )
      // ldns keeps the name's case; we lower-case it (event model).
      expect(ours.map(asLdnsLine)).toEqual(theirs.map(lowerName))
      expect(ours.map((e) => e.ref)).toEqual(ours.map((_, i) => i + 1))
    })

    it(`${rel}: the same result under a meaningless name`, () => {
      const bytes = read(rel)
      expect(dnstapImporter.sniff(bytes.subarray(0, SNIFF_BYTES), 'blob-7f3a')).toBe(true)
      const a = parse(bytes, rel)
      const b = parse(bytes, 'blob-7f3a')
      expect(b.events).toEqual(a.events)
      expect(b.problems).toEqual(a.problems)
      expect(b.eventCount).toBe(a.eventCount)
      expect(detectImporter(bytes.subarray(0, SNIFF_BYTES), 'blob-7f3a').importer).toBe(
        dnstapImporter,
      )
    })
  }

  it('pktvisor fixture: its last frame is cut short; the 153 whole messages are kept and the cut is reported', () => {
    const r = parse(read('pktvisor_fixture.dnstap'))
    expect(r.eventCount).toBe(153)
    expect(r.problems).toEqual([
      {
        where: 'byte 20280',
        message: 'data frame 154 needs 286 bytes, only 238 remain (file truncated)',
      },
    ])
    expect(countBy(dns(r), (e) => `${e.dnstapType} ${e.rcode}`)).toMatchObject({
      'CLIENT_RESPONSE 2': 4,
    })
  })

  it('identity and version become the vantage: dnsdist and PowerDNS Recursor 5.4.2 (empty identity)', () => {
    const d = parse(read('go-dnscollector_dnsdist.fstrm'), 'd.fstrm')
    expect(d.vantages).toEqual([
      { id: 'dnsdist', type: 'dns-server', name: 'dnsdist (-)', addresses: ['172.19.0.2'] },
    ])
    expect(dns(d).every((e) => e.vantage === 'dnsdist')).toBe(true)
    const p = parse(read('pktvisor_fixture.dnstap'), 'p.dnstap')
    // No identity: the file is the vantage point; the version names it.
    expect(p.vantages).toEqual([
      { id: 'p.dnstap', type: 'dns-server', name: 'p.dnstap (5.4.2)', addresses: ['192.168.0.55'] },
    ])
    expect(dns(p).every((e) => e.vantage === '')).toBe(true)
  })

  it('BIND 9.15.1 large AUTH_RESPONSE over IPv6 with response_port 0', () => {
    const [e] = dns(parse(read('bind9/large-answer.fstrm')))
    expect(e).toMatchObject({
      dnstapType: 'AUTH_RESPONSE',
      srcAddr: '::1',
      srcPort: 0,
      dstAddr: '::1',
      dstPort: 46075,
      id: 54783,
      qr: true,
      rcode: 0,
      qname: 'example.',
      qtype: 1,
      ancount: 48,
      answerAddrs: 48,
      size: 832,
      time: 1561717412748943,
    })
  })
})

describe("BIND's own rendering (dnstap-read) of dnstap.saved", () => {
  // Sample: 03-Feb-2017 15:47:16.000 SQ 10.53.0.1:2112 -> 10.53.0.2:2112 UDP 40b www.isc.org/IN/A
  const LINE =
    /^(\d\d)-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{3}) (\w\w) (\S+):(\d+) (->|<-) (\S+):(\d+) (\w+) (\d+)b (\S+)\/(\w+)\/(\w+)$/
  const MONTHS = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ]
  // dnstap-read printed local time; these lines were made in a UTC-8 zone (US Pacific in
  // February): every line must show the same offset from our UTC times, and it must be -8 h.
  const LOCAL_OFFSET_MS = -8 * 3600_000

  it('matches field by field: time (ms), type, initiator -> responder with ports, transport, size, qname/class/type', () => {
    const text = readFileSync(join(CORPUS, 'bind9/dnstap.saved.dnstap-read.txt'), 'utf8')
      .split('\n')
      .filter(Boolean)
    const events = dns(parse(read('bind9/dnstap.saved.fstrm')))
    expect(text.length).toBe(96)
    expect(events.length).toBe(text.length)
    text.forEach((line, i) => {
      const m = LINE.exec(line)
      expect(m, line).not.toBeNull()
      const [
        ,
        dd,
        mon,
        yyyy,
        hh,
        mi,
        ss,
        ms,
        kind,
        qa,
        qp,
        arrow,
        ra,
        rp,
        proto,
        size,
        qname,
        cls,
        qtype,
      ] = m!
      const local = Date.UTC(+yyyy, MONTHS.indexOf(mon), +dd, +hh, +mi, +ss, +ms)
      const e = events[i]
      expect(local - Math.floor(e.time / 1000), line).toBe(LOCAL_OFFSET_MS)
      expect(MNEMONIC[e.dnstapType!]).toBe(kind)
      // dnstap-read writes query_address -> response_address for queries, <- for responses.
      expect(arrow).toBe(e.qr ? '<-' : '->')
      const [initiator, initiatorPort, responder, responderPort] = e.qr
        ? [e.dstAddr, e.dstPort, e.srcAddr, e.srcPort]
        : [e.srcAddr, e.srcPort, e.dstAddr, e.dstPort]
      expect([initiator, initiatorPort, responder, responderPort]).toEqual([qa, +qp, ra, +rp])
      expect(e.transport.toUpperCase()).toBe(proto)
      expect(e.size).toBe(+size)
      expect(e.qname).toBe(qname + '.')
      expect(cls).toBe('IN')
      expect(qtypeName(e.qtype)).toBe(qtype)
    })
  })
})

describe('files that are not dnstap', () => {
  it('a Frame Streams file with another content type is claimed and rejected clearly', () => {
    const bytes = read('fstrm_test_non-dnstap_content-type.fstrm')
    expect(dnstapImporter.sniff(bytes, 'x')).toBe(true)
    const r = parse(bytes)
    expect(r.events).toEqual([])
    expect(r.eventCount).toBe(0)
    expect(r.problems).toEqual([
      {
        where: 'byte 0',
        message: `content type "test:hello" is not ${DNSTAP_CONTENT_TYPE}: not dnstap, the file is not read`,
      },
    ])
  })

  for (const rel of RAWPB) {
    it(`bare protobuf ${rel} (no framing) is not claimed, and parse says it is not a Frame Streams file`, () => {
      const bytes = read(`bind9/${rel}`)
      expect(dnstapImporter.sniff(bytes, `x.dnstap`)).toBe(false)
      const r = parse(bytes, 'x.dnstap')
      expect(r.events).toEqual([])
      expect(r.problems).toHaveLength(1)
      expect(r.problems[0].message).toMatch(/^not a Frame Streams file/)
    })
  }

  it('the report says why a bare dnstap protobuf was skipped', () => {
    const report = analyzeBundle({
      files: [{ path: 'tap.dnstap', bytes: read('bind9/correct_query_nanosec.dnstap.rawpb') }],
      skipped: [],
    })
    expect(report.inputs[0].kind).toBe('unknown')
    expect(report.inputs[0].skipped).toMatch(
      /bare dnstap protobuf message without Frame Streams framing \(CLIENT_QUERY\)/,
    )
  })

  it('a pcap inside a file named x.dnstap is not read as dnstap', () => {
    const pcap = new Uint8Array(readFileSync(join(corpus('pcap'), findPcap())))
    expect(dnstapImporter.sniff(pcap.subarray(0, SNIFF_BYTES), 'x.dnstap')).toBe(false)
    expect(detectImporter(pcap.subarray(0, SNIFF_BYTES), 'x.dnstap').importer).not.toBe(
      dnstapImporter,
    )
    const r = parse(pcap, 'x.dnstap')
    expect(r.events).toEqual([])
    expect(r.problems[0].message).toMatch(/^not a Frame Streams file/)
  })
})

function findPcap(): string {
  const stack = ['']
  while (stack.length) {
    const dir = stack.pop()!
    for (const ent of readdirSync(join(corpus('pcap'), dir), { withFileTypes: true })) {
      const rel = join(dir, ent.name)
      if (ent.isDirectory()) stack.push(rel)
      else if (ent.name.endsWith('.pcap')) return rel
    }
  }
  throw new Error('no pcap in the corpus')
}

describe('countDataFrames (the importer sizes its rows with it)', () => {
  it('counts the data frames the reader reads, whole or cut anywhere, and after concatenation', () => {
    const readerCount = (b: Uint8Array) => {
      const r = new FrameStreamReader(b)
      if (!r.open()) return { start: 0, frames: 0 }
      const start = r.pos
      let frames = 0
      while (r.next()) frames++
      return { start, frames }
    }
    const files = VALID.map(read)
    const full = files[0]
    const variants = [...files, concat(full, full)]
    for (const cut of [20, 43, 128, 5000, full.length - 1]) variants.push(full.subarray(0, cut))
    for (const b of variants) {
      const { start, frames } = readerCount(b)
      if (start === 0) continue
      expect(countDataFrames(b, start)).toBe(frames)
    }
  })
})

describe('malformed Frame Streams files keep the good events and report the rest', () => {
  const full = read('bind9/dnstap.saved.fstrm')
  const all = dns(parse(full))

  it('truncated at many points: exactly the whole frames before the cut survive, with a problem', () => {
    const cuts = [
      0,
      3,
      8,
      20,
      42,
      43,
      46,
      100,
      127,
      128,
      5000,
      15001,
      full.length - 13,
      full.length - 12,
      full.length - 1,
    ]
    for (const cut of cuts) {
      const r = parse(full.subarray(0, cut))
      const kept = dns(r)
      const whole = all.filter((e) => e.offset + 4 + frameLength(full, e.offset) <= cut)
      expect(kept, `cut at ${cut}`).toEqual(whole)
      expect(r.problems.length, `cut at ${cut}`).toBeGreaterThan(0)
    }
    // Cut right after the last data frame: all messages, and "no STOP" is reported.
    const r = parse(full.subarray(0, full.length - 12))
    expect(r.eventCount).toBe(96)
    expect(r.problems).toEqual([
      {
        where: `byte ${full.length - 12}`,
        message: 'the file ends without a STOP control frame (the writer did not close it)',
      },
    ])
  })

  it('a bad protobuf inside a valid frame: that frame is reported and skipped, every other message kept', () => {
    const bad = full.slice()
    const victim = all[10]
    bad.fill(0xff, victim.offset + 4, victim.offset + 4 + frameLength(full, victim.offset))
    const r = parse(bad)
    expect(r.eventCount).toBe(95)
    expect(dns(r)).toEqual(all.filter((e) => e !== victim))
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0].where).toBe(`frame 11 @ byte ${victim.offset}`)
    expect(r.problems[0].message).toMatch(/^not a dnstap message \(/)
  })

  it('garbage after STOP: all messages kept, the garbage reported', () => {
    const r = parse(concat(full, new TextEncoder().encode('this is not a frame\n')))
    expect(dns(r)).toEqual(all)
    expect(r.problems).toEqual([
      {
        where: `byte ${full.length}`,
        message: '20 bytes of unframed data after the STOP control frame',
      },
    ])
  })

  it('two files concatenated (cat a b) read as one, without problems', () => {
    const other = read('go-dnscollector_dnsdist.fstrm')
    const r = parse(concat(full, other))
    expect(r.problems).toEqual([])
    expect(r.eventCount).toBe(98)
    expect(
      dns(r)
        .slice(96)
        .map((e) => e.qname),
    ).toEqual(['www.google.com.', 'www.google.com.'])
  })

  it('a dnstap stream followed by a stream of another content type: the dnstap part is kept', () => {
    const r = parse(concat(full, read('fstrm_test_non-dnstap_content-type.fstrm')))
    expect(dns(r)).toEqual(all)
    expect(r.problems).toEqual([
      {
        where: `byte ${full.length}`,
        message: `content type "test:hello" is not ${DNSTAP_CONTENT_TYPE}: not dnstap, the rest of the file is not read`,
      },
    ])
  })

  it('a frame length past the end, a handshake control frame, and a START without content type', () => {
    const payload = encodeDnstap({ message: { type: 5, queryMessage: new Uint8Array(0) } })
    const huge = parse(
      concat(
        controlFrame(2, DNSTAP_CONTENT_TYPE),
        dataFrame(payload),
        new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2]),
      ),
    )
    expect(huge.eventCount).toBe(1)
    expect(huge.problems[0].message).toMatch(/needs 4294967295 bytes/)
    const ready = parse(
      concat(
        controlFrame(2, DNSTAP_CONTENT_TYPE),
        controlFrame(4),
        dataFrame(payload),
        controlFrame(3),
      ),
    )
    expect(ready.eventCount).toBe(1)
    expect(ready.problems[0].message).toBe('unexpected READY control frame in a file (skipped)')
    const untyped = parse(frameStream([payload], null))
    expect(untyped.eventCount).toBe(1)
    expect(untyped.problems).toEqual([
      {
        where: 'byte 0',
        message: `the START frame names no content type; read as ${DNSTAP_CONTENT_TYPE}`,
      },
    ])
  })

  it("BIND's bare protobuf test messages, framed: the invalid type is reported, out-of-range nanoseconds are flagged", () => {
    const framed = frameStream(RAWPB.sort().map((f) => read(`bind9/${f}`)))
    const r = parse(framed)
    // correct_query, correct_response, invalid_message_type, query_time_nsec_big, response_time_nsec_big
    expect(r.eventCount).toBe(4)
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0]).toMatchObject({
      where: expect.stringMatching(/^frame 3 @/),
      message: expect.stringMatching(/unknown Message type 255/),
    })
    const [query, response, bigQ, bigR] = dns(r)
    expect(query).toMatchObject({
      dnstapType: 'CLIENT_QUERY',
      vantage: 'sheep',
      srcAddr: '10.53.0.1',
      dstAddr: '10.53.0.10',
      dstPort: 53,
      qname: 'isc.org.',
      qtype: 1,
    })
    expect(query.malformed).toBeUndefined()
    expect(response.malformed).toBeUndefined()
    expect(bigQ.malformed).toMatch(/query_time_nsec \d+ is not below 10\^9/)
    expect(bigR.malformed).toMatch(/response_time_nsec \d+ is not below 10\^9/)
    expect(bigQ.time % 1_000_000).toBe(0)
  })

  it('a frame that decodes as Dnstap but carries no Message is not a message', () => {
    const r = parse(frameStream([encodeDnstap({ identity: new TextEncoder().encode('x') })]))
    expect(r.problems).toEqual([])
    expect(r.eventCount).toBe(0)
  })
})

function frameLength(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}

describe('messages without wire bytes, and CoreDNS semantics by version', () => {
  const client = ipv4('10.244.1.7')
  const coredns = ipv4('10.244.0.5')
  const upstream = ipv4('8.8.8.8')
  const time = {
    queryTimeSec: 1700000000,
    queryTimeNsec: 123456789,
    responseTimeSec: 1700000000,
    responseTimeNsec: 223456789,
  }

  function tap(version: string, messages: object[]): Event[] {
    const payloads = messages.map((m) =>
      encodeDnstap({
        identity: new TextEncoder().encode('coredns-7d8f'),
        version: new TextEncoder().encode(version),
        message: { socketFamily: 1, socketProtocol: 1, ...time, ...m } as never,
      }),
    )
    return parse(frameStream(payloads)).events
  }

  it('without `full`: times, addresses and transport, with qname "" and id -1 meaning unknown', () => {
    const [cq, cr] = tap('CoreDNS-1.11.1', [
      {
        type: 5,
        queryAddress: client,
        queryPort: 40000,
        responseAddress: coredns,
        responsePort: 53,
      },
      {
        type: 6,
        queryAddress: client,
        queryPort: 40000,
        responseAddress: coredns,
        responsePort: 53,
        socketProtocol: 2,
      },
    ]) as DnsMessageEvent[]
    expect(cq).toMatchObject({
      dnstapType: 'CLIENT_QUERY',
      time: 1700000000123456,
      srcAddr: '10.244.1.7',
      srcPort: 40000,
      dstAddr: '10.244.0.5',
      dstPort: 53,
      qname: '',
      id: -1,
      rcode: -1,
      size: 0,
      qr: false,
      transport: 'udp',
      vantage: 'coredns-7d8f',
    })
    expect(cr).toMatchObject({
      dnstapType: 'CLIENT_RESPONSE',
      time: 1700000000223456,
      srcAddr: '10.244.0.5',
      dstAddr: '10.244.1.7',
      qname: '',
      id: -1,
      qr: true,
      transport: 'tcp',
    })
  })

  const forwarded = (layout: 'spec' | '1.8.0' | '1.8.2') => {
    if (layout === '1.8.0')
      return [
        { type: 7, queryAddress: upstream, queryPort: 53 },
        { type: 8, socketFamily: undefined, socketProtocol: undefined },
      ]
    const own = layout === 'spec' ? coredns : client
    const ownPort = layout === 'spec' ? 51000 : 40000
    return [
      {
        type: 7,
        queryAddress: own,
        queryPort: ownPort,
        responseAddress: upstream,
        responsePort: 53,
      },
      {
        type: 8,
        queryAddress: own,
        queryPort: ownPort,
        responseAddress: upstream,
        responsePort: 53,
      },
    ]
  }
  const cases: [
    string,
    'spec' | '1.8.0' | '1.8.2',
    [string, number, string, number],
    [string, number, string, number],
  ][] = [
    [
      'CoreDNS-1.7.0',
      'spec',
      ['10.244.0.5', 51000, '8.8.8.8', 53],
      ['8.8.8.8', 53, '10.244.0.5', 51000],
    ],
    ['CoreDNS-1.8.0', '1.8.0', ['', 0, '8.8.8.8', 53], ['', 0, '', 0]],
    ['CoreDNS-1.8.1', '1.8.0', ['', 0, '8.8.8.8', 53], ['', 0, '', 0]],
    ['CoreDNS-1.8.2', '1.8.2', ['', 0, '8.8.8.8', 53], ['8.8.8.8', 53, '', 0]],
    ['CoreDNS-1.14.4', '1.8.2', ['', 0, '8.8.8.8', 53], ['8.8.8.8', 53, '', 0]],
    [
      'CoreDNS-1.14.5',
      'spec',
      ['10.244.0.5', 51000, '8.8.8.8', 53],
      ['8.8.8.8', 53, '10.244.0.5', 51000],
    ],
    [
      'unbound 1.17.1',
      'spec',
      ['10.244.0.5', 51000, '8.8.8.8', 53],
      ['8.8.8.8', 53, '10.244.0.5', 51000],
    ],
  ]
  for (const [version, layout, fq, fr] of cases) {
    it(`${version}: FORWARDER_QUERY ${fq[0] || '?'} -> ${fq[2]}, FORWARDER_RESPONSE ${fr[0]} -> ${fr[2] || '?'}`, () => {
      const events = tap(version, forwarded(layout))
      const [q, r] = events.filter((e): e is DnsMessageEvent => e.kind === 'dns')
      expect([q.srcAddr, q.srcPort, q.dstAddr, q.dstPort]).toEqual(fq)
      expect([r.srcAddr, r.srcPort, r.dstAddr, r.dstPort]).toEqual(fr)
      const facts = events.filter((e): e is FactEvent => e.kind === 'fact')
      expect(facts.map((f) => f.fact)).toEqual(
        version.startsWith('CoreDNS')
          ? [{ type: 'coredns-version', version: version.slice(8) }]
          : [],
      )
    })
  }

  it('an upstream timeout is a FORWARDER_QUERY without a FORWARDER_RESPONSE: the query is kept on its own', () => {
    const events = tap('CoreDNS-1.11.1', [forwarded('1.8.2')[0]]) as DnsMessageEvent[]
    expect(events.filter((e) => e.kind === 'dns').map((e) => e.dnstapType)).toEqual([
      'FORWARDER_QUERY',
    ])
  })

  it('IPv4-mapped IPv6 addresses (CoreDNS before 1.14.5) read as IPv4', () => {
    const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...client])
    const [cq] = tap('CoreDNS-1.11.1', [
      { type: 5, socketFamily: 2, queryAddress: mapped, queryPort: 1 },
    ]) as DnsMessageEvent[]
    expect(cq.srcAddr).toBe('10.244.1.7')
  })
})
