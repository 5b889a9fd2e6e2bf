// The capture importer field by field. Ground truth comes from elsewhere: dnscap's gold output and
// tcpdump's expected text (both written by those tools for these very captures), and tshark run
// live on real captures and on rewrites of them into every link type and file format we read.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { corpus } from '../corpus.js'
import { qtypeName, rcodeName } from '../../core/codec/dns-constants.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import { pcapImporter } from '../../core/importers/pcap.js'
import { pcapngImporter } from '../../core/importers/pcapng.js'
import { MAX_DIRECTIONS } from '../../core/importers/capture/tcp-reassembly.js'
import {
  analyze,
  bytes,
  concat,
  ng,
  readPcap,
  tempFile,
  tsharkFields,
  u32Bytes,
  writePcap,
  writePcapng,
  tcpFrame,
  tcpQuery,
  type PcapRecord,
} from './capture-synth.js'

const read = (p: string) => new Uint8Array(readFileSync(corpus('pcap', p)))
const utcMicros = (text: string) => {
  // "2016-10-20 15:23:01.075993" -> µs since the epoch, with integer math.
  const [date, time] = text.split(' ')
  const [hms, frac] = time.split('.')
  return Date.parse(`${date}T${hms}Z`) * 1000 + Number(frac.padEnd(6, '0'))
}
/** tshark's frame.time_epoch ("1767663089.500330493") as integer µs, truncated like ours. */
const epochMicros = (s: string) => {
  const [sec, frac = ''] = s.split('.')
  return Number(sec) * 1_000_000 + Number(frac.padEnd(9, '0').slice(0, 6))
}
const messages = (r: { inputs: { problems: { where: string; message: string }[] }[] }) =>
  r.inputs[0].problems.map((p) => `${p.where}: ${p.message}`)
const byRef = (dns: DnsMessageEvent[]) => new Map(dns.map((e) => [e.ref, e]))

describe('dnscap gold output as ground truth', () => {
  // One gold entry: "[ip length] date time [#index file 4095] [src].port [dst].port dns OPCODE,RCODE,ID,flags
  // 1 qname,CLASS,TYPE <ancount> ...", continuation lines joined.
  const ENTRY =
    /^\[(\d+)\] (\S+ \S+) \[#(\d+) \S+ \d+\] \[([^\]]+)\]\.(\d+) \[([^\]]+)\]\.(\d+)\s+dns (\w+),(\w+),(\d+),(\S*)\s+1 (.+?),(\w+),(\w+)\s+(\d+)/
  const FLAG_BITS: Record<string, number> = {
    qr: 0x8000,
    aa: 0x0400,
    tc: 0x0200,
    rd: 0x0100,
    ra: 0x0080,
    ad: 0x0020,
    cd: 0x0010,
  }
  const OPCODES = ['QUERY', 'IQUERY', 'STATUS', 'OPCODE3', 'NOTIFY', 'UPDATE']

  for (const name of ['dns.pcap', 'edns.pcap', 'sll2.pcap']) {
    it(`${name}: every message dnscap printed, with the same fields`, () => {
      const gold = readFileSync(corpus('pcap/dnscap', `${name}.dnscap-gold.txt`), 'utf8')
      const entries = gold
        .replace(/ \\\n\t/g, ' ')
        .split('\n')
        .filter((l) => l.startsWith('['))
      const { dns } = analyze(read(`dnscap/${name}`))
      expect(entries.length).toBeGreaterThan(1)
      expect(dns.length).toBe(entries.length)
      for (const line of entries) {
        const m = ENTRY.exec(line)
        expect(m, line).not.toBeNull()
        const [
          ,
          ipLen,
          when,
          index,
          src,
          sport,
          dst,
          dport,
          opcode,
          rcode,
          id,
          flags,
          qname,
          qclass,
          qtype,
          ancount,
        ] = m!
        // dnscap numbers the DNS messages it printed, from 0.
        const e = dns[Number(index)]
        expect(e, line).toBeDefined()
        expect({ src: e.srcAddr, sport: e.srcPort, dst: e.dstAddr, dport: e.dstPort }).toEqual({
          src,
          sport: Number(sport),
          dst,
          dport: Number(dport),
        })
        expect(e.time).toBe(utcMicros(when))
        expect(e.id).toBe(Number(id))
        expect(OPCODES[e.opcode]).toBe(opcode)
        expect(rcodeName(e.rcode)).toBe(rcode)
        const letters = Object.entries(FLAG_BITS)
          .filter(([, bit]) => (e.flags & bit) !== 0)
          .map(([l]) => l)
        expect(letters.sort()).toEqual(flags.split('|').filter(Boolean).sort())
        // dnscap escapes its field separator: "\," is a plain comma in the name.
        expect(e.qname).toBe(qname.replace(/\\,/g, ','))
        expect(qclass).toBe('IN')
        expect(qtypeName(e.qtype)).toBe(qtype)
        expect(e.ancount).toBe(Number(ancount))
        expect(e.size).toBe(Number(ipLen) - 28) // IPv4 header (no options) + UDP header
        expect(e).toMatchObject({ transport: 'udp', source: 'capture', kind: 'dns' })
      }
    })
  }
})

describe('tcpdump expected text as ground truth', () => {
  // "    1  2025-07-08 17:59:32.592885 IP 192.168.1.100.12345 > 9.9.9.9.53: 4660+ A? example.com. (29)"
  // (-v output puts the addresses on a continuation line; both are joined first).
  const START = /^\s*(\d+)  (?:caplen \d+ len \d+ )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) /
  const ENDPOINTS = /([0-9a-f:.]+)\.(\d+) > ([0-9a-f:.]+)\.(\d+): (.*)$/
  // LINKTYPE_IPV4_invalid is left out: tcpdump rejects an IPv6 packet there, tshark and we decode it.
  const FILES = [
    'LINKTYPE_IPV4',
    'LINKTYPE_IPV6',
    'LINKTYPE_PKTAP',
    'LINKTYPE_RAW_ipv4',
    'LINKTYPE_RAW_ipv6',
    'dns_udp',
    'dns_udp_2',
    'dns-badvers',
    'dns-uri',
    'dns-badcookie',
    'edns-opts',
    'dns_tcp',
    'time_2038',
    'time_2106_overflow',
    'time_2107',
    'ipv4_invalid_total_length',
    'ipv6_invalid_length_2',
  ]

  for (const stem of FILES) {
    it(stem, () => {
      const text = readFileSync(corpus('pcap/tcpdump/expected-tcpdump-text', `${stem}.out`), 'utf8')
      const entries: string[] = []
      for (const line of text.split('\n')) {
        if (START.test(line)) entries.push(line)
        else if (line.trim() && entries.length) entries[entries.length - 1] += ' ' + line.trim()
      }
      const file = ['time_2106_overflow', 'time_2107'].includes(stem)
        ? `${stem}.pcapng`
        : `${stem}.pcap`
      const { dns } = analyze(read(`tcpdump/${file}`))
      const ours = byRef(dns)
      let checked = 0
      for (const entry of entries) {
        const [, frame, when] = START.exec(entry)!
        const ep = ENDPOINTS.exec(entry)
        expect(ep, entry).not.toBeNull()
        const [, src, sport, dst, dport, rest] = ep!
        // The DNS part: "4660+ A? example.com. (29)", "36787 BadVers- 0/0/1 (28)", "UDP, length 56",
        // after TCP's "Flags [P.], ... length 58 ".
        const dnsPart = rest
          .replace(/^Flags \[[^\]]*\], .*?length \d+ ?/, '')
          .replace(/^\[udp sum ok\] /, '')
        if (dnsPart === '' && /Flags/.test(rest)) continue // a TCP segment without a message
        const e = ours.get(Number(frame))!
        expect(e, entry).toBeDefined()
        expect([e.srcAddr, e.srcPort, e.dstAddr, e.dstPort]).toEqual([
          src,
          Number(sport),
          dst,
          Number(dport),
        ])
        expect(e.time).toBe(utcMicros(when))
        const size = /\((\d+)\)$/.exec(dnsPart)?.[1] ?? /^UDP, length (\d+)$/.exec(dnsPart)?.[1]
        const complete = !/\[\|domain\]/.test(dnsPart)
        if (size && complete) expect(e.size).toBe(Number(size))
        const id = /^(\d+)/.exec(dnsPart)?.[1]
        if (id) expect(e.id).toBe(Number(id))
        const q = / ([A-Z0-9]+)\? (\S+) /.exec(dnsPart)
        if (q && !e.qr) {
          expect(qtypeName(e.qtype)).toBe(q[1])
          expect(e.qname).toBe(q[2])
        }
        checked++
      }
      expect(checked).toBeGreaterThan(0)
      expect(dns.length).toBe(checked)
    })
  }

  it('dns_udp_2: a response cut by the snaplen is kept and marked malformed', () => {
    const { dns } = analyze(read('tcpdump/dns_udp_2.pcap'))
    expect(dns[1]).toMatchObject({ id: 22836, qr: true, size: 224, ancount: 2 })
    expect(dns[1].malformed).toMatch(/cut off by the capture \(56 of 224 bytes captured\)/)
    expect(dns[0].malformed).toBeUndefined()
  })
})

