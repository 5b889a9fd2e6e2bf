// aaaa-waste: AAAA queries answered NOERROR with no AAAA record for names that only have IPv4
// addresses. Seed talk: "Lots of DNS queries — half of them are wasted AAAA queries".
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { evidenceList, lazyEvents, round, topCountsOf, txFacts } from './transaction-views.js'

const A = 1
const AAAA = 28

export const aaaaWaste: Rule = {
  id: 'aaaa-waste',
  title: 'AAAA queries wasted on IPv4-only names',
  severity: 'info',
  description:
    'Resolvers ask for AAAA beside A; in an IPv4-only cluster every AAAA comes back NOERROR with no ' +
    'record (NODATA) and doubles the query load. Counts AAAA NODATA answers for names whose A query ' +
    'got an address. Warning from a 40% share of all queries.',
  mitigation:
    'glibc 2.36+ clients can stop asking: `dnsConfig: {options: [{name: no-aaaa}]}`; apps can resolve ' +
    'with AF_INET only. Server-side, keep AAAA NODATA cheap with a long negative cache: `cache 30 { ' +
    'denial 9984 300 }`.',
  references: [
    'seed talk: "How it works" — half of them are wasted AAAA queries',
    'https://man7.org/linux/man-pages/man5/resolv.conf.5.html (options no-aaaa, glibc 2.36)',
    'https://coredns.io/plugins/cache/',
  ],
  check,
  describe(d) {
    return (
      `${d.aaaaNoData} of ${d.aaaaQueries} AAAA queries were answered with no address for IPv4-only ` +
      `names: ${round(Number(d.shareOfQueries) * 100, 1)}% of all queries.`
    )
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const { transactions } = ctx.correlation
  const f = txFacts(transactions)
  const { n, qtype, rcode, answerAddrs, name } = f
  // One pass: the names whose A query got an address, and every AAAA answered NOERROR with no
  // record (answerAddrs is -1 when the source could not count records: a CoreDNS log line).
  // Indices go in a typed array: there may be hundreds of thousands.
  const hasV4 = new Uint8Array(f.names.length)
  const noRecord = new Int32Array(n)
  let noRecords = 0
  let aaaaQueries = 0
  for (let i = 0; i < n; i++) {
    const q = qtype[i]
    if (q === A) {
      if (rcode[i] === 0 && answerAddrs[i] > 0) hasV4[name[i]] = 1
    } else if (q === AAAA) {
      aaaaQueries++
      if (rcode[i] === 0 && answerAddrs[i] === 0) noRecord[noRecords++] = i
    }
  }
  // Those for a name with an IPv4 address are wasted (kept in order, in place); the rest are
  // counted apart.
  let count = 0
  const perName = new Int32Array(f.names.length)
  let unknownV4 = 0
  for (let k = 0; k < noRecords; k++) {
    const i = noRecord[k]
    if (!hasV4[name[i]]) {
      unknownV4++
      continue
    }
    perName[name[i]]++
    noRecord[count++] = i
  }
  if (count === 0) return []
  const noData = noRecord.subarray(0, count)
  const share = noData.length / transactions.length
  return [
    {
      confidence: 0.9,
      severity: share >= 0.4 ? 'warning' : 'info',
      data: {
        aaaaQueries,
        aaaaNoData: noData.length,
        aaaaNoDataWithoutA: unknownV4,
        transactions: transactions.length,
        shareOfQueries: round(share, 4),
        shareOfAaaa: round(noData.length / aaaaQueries, 4),
        topNames: topCountsOf(f.names, perName, 10).map(({ key, count }) => ({ name: key, count })),
      },
      evidence: evidenceList(lazyEvents(transactions, noData, (t) => t.response)),
    },
  ]
}
