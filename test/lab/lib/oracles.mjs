// Readers for the independent oracles the ground truth is built from: tshark on the captures,
// dnstap-ldns on the dnstap file, the client's JSON lines, dnsperf's summary, iptables counters
// and the rows of the product's bpftrace drop script. None of this touches the analyzer's code.
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

const DROPS_BANNER = 'DNSBUNDLE_DNS_DROPS v1'
const DROPS_HEADER = 'TIME NSECS PID COMM REASON FUNC PROTO NETNS SADDR:SPORT DADDR:DPORT'
const KFREE_SKB_FORMAT = '/sys/kernel/tracing/events/skb/kfree_skb/format'

/**
 * The output of the product's collector/scripts/dns-drops.bt (format v1, documented in its header):
 * bpftrace's "Attaching N probes..." line, the banner, the kfree_skb tracepoint format verbatim,
 * the column header, then one row per dropped packet:
 *   2026-11-26T10:35:47.276849+0000 8417203391 22951 dnsperf 6 udp_queue_rcv_one_skb udp 4026532315 10.253.1.3:51213 10.253.2.2:53
 * `enum skb_drop_reason` numbers differ between kernels: the names come from the
 * __print_symbolic table of the format printed in the file (this kernel's own file if absent).
 * Returns the rows, the preamble (every line up to the header), and any other line (`strays`).
 */
export function dropTable(text) {
  const lines = text.split('\n')
  const h = lines.findIndex((l) => l.trim() === DROPS_HEADER)
  const preamble = h < 0 ? [] : lines.slice(0, h + 1)
  const names = reasonNames(preamble.join('\n'))
  const rows = []
  const strays = []
  for (const line of h < 0 ? lines : lines.slice(h + 1)) {
    const row = dropRow(line, names)
    if (row) rows.push(row)
    else if (line.trim()) strays.push(line)
  }
  return { banner: preamble.some((l) => l.trim() === DROPS_BANNER), preamble, rows, strays }
}

/** `{ 12, "NETFILTER_DROP" }` pairs of the format's print fmt; this kernel's when the text has none. */
function reasonNames(text) {
  let pairs = [...text.matchAll(/\{\s*(\d+),\s*"([A-Z0-9_]+)"\s*\}/g)]
  if (!pairs.length)
    pairs = [
      ...readFileSync(KFREE_SKB_FORMAT, 'utf8').matchAll(/\{\s*(\d+),\s*"([A-Z0-9_]+)"\s*\}/g),
    ]
  return new Map(pairs.map(([, n, name]) => [Number(n), name]))
}

/** One row; COMM may hold spaces, so the fixed columns are taken from both ends. */
function dropRow(line, names) {
  const c = line.trim().split(' ')
  if (c.length < 10 || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d{4}$/.test(c[0])) return null
  const [src, dst] = [c.at(-2), c.at(-1)].map(hostPort)
  const reasonCode = Number(c.at(-6))
  if (!src || !dst || !Number.isInteger(reasonCode)) return null
  return {
    line,
    time: c[0],
    timeUs: isoToUs(c[0]),
    nsecs: c[1],
    pid: Number(c[2]),
    comm: c.slice(3, -6).join(' '),
    reasonCode,
    reason: names.get(reasonCode) ?? `reason ${reasonCode}`,
    func: c.at(-5),
    proto: c.at(-4),
    netns: c.at(-3),
    src: src.addr,
    sport: src.port,
    dst: dst.addr,
    dport: dst.port,
  }
}

/** `10.253.1.3:51213` or `[fd00::1]:53`. */
function hostPort(s) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s ?? '')
  return m ? { addr: m[1], port: Number(m[2]) } : null
}

/** "2026-11-26T10:35:47.276849+0000" -> integer µs since the epoch. */
export function isoToUs(s) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)([+-])(\d\d)(\d\d)$/.exec(s)
  if (!m) return NaN
  const offsetMs = (m[3] === '-' ? -1 : 1) * (Number(m[4]) * 60 + Number(m[5])) * 60_000
  return (Date.parse(`${m[1]}Z`) - offsetMs) * 1000 + Number((m[2] + '000000').slice(0, 6))
}