/** Messages as tshark decodes them: frame, addresses, ports, id, qname, qtype per message. */
function tsharkView(path: string, extra: string[] = []): string[] {
  const rows = tsharkFields(
    path,
    [
      'frame.number',
      'ip.src',
      'ipv6.src',
      'ip.dst',
      'ipv6.dst',
      'udp.srcport',
      'tcp.srcport',
      'udp.dstport',
      'tcp.dstport',
      'dns.id',
      'dns.qry.name',
      'dns.qry.type',
      'frame.time_epoch',
      'frame.protocols',
    ],
    ['-Y', 'dns', ...extra],
  )
  const out: string[] = []
  for (const [frame, s4, s6, d4, d6, us, ts, ud, td, ids, names, types, epoch, protocols] of rows) {
    // Tunnels: the DNS message's own IP header is the innermost one of either version.
    const v6Inner = `:${protocols}:`.lastIndexOf(':ipv6:') > `:${protocols}:`.lastIndexOf(':ip:')
    const idl = ids.split(','),
      nl = names.split(','),
      tl = types.split(',')
    // The innermost header is the last value of each field (tunnels repeat them).
    const last = (v: string) => v.split(',').at(-1)!
    idl.forEach((id, i) => {
      const name = nl[i] === '<Root>' ? '.' : nl[i] ? nl[i] + '.' : ''
      out.push(
        [
          frame,
          last(v6Inner ? s6 : s4),
          last(us || ts),
          last(v6Inner ? d6 : d4),
          last(ud || td),
          Number(id),
          name,
          tl[i] || '0',
          epochMicros(epoch),
        ].join(' '),
      )
    })
  }
  return out
}
function ourView(dns: DnsMessageEvent[]): string[] {
  return dns.map((e) =>
    [
      e.ref,
      e.srcAddr,
      e.srcPort,
      e.dstAddr,
      e.dstPort,
      e.id,
      e.qname.toLowerCase(),
      e.qtype,
      e.time,
    ].join(' '),
  )
}
const lower = (l: string[]) => l.map((s) => s.toLowerCase())

