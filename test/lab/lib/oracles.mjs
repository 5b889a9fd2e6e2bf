// Readers for the independent oracles the ground truth is built from: tshark on the captures,
// dnstap-ldns on the dnstap file, the client's JSON lines, dnsperf's summary, iptables counters
// and the bpftrace drop lines. None of this touches the analyzer's code.
import { readFileSync } from 'node:fs'
import { sh } from './proc.mjs'

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ip.dst',
  'udp.srcport',
  'udp.dstport',
  'tcp.srcport',
  'tcp.dstport',
  'dns.id',
  'dns.flags.response',
  'dns.qry.name',
  'dns.qry.type',
  'dns.flags.rcode',
  'dns.a',
  'dns.aaaa',
]

/** "1795688530.123214000" -> 1795688530123214 (integer µs, no float rounding). */
export function epochToUs(s) {
  const [sec, frac = ''] = s.split('.')
  return Number(sec) * 1_000_000 + Number((frac + '000000').slice(0, 6))
}

/**
 * Every DNS message in a capture, as tshark decodes it. ICMP errors that quote a DNS packet are
 * left out (`!icmp`): they are not DNS messages on the wire.
 */
export function tsharkDns(pcap) {
  const out = sh('tshark', [
    '-r',
    pcap,
    '-n',
    '-Y',
    'dns && !icmp',
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=|',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ])
  const rows = []
  for (const line of out.split('\n')) {
    if (!line) continue
    const c = line.split('\t')
    const first = (v) => (v ?? '').split('|')[0]
    const list = (v) => (v ? v.split('|').filter(Boolean) : [])
    const udp = c[4] !== ''
    rows.push({
      frame: Number(c[0]),
      t: epochToUs(c[1]),
      src: first(c[2]),
      dst: first(c[3]),
      sport: Number(first(udp ? c[4] : c[6])),
      dport: Number(first(udp ? c[5] : c[7])),
      transport: udp ? 'udp' : 'tcp',
      id: parseInt(first(c[8]), 16),
      qr: first(c[9]) === '1' || first(c[9]) === 'True',
      qname: (first(c[10]) + '.').toLowerCase(),
      qtype: Number(first(c[11])),
      rcode: c[12] === '' ? null : Number(first(c[12])),
      nA: list(c[13]).length,
      nAAAA: list(c[14]).length,
    })
  }
  return rows
}

/** Frame counts of a capture by display filter, as a cross-check (tshark -Y FILTER). */
export function tsharkCount(pcap, filter) {
  const out = sh('tshark', ['-r', pcap, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number'])
  return out.split('\n').filter(Boolean).length
}

/** dnstap messages as dnstap-ldns decodes them (-y): type, addresses, ports, id, qname, qtype. */
export function dnstapMessages(file) {
  const out = sh('dnstap-ldns', ['-y', '-r', file])
  const msgs = []
  for (const doc of out.split(/^---$/m)) {
    const type = (doc.match(/^[ \t]+type: (\w+)$/m) ?? [])[1]
    if (!type) continue
    const id = Number((doc.match(/id: (\d+)/) ?? [])[1] ?? NaN)
    const q = doc.match(/;; QUESTION SECTION:\n\s*;(\S+)\s+IN\s+(\S+)/)
    const ts = doc.match(
      /(?:query|response)_time: !!timestamp (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{1,9})/,
    )
    msgs.push({
      type,
      // dnstap-ldns prints UTC with microseconds.
      t: ts
        ? Date.parse(`${ts[1]}T${ts[2]}Z`) * 1000 + Number((ts[3] + '000000').slice(0, 6))
        : NaN,
      queryAddress: (doc.match(/query_address: "([^"]+)"/) ?? [])[1] ?? '',
      queryPort: Number((doc.match(/query_port: (\d+)/) ?? [])[1] ?? NaN),
      responseAddress: (doc.match(/response_address: "([^"]+)"/) ?? [])[1] ?? '',
      id,
      qname: q ? q[1].toLowerCase() : '',
      qtype: q ? q[2] : '',
      rcode: (doc.match(/rcode: (\w+), id:/) ?? [])[1] ?? '',
    })
  }
  return msgs
}

/** The client's lookup log (one JSON object per line). */
export function clientLog(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.i - b.i)
}

/** dnsperf's own summary counters. */
export function dnsperfCounters(text) {
  const num = (re) => Number((text.match(re) ?? [])[1] ?? NaN)
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    noerror: num(/NOERROR (\d+)/),
    avgLatencyS: num(/Average Latency \(s\):\s+([\d.]+)/),
    maxLatencyS: num(/Average Latency \(s\):.*max ([\d.]+)/),
  }
}

/** Packet counter of the first rule in `chain` of `table` whose text contains `match`. */
export function iptablesPackets(listing, match) {
  for (const line of listing.split('\n')) {
    if (line.includes(match)) {
      const n = Number(line.trim().split(/\s+/)[0])
      if (Number.isFinite(n)) return n
    }
  }
  return NaN
}

/** bpftrace drop lines (dns-drops.bt): TIME PID COMM REASON FUNC PROTO SADDR SPORT DADDR DPORT NETNS */
export function dropLines(text) {
  const rows = []
  for (const line of text.split('\n')) {
    const c = line.trim().split(/\s+/)
    if (c.length < 11 || !/^\d{4}-\d\d-\d\dT/.test(c[0])) continue
    const n = c.length
    rows.push({
      line,
      time: c[0],
      reason: c[n - 8],
      func: c[n - 7],
      proto: c[n - 6],
      src: c[n - 5],
      sport: Number(c[n - 4]),
      dst: c[n - 3],
      dport: Number(c[n - 2]),
      netns: c[n - 1],
    })
  }
  return rows
}
