// The lab's zone data, used both to configure the servers and, independently of the analyzer, to
// predict what glibc will ask and what it will get (the ground truth's model of the resolver).
import { SEARCH } from './config.mjs'

const pad = (n) => String(n).padStart(2, '0')

/** cluster.local, answered by unbound's local-data (as CoreDNS's kubernetes plugin answers). */
export const CLUSTER_RECORDS = [
  ['kubernetes.default.svc.cluster.local', 'A', '10.253.100.1'],
  ['database.default.svc.cluster.local', 'A', '10.253.100.10'],
  ['redis.cache.svc.cluster.local', 'A', '10.253.100.11'],
  ['web.default.svc.cluster.local', 'A', '10.253.100.12'],
  ['web.default.svc.cluster.local', 'AAAA', 'fd00:253::12'],
  ...Array.from({ length: 80 }, (_, i) => [
    `svc-${pad(i + 1)}.default.svc.cluster.local`,
    'A',
    `10.253.101.${i + 1}`,
  ]),
]

/** The "external" world, served by nsd as a small root zone (so typo names get a real NXDOMAIN). */
export const EXTERNAL_RECORDS = [
  ['www.aliyun.com', 'CNAME', 'www.aliyun.com.w.cdngslb.com.'],
  ['www.aliyun.com.w.cdngslb.com', 'A', '10.253.200.1'],
  ['mirrors.aliyun.com', 'A', '10.253.200.2'],
  ['oss-cn-hangzhou.aliyuncs.com', 'A', '10.253.200.3'],
  ['api.example.com', 'A', '10.253.200.4'],
  ['api.example.com', 'AAAA', 'fd00:253::200:4'],
  ['www.example.com', 'A', '10.253.200.5'],
  ...Array.from({ length: 80 }, (_, i) => [
    `host-${pad(i + 1)}.example.com`,
    'A',
    `10.253.201.${i + 1}`,
  ]),
  ...Array.from({ length: 60 }, (_, i) => [
    `cdn-${pad(i + 1)}.aliyun.com`,
    'A',
    `10.253.202.${i + 1}`,
  ]),
]

/** Every name under this zone answers A (unbound `redirect`): unique names for dnsperf's load. */
export const PERF_ZONE = 'perf.default.svc.cluster.local'
const PERF_ADDR = '10.253.102.1'

export function unboundLocalData() {
  return [
    ...CLUSTER_RECORDS.map(([n, t, v]) => `  local-data: "${n}. 30 IN ${t} ${v}"`),
    `  local-zone: "${PERF_ZONE}." redirect`,
    `  local-data: "${PERF_ZONE}. 30 IN A ${PERF_ADDR}"`,
  ].join('\n')
}

export function nsdRootZone() {
  const lines = [
    '$ORIGIN .',
    '$TTL 300',
    '. IN SOA a.root-servers.lab. hostmaster.lab. 2026112601 3600 900 604800 300',
    '. IN NS a.root-servers.lab.',
    'a.root-servers.lab. IN A 10.253.3.2',
    ...EXTERNAL_RECORDS.map(([n, t, v]) => `${n}. IN ${t} ${v}`),
  ]
  return lines.join('\n') + '\n'
}

const ALL = [...CLUSTER_RECORDS, ...EXTERNAL_RECORDS]
const byName = new Map()
for (const [n, t, v] of ALL) {
  const k = n.toLowerCase()
  if (!byName.has(k)) byName.set(k, [])
  byName.get(k).push({ t, v })
}

/**
 * What the lab's servers answer for (name, qtype): 'answer' (an address of that type, possibly
 * through a CNAME), 'nodata' (the name exists, or is an empty non-terminal, without that type) or
 * 'nxdomain'.
 */
export function zoneAnswer(name, qtype) {
  let n = name.toLowerCase().replace(/\.$/, '')
  if (n === PERF_ZONE || n.endsWith('.' + PERF_ZONE)) return qtype === 'A' ? 'answer' : 'nodata'
  for (let hops = 0; hops < 8; hops++) {
    const rrs = byName.get(n)
    if (!rrs) break
    if (rrs.some((r) => r.t === qtype)) return 'answer'
    const cname = rrs.find((r) => r.t === 'CNAME')
    if (!cname) return 'nodata'
    n = cname.v.toLowerCase().replace(/\.$/, '')
  }
  if (byName.has(n)) return 'nodata'
  const suffix = '.' + n
  for (const k of byName.keys()) if (k.endsWith(suffix)) return 'nodata'
  return 'nxdomain'
}

/** glibc's candidate names for `name` under `ndots`, in the order res_search tries them. */
export function searchCandidates(name, ndots = 5, search = SEARCH) {
  if (name.endsWith('.')) return [name.toLowerCase()]
  const dots = name.split('.').length - 1
  const expanded = search.map((d) => `${name}.${d}.`.toLowerCase())
  const asIs = `${name}.`.toLowerCase()
  return dots >= ndots ? [asIs, ...expanded] : [...expanded, asIs]
}

/**
 * The wire queries glibc should send for one getaddrinfo(AF_UNSPEC) lookup when nothing is lost:
 * A and AAAA per candidate until one candidate has an address.
 */
export function expectedGlibcQueries(name, ndots = 5) {
  const out = []
  for (const c of searchCandidates(name, ndots)) {
    const a = zoneAnswer(c, 'A')
    const aaaa = zoneAnswer(c, 'AAAA')
    out.push({ qname: c, qtype: 'A', answer: a }, { qname: c, qtype: 'AAAA', answer: aaaa })
    if (a === 'answer' || aaaa === 'answer') return { queries: out, answeredBy: c }
  }
  return { queries: out, answeredBy: null }
}