describe('link types, against tshark on rewrites of real captures', () => {
  // dns.pcap (IPv4, Ethernet) and dns6.pcap (IPv6): the packets inside are kept, the link layer
  // around them is rewritten into each type; tshark decodes every variant independently.
  const v4 = readPcap(read('dnscap/dns.pcap'))
  const v6 = readPcap(read('dnscap/dns6.pcap'))
  const records = [...v4.records.slice(0, 24), ...v6.records]
  const version = (r: PcapRecord) => r.data[14] >> 4
  const ip = (r: PcapRecord) =>
    r.data.subarray(
      14,
      14 +
        (version(r) === 4 ? (r.data[16] << 8) | r.data[17] : 40 + ((r.data[18] << 8) | r.data[19])),
    )
  const ethertype = (r: PcapRecord) => (version(r) === 4 ? bytes(0x08, 0x00) : bytes(0x86, 0xdd))
  const nflogTlv = (type: number, value: Uint8Array) => {
    const tlv = new Uint8Array(4 + ((value.length + 3) & ~3))
    new DataView(tlv.buffer).setUint16(0, 4 + value.length, true)
    new DataView(tlv.buffer).setUint16(2, type, true)
    tlv.set(value, 4)
    return tlv
  }
  /** An outer IPv4 header (192.0.2.1 > 192.0.2.2) for `payload` bytes of protocol `proto`. */
  const outerIpv4 = (proto: number, payload: number) => {
    const h = bytes(0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2)
    new DataView(h.buffer).setUint16(2, 20 + payload)
    return h
  }
  /** The frame's Ethernet addresses with the IPv4 ethertype, for an outer IPv4 header. */
  const ether4 = (r: PcapRecord) => concat([r.data.subarray(0, 12), bytes(0x08, 0x00)])
  const pktapHeader = () => {
    const h = new Uint8Array(108)
    const dv = new DataView(h.buffer)
    dv.setUint32(0, 108, true) // pth_length
    dv.setUint32(4, 1, true) // pth_type_next: a packet
    dv.setUint32(8, 1, true) // pth_dlt: Ethernet
    return h
  }
  const VARIANTS: [string, number, (r: PcapRecord) => Uint8Array][] = [
    [
      'LINUX_SLL (113)',
      113,
      (r) => concat([bytes(0, 0, 0, 1, 0, 6, 2, 66, 172, 17, 0, 10, 0, 0), ethertype(r), ip(r)]),
    ],
    [
      'LINUX_SLL2 (276, tcpdump -i any)',
      276,
      (r) =>
        concat([
          ethertype(r),
          bytes(0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 66, 172, 17, 0, 10, 0, 0),
          ip(r),
        ]),
    ],
    [
      'NULL little-endian, macOS AF_INET6 30',
      0,
      (r) => concat([u32Bytes(version(r) === 4 ? 2 : 30, true), ip(r)]),
    ],
    [
      'NULL little-endian, FreeBSD AF_INET6 28',
      0,
      (r) => concat([u32Bytes(version(r) === 4 ? 2 : 28, true), ip(r)]),
    ],
    [
      'NULL big-endian, NetBSD AF_INET6 24',
      0,
      (r) => concat([u32Bytes(version(r) === 4 ? 2 : 24, false), ip(r)]),
    ],
    ['LOOP (108)', 108, (r) => concat([u32Bytes(version(r) === 4 ? 2 : 24, false), ip(r)])],
    ['RAW (101)', 101, ip],
    ['DLT_RAW 12', 12, ip],
    ['DLT_RAW 14 (OpenBSD)', 14, ip],
    ['IPV4 (228), IPv6 packets included as tshark decodes them', 228, ip],
    ['IPV6 (229), IPv4 packets refused as tshark does', 229, ip],
    [
      'Ethernet, QinQ (802.1ad + 802.1Q)',
      1,
      (r) =>
        concat([
          r.data.subarray(0, 12),
          bytes(0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 11),
          r.data.subarray(12),
        ]),
    ],
    [
      'Ethernet, MPLS',
      1,
      (r) => concat([r.data.subarray(0, 12), bytes(0x88, 0x47, 0, 1, 0, 64, 0, 2, 1, 64), ip(r)]),
    ],
    [
      'Ethernet, PPPoE session',
      1,
      (r) =>
        concat([
          r.data.subarray(0, 12),
          bytes(
            0x88,
            0x64,
            0x11,
            0,
            0,
            1,
            (ip(r).length + 2) >> 8,
            (ip(r).length + 2) & 255,
            0,
            version(r) === 4 ? 0x21 : 0x57,
          ),
          ip(r),
        ]),
    ],
    [
      'NFLOG (239)',
      239,
      (r) =>
        concat([
          bytes(version(r) === 4 ? 2 : 10, 0, 0, 1),
          nflogTlv(1, bytes(8, 0, 1, 0)),
          nflogTlv(9, ip(r)),
        ]),
    ],
    ['PKTAP (258)', 258, (r) => concat([pktapHeader(), r.data])],
    ['PPP (9)', 9, (r) => concat([bytes(0xff, 0x03, 0, version(r) === 4 ? 0x21 : 0x57), ip(r)])],
    [
      'Ethernet, IPv4-in-IPv4 and IPv6-in-IPv4 (Calico IPIP, 6in4)',
      1,
      (r) => concat([ether4(r), outerIpv4(version(r) === 4 ? 4 : 41, ip(r).length), ip(r)]),
    ],
    [
      'Ethernet, GRE carrying IP',
      1,
      (r) => concat([ether4(r), outerIpv4(47, 4 + ip(r).length), bytes(0, 0), ethertype(r), ip(r)]),
    ],
    [
      'Ethernet, GRE with key and sequence carrying ERSPAN II',
      1,
      (r) =>
        concat([
          ether4(r),
          outerIpv4(47, 12 + 8 + r.data.length),
          bytes(0x30, 0, 0x88, 0xbe, 0, 0, 0, 9, 0, 0, 0, 1),
          bytes(0x10, 0, 0, 1, 0, 0, 0, 0),
          r.data,
        ]),
    ],
    [
      'Ethernet, VXLAN on 8472 (flannel, Cilium)',
      1,
      (r) =>
        concat([
          ether4(r),
          outerIpv4(17, 8 + 8 + r.data.length),
          bytes(
            0xc0,
            0x01,
            0x21,
            0x18,
            (16 + r.data.length) >> 8,
            (16 + r.data.length) & 255,
            0,
            0,
          ),
          bytes(0x08, 0, 0, 0, 0, 0, 1, 0),
          r.data,
        ]),
    ],
    [
      'FDDI (10)',
      10,
      (r) =>
        concat([
          bytes(0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xaa, 0xaa, 3, 0, 0, 0),
          ethertype(r),
          ip(r),
        ]),
    ],
  ]
  for (const [name, linktype, wrap] of VARIANTS) {
    it(name, () => {
      const file = writePcap(
        linktype,
        records.map((r) => ({ ...r, data: wrap(r), orig: wrap(r).length })),
      )
      // tshark decodes VXLAN on its IANA port only; 8472 must be named.
      const decodeAs = /8472/.test(name) ? ['-d', 'udp.port==8472,vxlan'] : []
      const path = tempFile(`lt-${VARIANTS.findIndex(([n]) => n === name)}.pcap`, file)
      const theirs = tsharkView(path, decodeAs)
      const { dns } = analyze(file)
      expect(dns.length).toBeGreaterThan(0)
      expect(ourView(dns)).toEqual(lower(theirs))
    })
  }

  // (sll2.pcap is checked against dnscap's gold above: its name is one label ",." which tshark's
  // field output cannot show unambiguously.)
  for (const file of [
    'dnscap/vlan11.pcap',
    'tcpdump/nflog.pcap',
    'tcpdump/LINKTYPE_PKTAP.pcap',
    'tcpdump/dns-badcookie.pcap',
    'zeek/dns-svcb.pcap',
    'zeek/dns-inverse-query.pcap',
    'zeek/tunnels_vxlan-triple-v2.pcap',
    'zeek/tunnels_geneve-vxlan-dns-truncated.pcap',
  ]) {
    it(`${file} (real capture)`, () => {
      const { dns } = analyze(read(file))
      expect(dns.length).toBeGreaterThan(0)
      expect(ourView(dns)).toEqual(lower(tsharkView(corpus('pcap', file))))
    })
  }

  it('802.1Q VLAN 11: the 41 exchanges of dns.pcap, same fields as untagged', () => {
    const tagged = analyze(read('dnscap/vlan11.pcap')).dns
    const plain = analyze(read('dnscap/dns.pcap')).dns
    const strip = (l: DnsMessageEvent[]) => l.map(({ offset: _o, size: _s, ...rest }) => rest)
    expect(tagged).toHaveLength(82)
    expect(strip(tagged)).toEqual(strip(plain))
  })

  it('NFLOG: the 4 responses for example.com and www.example.com, A and AAAA', () => {
    const { dns } = analyze(read('tcpdump/nflog.pcap'))
    expect(dns.map((e) => [e.qname, qtypeName(e.qtype), e.qr, e.srcPort])).toEqual([
      ['example.com.', 'A', true, 53],
      ['example.com.', 'AAAA', true, 53],
      ['www.example.com.', 'A', true, 53],
      ['www.example.com.', 'AAAA', true, 53],
    ])
  })
})

