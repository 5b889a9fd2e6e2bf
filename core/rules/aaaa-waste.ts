// aaaa-waste: AAAA queries answered NOERROR with no AAAA record for names that only have IPv4
// addresses. Seed talk: "Lots of DNS queries — half of them are wasted AAAA queries".
import type { Transaction } from '../correlate/types.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import {
  evidenceList,
  round,
  topCountsOf,
  txFacts,
  type EvidenceGroup,
  type TxFacts,
} from './transaction-views.js'

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
  const { hasV4, perName, noRecords, aaaaQueries } = aaaaAnswers(f)
  // Those for a name with an IPv4 address are wasted, counted by name; the rest are counted apart.
  let count = 0
  for (let k = 0; k < perName.length; k++)
    if (hasV4[k]) count += perName[k]
    else perName[k] = 0
  if (count === 0) return []
  const unknownV4 = noRecords - count
  const share = count / transactions.length
  return [
    {
      confidence: 0.9,
      severity: share >= 0.4 ? 'warning' : 'info',
      data: {
        aaaaQueries,
        aaaaNoData: count,
        aaaaNoDataWithoutA: unknownV4,
        transactions: transactions.length,
        shareOfQueries: round(share, 4),
        shareOfAaaa: round(count / aaaaQueries, 4),
        topNames: topCountsOf(f.names, perName, 10).map(({ key, count }) => ({ name: key, count })),
      },
      evidence: evidenceList(wastedResponses(transactions, f, hasV4, count)),
    },
  ]
}

/**
 * One pass: the names whose A query got an address, and the AAAAs answered NOERROR with no record
 * (answerAddrs is -1 when the source could not count records: a CoreDNS log line), counted per
 * name. A function of its own: a cold run compiles this loop alone, not the whole check, to
 * optimize it.
 */
function aaaaAnswers(f: TxFacts) {
  const { n, qtype, rcode, answerAddrs, name } = f
  const hasV4 = new Uint8Array(f.names.length)
  const perName = new Int32Array(f.names.length)
  let noRecords = 0
  let aaaaQueries = 0
  for (let i = 0; i < n; i++) {
    const q = qtype[i]
    if (q === A) {
      if (rcode[i] === 0 && answerAddrs[i] > 0) hasV4[name[i]] = 1
    } else if (q === AAAA) {
      aaaaQueries++
      if (rcode[i] === 0 && answerAddrs[i] === 0) {
        noRecords++
        perName[name[i]]++
      }
    }
  }
  return { hasV4, perName, noRecords, aaaaQueries }
}

/**
 * The responses of the `count` wasted AAAAs, in order, found by a scan that goes only as far as
 * the evidence reads: no list of the hundreds of thousands there may be.
 */
function wastedResponses(
  transactions: readonly Transaction[],
  f: TxFacts,
  hasV4: Uint8Array,
  count: number,
): EvidenceGroup {
  const { n, qtype, rcode, answerAddrs, name } = f
  const wasted: number[] = []
  let next = 0
  return {
    length: count,
    at(k) {
      for (; wasted.length <= k && next < n; next++)
        if (
          qtype[next] === AAAA &&
          rcode[next] === 0 &&
          answerAddrs[next] === 0 &&
          hasV4[name[next]]
        )
          wasted.push(next)
      return transactions[wasted[k]]?.response
    },
  }
}