describe('IP fragments', () => {
  for (const file of [
    'dnscap/frags.pcap',
    'go-dnscollector/dnsdump_ip4_fragmented+udp.pcap',
    'go-dnscollector/dnsdump_ip4_fragmented_query.pcap',
    'go-dnscollector/dnsdump_ip6_fragmented+udp.pcap',
    'go-dnscollector/dnsdump_ip6_fragmented_query.pcap',
    'zeek/ipv6-fragmented-dns.pcap',
  ]) {
    it(`${file}: reassembled messages as tshark reassembles them`, () => {
      const { dns } = analyze(read(file))
      expect(ourView(dns)).toEqual(lower(tsharkView(corpus('pcap', file))))
    })
  }

  it('IPv6: a DNSSEC AAAA response in two fragments, whole size and answers', () => {
    const { dns } = analyze(read('go-dnscollector/dnsdump_ip6_fragmented+udp.pcap'))
    const r = dns.find((e) => e.qr)!
    const [row] = tsharkFields(
      corpus('pcap/go-dnscollector/dnsdump_ip6_fragmented+udp.pcap'),
      ['frame.number', 'udp.length', 'dns.count.answers'],
      ['-Y', 'dns.flags.response==1'],
    )
    expect(r).toMatchObject({
      ref: Number(row[0]),
      qtype: 28,
      size: Number(row[1]) - 8,
      ancount: Number(row[2]),
    })
    expect(r.size).toBeGreaterThan(1280)
    expect(r.malformed).toBeUndefined()
  })

  it('fragments that never complete are reported, and the table stays bounded', () => {
    // 300 first fragments of different datagrams (ids), none completed, then one real query.
    const base = readPcap(read('dnscap/dns.pcap')).records[0]
    const frags: PcapRecord[] = []
    for (let i = 0; i < 300; i++) {
      const d = base.data.slice()
      d[18] = i >> 8 // IP identification
      d[19] = i & 255
      d[20] = 0x20 // MF, offset 0
      frags.push({ ...base, data: d })
    }
    const { report, dns } = analyze(writePcap(1, [...frags, base]))
    expect(dns).toHaveLength(1)
    const messages = report.inputs[0].problems.map((p) => p.message)
    expect(messages.filter((m) => /more than 256 datagrams pending/.test(m))).toHaveLength(44)
    expect(
      messages.filter((m) => /still incomplete at the end of the capture/.test(m)).length,
    ).toBeGreaterThan(0)
  })
})

describe('DNS over TCP', () => {
  const tcp = (file: string) =>
    analyze(read(file)).dns.map((e) => `${e.ref}:${e.id.toString(16)}:${e.qr ? 'R' : 'Q'}`)

  it('several messages in one segment (dnsotcp-many1pkt): three queries in frame 4', () => {
    expect(tcp('dnscap/dnsotcp-many1pkt.pcap')).toEqual([
      '4:e7af:Q',
      '4:e7af:Q',
      '4:e7af:Q',
      '6:12cf:R',
    ])
  })

  it('one message over many segments (dnsotcp-manyopkts): completed in frames 4 and 6', () => {
    expect(tcp('dnscap/dnsotcp-manyopkts.pcap')).toEqual(['4:e7af:Q', '6:e7af:Q', '6:e7af:Q'])
  })

  it('a segment missing in the middle (dnso1tcp-midmiss): the rest is kept', () => {
    const { report, dns } = analyze(read('dnscap/dnso1tcp-midmiss.pcap'))
    expect(dns.map((e) => `${e.ref}:${e.id.toString(16)}`)).toEqual([
      '6:e7af',
      '8:e7af',
      '12:8b51',
      '14:14d9',
      '17:59c6',
      '19:59c6',
    ])
    expect(report.inputs[0].problems.map((p) => `${p.where}: ${p.message}`)).toEqual([
      // The server's ACK in frame 14 proves the client's 30 bytes were sent; the client's ACK in
      // frame 15 proves the server's 145 bytes were.
      'packet 14: TCP 172.17.0.8:51388 > 8.8.8.8:53: 30 bytes were never captured',
      'packet 15: TCP 8.8.8.8:53 > 172.17.0.8:51388: 145 bytes were never captured',
    ])
  })

  it('no SYN, stream joined mid-way (1qtcpnosyn)', () => {
    expect(tcp('dnscap/1qtcpnosyn.pcap')).toEqual(['2:12cf:Q', '4:12cf:R'])
  })

  it('TCP Fast Open: the query rides in the SYN', () => {
    expect(tcp('go-dnscollector/dnsdump_tcp_fastopen.pcap')).toEqual([
      '1:f443:Q',
      '4:f443:R',
      '9:a589:Q',
      '12:a589:R',
      '17:880:Q',
      '20:880:R',
      '25:5b25:Q',
      '28:5b25:R',
    ])
  })

  it('a TCP response with junk after its records, between UDP exchanges (dnsjit)', () => {
    const { report, dns } = analyze(read('dnsjit/tcp-response-with-trailing-junk.pcap'))
    const r = dns.find((e) => e.transport === 'tcp' && e.qr)!
    expect(r).toMatchObject({ ref: 14, id: 0x1c23, rcode: 3, size: 731 })
    expect(ourView(dns)).toEqual(
      lower(tsharkView(corpus('pcap/dnsjit/tcp-response-with-trailing-junk.pcap'))),
    )
    expect(report.inputs[0].problems).toEqual([])
  })

  it('a message cut short by the snaplen is reported, not emitted; the others are kept', () => {
    // Frame 6 of dnsotcp-manyopkts completes one query and carries a second whole one: cut 10
    // bytes off its end, as a short snaplen would.
    const recs = readPcap(read('dnscap/dnsotcp-manyopkts.pcap')).records
    const six = recs[5]
    const cut = writePcap(1, [
      ...recs.slice(0, 5),
      { ...six, data: six.data.slice(0, six.data.length - 10), orig: six.data.length },
      ...recs.slice(6),
    ])
    const { report, dns } = analyze(cut)
    expect(dns.map((e) => `${e.ref}:${e.id.toString(16)}`)).toEqual(['4:e7af', '6:e7af'])
    expect(report.inputs[0].problems.map((p) => `${p.where}: ${p.message}`)).toEqual([
      'packet 6: TCP 172.17.0.8:51388 > 8.8.8.8:53: 10 bytes of a segment were not captured (snaplen); dropped 20 bytes of a DNS message they cut',
    ])
  })

  it('a 2 KB answer over several segments after a truncated UDP answer', () => {
    const { dns } = analyze(read('go-dnscollector/dnsdump_udp_truncated+tcp_fragmented.pcap'))
    expect(dns.map((e) => [e.transport, e.qr, (e.flags & 0x200) !== 0])).toEqual([
      ['udp', false, false],
      ['udp', true, true],
      ['tcp', false, false],
      ['tcp', true, false],
    ])
    expect(dns[3].size).toBeGreaterThan(2000)
  })

  // Rewrites of dnso1tcp.pcap (41 exchanges over one TCP connection): reorder, repeat or drop
  // segments and check what comes out against the original.
  const original = readPcap(read('dnscap/dnso1tcp.pcap'))
  const payloadLen = (r: PcapRecord) => {
    const ihl = (r.data[14] & 15) * 4
    const total = (r.data[16] << 8) | r.data[17]
    return total - ihl - (r.data[14 + ihl + 12] >> 4) * 4
  }
  const ids = (dns: DnsMessageEvent[]) => dns.map((e) => `${e.id}:${e.qr ? 'R' : 'Q'}`)
  const full = ids(analyze(writePcap(1, original.records)).dns)

  it('out-of-order segments are put back in order', () => {
    // The client writes each query as two segments: the 2-byte length, then the message. Let the
    // network deliver the message first: [length, ACK, message] becomes [message, length, ACK].
    const recs = original.records.slice()
    let moved = 0
    for (let i = 0; i + 2 < recs.length; i++) {
      if (
        payloadLen(recs[i]) === 2 &&
        payloadLen(recs[i + 1]) === 0 &&
        payloadLen(recs[i + 2]) > 12
      ) {
        ;[recs[i], recs[i + 1], recs[i + 2]] = [recs[i + 2], recs[i], recs[i + 1]]
        moved++
        i += 2
      }
    }
    expect(moved).toBe(41)
    const { report, dns } = analyze(writePcap(1, recs))
    expect(full).toHaveLength(82)
    expect(ids(dns).sort()).toEqual([...full].sort())
    expect(report.inputs[0].problems).toEqual([])
  })

  it('retransmitted segments are not read twice', () => {
    const recs = original.records.flatMap((r) => (payloadLen(r) > 0 ? [r, r] : [r]))
    const { report, dns } = analyze(writePcap(1, recs))
    expect(ids(dns)).toEqual(full)
    expect(report.inputs[0].problems).toEqual([])
  })

  it('a lost segment costs only the messages it cut', () => {
    const dataIdx = original.records
      .map((r, i) => (payloadLen(r) > 10 ? i : -1))
      .filter((i) => i >= 0)
    const dropped = dataIdx[20] // a whole message
    const recs = original.records.filter((_, i) => i !== dropped)
    const { report, dns } = analyze(writePcap(1, recs))
    expect(dns).toHaveLength(81)
    const lost = full.filter((m) => !ids(dns).includes(m))
    expect(lost).toHaveLength(1)
    expect(report.inputs[0].problems.some((p) => /bytes were never captured/.test(p.message))).toBe(
      true,
    )
  })
})

describe('DNS over TCP, bounded memory', () => {
  const frame = (data: Uint8Array, i: number): PcapRecord => ({
    sec: 1_700_000_000,
    frac: i,
    orig: data.length,
    data,
  })
  const SYN = 0x02
  const PSH_ACK = 0x18

  it('out-of-order segments are held at most 64 deep, then the hole is declared lost', () => {
    // One client sends 100 queries on one connection, but the capture lost its first segment and
    // no ACK from the server says so: after 64 held segments the hole is given up on.
    const src = '10.0.0.1'
    const dst = '10.0.0.53'
    const recs: PcapRecord[] = [
      frame(tcpFrame({ src, dst, sport: 40000, dport: 53, seq: 999, flags: SYN }), 0),
    ]
    let seq = 1000
    for (let i = 0; i < 100; i++) {
      const q = tcpQuery(i, `q${i}.example`)
      if (i > 0)
        recs.push(
          frame(
            tcpFrame({ src, dst, sport: 40000, dport: 53, seq, flags: PSH_ACK, payload: q }),
            i,
          ),
        )
      seq += q.length
    }
    const { report, dns } = analyze(writePcap(1, recs))
    expect(dns.map((e) => e.id)).toEqual(Array.from({ length: 99 }, (_, i) => i + 1))
    expect(messages(report)).toEqual([
      `packet 66: TCP ${src}:40000 > ${dst}:53: ${tcpQuery(0, 'q0.example').length} bytes were never captured`,
    ])
  })

  it(`at most ${MAX_DIRECTIONS} TCP directions are tracked; the oldest is closed and reported`, () => {
    // MAX_DIRECTIONS + 1 clients each send the first half of a query and never the rest.
    const recs: PcapRecord[] = []
    for (let i = 0; i <= MAX_DIRECTIONS; i++) {
      const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
      const q = tcpQuery(i & 0xffff, 'half.example')
      recs.push(
        frame(
          tcpFrame({
            src,
            dst: '10.0.0.53',
            sport: 40000,
            dport: 53,
            seq: 1,
            flags: PSH_ACK,
            payload: q.subarray(0, 10),
          }),
          i,
        ),
      )
    }
    const { report, dns } = analyze(writePcap(1, recs))
    expect(dns).toHaveLength(0)
    const all = messages(report)
    expect(all[0]).toBe(
      `packet ${MAX_DIRECTIONS + 1}: TCP 10.0.0.0:40000 > 10.0.0.53:53: more than ${MAX_DIRECTIONS} TCP directions were open inside a DNS message (10 bytes of it were seen)`,
    )
    expect(all.at(-1)).toMatch(/more problem\(s\) not listed/)
  })
})

describe('timestamps and file formats', () => {
  it('times past 2038 and 2106 are exact (tcpdump says 2038-01-01, 2106-02-07 06:28:16, 2107-01-01)', () => {
    expect(analyze(read('tcpdump/time_2038.pcap')).dns[0].time).toBe(2145916800_000000)
    expect(analyze(read('tcpdump/time_2106_overflow.pcapng')).dns[0].time).toBe(4294967296_000000)
    expect(analyze(read('tcpdump/time_2107.pcapng')).dns[0].time).toBe(4323283200_000000)
  })

  it('nanosecond pcap in both byte orders: µs truncated, same events as microsecond pcap', () => {
    const f = readPcap(read('dnscap/dns.pcap'))
    const micro = analyze(writePcap(1, f.records)).dns
    const nsRecords = f.records.map((r) => ({ ...r, frac: r.frac * 1000 + 999 }))
    for (const bigEndian of [false, true]) {
      const bytesNs = writePcap(1, nsRecords, { nanoseconds: true, bigEndian })
      const { report, dns } = analyze(bytesNs)
      expect(report.inputs[0].kind).toBe('pcap')
      expect(dns.map((e) => [e.ref, e.time, e.id, e.qname])).toEqual(
        micro.map((e) => [e.ref, e.time, e.id, e.qname]),
      )
      // tshark reads the same file; its times truncated to µs are ours.
      const t = tsharkView(tempFile(`ns-${bigEndian}.pcap`, bytesNs))
      expect(ourView(dns)).toEqual(lower(t))
    }
  })

  it('pcapng with two interfaces of different resolution (zeek)', () => {
    const { dns } = analyze(read('zeek/pcapng-multi-interface.pcapng'))
    expect(ourView(dns)).toEqual(
      lower(tsharkView(corpus('pcap/zeek/pcapng-multi-interface.pcapng'))),
    )
    expect(dns[0].time).toBe(1767663089_500330) // 1767663089.500330493 on an ns interface
  })

  // A pcapng written here in each byte order from dns.pcap's packets: three interfaces (ns, µs with
  // a 3600 s if_tsoffset, 2^-20 s), an unknown block, an Enhanced Packet Block per packet and two
  // Simple Packet Blocks (no timestamp). tshark reads it independently.
  for (const bigEndian of [false, true]) {
    it(`pcapng, ${bigEndian ? 'big' : 'little'}-endian: interfaces, resolutions, offsets, SPB, unknown blocks`, () => {
      const f = readPcap(read('dnscap/dns.pcap'))
      const isDns = (r: PcapRecord) => r.data[23] === 17
      f.records = f.records.filter(isDns)
      const blocks: { type: number; body: Uint8Array }[] = [
        { type: 0x0a0d0d0a, body: ng.shb(bigEndian) },
        { type: 1, body: ng.idb(1, 65535, { tsresol: 9 }, bigEndian) },
        { type: 1, body: ng.idb(1, 65535, { tsresol: 6, tsoffset: 3600n }, bigEndian) },
        { type: 1, body: ng.idb(1, 65535, { tsresol: 0x80 | 20 }, bigEndian) },
        // A custom block: Wireshark counts it as a frame (without packet), so we number it too.
        { type: 0x0bad, body: bytes(1, 2, 3, 4, 5, 6, 7, 8) },
        // A block type nobody defined: skipped, not a frame.
        { type: 0x0b, body: bytes(1, 2, 3, 4) },
      ]
      f.records.slice(0, 30).forEach((r, i) => {
        const ifid = i % 3
        const us = BigInt(r.sec) * 1_000_000n + BigInt(r.frac)
        const ts =
          ifid === 0
            ? us * 1000n + 123n
            : ifid === 1
              ? us - 3_600_000_000n
              : (us << 20n) / 1_000_000n
        blocks.push({ type: 6, body: ng.epb(ifid, ts, r.data, r.data.length, bigEndian) })
      })
      blocks.push({ type: 3, body: ng.spb(f.records[30].data, bigEndian) })
      blocks.push({ type: 3, body: ng.spb(f.records[31].data, bigEndian) })
      const file = writePcapng(blocks, bigEndian)
      const { report, dns } = analyze(file)
      expect(report.inputs[0].kind).toBe('pcapng')
      expect(dns).toHaveLength(32)
      const timed = dns.filter((e) => !Number.isNaN(e.time))
      expect(timed).toHaveLength(30)
      const t = tsharkView(tempFile(`ng-${bigEndian}.pcapng`, file)).slice(0, 30)
      expect(ourView(timed)).toEqual(lower(t))
      // Exact values: the ns interface keeps µs, the tsoffset is added back, 2^-20 s floors to µs.
      const micro = analyze(writePcap(1, f.records)).dns
      expect(timed[0].time).toBe(micro[0].time)
      expect(timed[1].time).toBe(micro[1].time)
      expect(Math.abs(timed[2].time - micro[2].time)).toBeLessThanOrEqual(1)
      // SPBs: no time, a problem says so, the frame numbers continue.
      expect(dns.slice(30).map((e) => [e.ref, e.time, e.id])).toEqual([
        [32, NaN, micro[30].id],
        [33, NaN, micro[31].id],
      ])
      expect(report.inputs[0].problems).toEqual([
        {
          where: 'capture',
          message: '2 simple packet block(s) carry no timestamp: their events have no time',
        },
      ])
    })
  }

  it('the byte offset of each event points at its record', () => {
    const b = read('dnscap/dns.pcap')
    const { dns } = analyze(b)
    const dv = new DataView(b.buffer, b.byteOffset)
    let pos = 24
    const offsets = new Map<number, number>()
    for (let frame = 1; pos + 16 <= b.length; frame++) {
      offsets.set(frame, pos)
      pos += 16 + dv.getUint32(pos + 8, true)
    }
    for (const e of dns) expect(e.offset).toBe(offsets.get(e.ref))
  })
})

describe('DNS ports', () => {
  it('port 53 by default; other ports when asked (UDP and TCP on 8053, tcpdump)', () => {
    for (const [file, proto] of [
      ['tcpdump/dns_udp_8053.pcap', 'udp'],
      ['tcpdump/dns_tcp_8053.pcap', 'tcp'],
    ]) {
      expect(analyze(read(file)).dns).toHaveLength(0)
      const { dns } = analyze(read(file), [8053])
      expect(dns).toHaveLength(2)
      expect(ourView(dns)).toEqual(
        lower(tsharkView(corpus('pcap', file), ['-d', `${proto}.port==8053,dns`])),
      )
    }
  })

  it('TCP on port 53000 (pktvisor), against tshark told to decode it as DNS', () => {
    for (const file of ['pktvisor/dns_ipv4_tcp.pcap', 'pktvisor/dns_ipv6_tcp.pcap']) {
      const { dns } = analyze(read(file), [53000])
      const theirs = tsharkView(corpus('pcap', file), ['-d', 'tcp.port==53000,dns'])
      expect(dns.length).toBeGreaterThan(100)
      expect(ourView(dns)).toEqual(lower(theirs))
    }
  })

  it('UDP on port 53000 (pktvisor), against tshark told to decode it as DNS', () => {
    for (const file of ['pktvisor/dns_ipv4_udp.pcap', 'pktvisor/dns_ipv6_udp.pcap']) {
      const { dns } = analyze(read(file), [53000])
      expect(dns).toHaveLength(140)
      expect(ourView(dns)).toEqual(
        lower(tsharkView(corpus('pcap', file), ['-d', 'udp.port==53000,dns'])),
      )
    }
  })
})

describe('one packet captured twice (tcpdump -i any on a forwarding host)', () => {
  // dns.pcap's exchanges as a node sees them with `tcpdump -i any` (SLL2): each packet enters on
  // ifindex 2 and leaves on ifindex 3 20 µs later, one hop older, queries DNATed to 10.96.0.10's
  // endpoint 172.17.0.99. Then the client sends its first query again 1 s later, with a new IP id.
  const src = readPcap(read('dnscap/dns.pcap')).records.filter((r) => r.data[23] === 17)
  const sll2 = (
    r: PcapRecord,
    pkttype: number,
    ifindex: number,
    edit?: (ip: Uint8Array) => void,
  ) => {
    const ipPacket = r.data.slice(14)
    edit?.(ipPacket)
    const h = new Uint8Array(20)
    const dv = new DataView(h.buffer)
    dv.setUint16(0, 0x0800)
    dv.setUint32(4, ifindex)
    dv.setUint16(8, 1)
    h[10] = pkttype
    h[11] = 6
    return concat([h, ipPacket])
  }
  const at = (r: PcapRecord, us: number): PcapRecord => {
    const t = r.sec * 1_000_000 + r.frac + us
    return { ...r, sec: Math.floor(t / 1_000_000), frac: t % 1_000_000 }
  }
  const records: PcapRecord[] = []
  for (const r of src.slice(0, 10)) {
    const inbound = sll2(r, 0, 2)
    const outbound = sll2(r, 4, 3, (ip) => {
      ip[8]-- // TTL
      if (ip[20 + 2] === 0 && ip[20 + 3] === 53) ip.set([172, 17, 0, 99], 16) // DNAT of queries
    })
    records.push(
      { ...r, data: inbound, orig: inbound.length },
      { ...at(r, 20), data: outbound, orig: outbound.length },
    )
  }
  const again = sll2(src[0], 0, 2, (ip) => (ip[5] ^= 0xff)) // new IP id
  records.push({ ...at(src[0], 1_000_000), data: again, orig: again.length })

  it('marks the second copy with the frame of the first, not the later resend', () => {
    const { dns } = analyze(writePcap(276, records))
    expect(dns).toHaveLength(21)
    for (let i = 0; i < 20; i += 2) {
      expect(dns[i].copyOf).toBeUndefined()
      expect(dns[i + 1]).toMatchObject({ copyOf: dns[i].ref, id: dns[i].id, qname: dns[i].qname })
    }
    expect(dns[1].dstAddr).toBe('172.17.0.99')
    expect(dns[20]).toMatchObject({ id: dns[0].id, qname: dns[0].qname })
    expect(dns[20].copyOf).toBeUndefined()
    // tshark counts every copy as a message, and so does summary.messages.
    const theirs = tsharkView(tempFile('forwarded.pcap', writePcap(276, records)))
    expect(ourView(dns)).toEqual(lower(theirs))
  })

  it('only in Linux cooked captures: one interface cannot see a packet twice', () => {
    const asEthernet = records.map((r) => ({
      ...r,
      data: concat([src[0].data.subarray(0, 14), r.data.subarray(20)]),
    }))
    const { dns } = analyze(writePcap(1, asEthernet))
    expect(dns).toHaveLength(21)
    expect(dns.filter((e) => e.copyOf !== undefined)).toHaveLength(0)
  })
})

describe('through the whole analysis', () => {
  it('dnscap dns.pcap: 82 messages make 41 transactions, none unanswered', () => {
    const { report } = analyze(read('dnscap/dns.pcap'))
    expect(report.summary).toMatchObject({ messages: 82, transactions: 41, unanswered: 0 })
  })
})

describe('importer contract', () => {
  it('sniffs by magic bytes, not by name', () => {
    const pcap = read('dnscap/dns.pcap')
    const pcapng = read('wireshark/dns+icmp.pcapng')
    expect(pcapImporter.sniff(pcap.subarray(0, 64), 'x.bin')).toBe(true)
    expect(pcapImporter.sniff(pcapng.subarray(0, 64), 'x.pcap')).toBe(false)
    expect(pcapngImporter.sniff(pcapng.subarray(0, 64), 'x.bin')).toBe(true)
    expect(pcapngImporter.sniff(pcap.subarray(0, 64), 'x.pcapng')).toBe(false)
    expect(
      pcapImporter.sniff(new TextEncoder().encode('a1b2c3d4 is not a capture'), 'x.pcap'),
    ).toBe(false)
  })

  it('every event is a well-formed DnsMessageEvent', () => {
    const { dns } = analyze(read('pktvisor/dns_udp_tcp_random.pcap'))
    for (const e of dns) {
      expect(Number.isInteger(e.time)).toBe(true)
      expect(e.input).toBe(0)
      expect(e.vantage).toBe('x.bin')
      expect(e.qname.endsWith('.') || e.qname === '').toBe(true)
      expect(e.opcode).toBe((e.flags >> 11) & 15)
      expect(e.rcode).toBe(e.flags & 15)
    }
  })
})
