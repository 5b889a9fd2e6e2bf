// ndots-amplification. The lookup mirrors the seed talk: A of www.aliyun.com under
// `search default.svc.cluster.local svc.cluster.local cluster.local` + `options ndots:5` costs 8
// queries, 6 wasted (resolv.conf from corpus/config/resolv.conf/coredns-coredns-2340_kops-aws_ndots5.resolv.conf
// shape). The log-only case is corpus/coredns-log/kubernetes-kubernetes-80243_rfc3339-ts_mixed.log.
import { expect } from 'vitest'
import { ndotsAmplification } from '../../core/rules/ndots-amplification.js'
import { ctx, fact, lookup, tx } from './context.js'
import { ruleTable } from './table.js'

const SEARCH = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']
const resolv = (ndots: number) =>
  fact(
    {
      type: 'resolv-conf',
      nameservers: ['172.21.0.10'],
      search: SEARCH,
      ndots,
      timeout: 5,
      attempts: 2,
      options: [`ndots:${ndots}`],
    },
    { vantage: 'pod-a' },
  )

/** www.aliyun.com: 3 search candidates x A/AAAA NXDOMAIN, then the name itself. */
function aliyun() {
  const names = [...SEARCH.map((s) => `www.aliyun.com.${s}.`), 'www.aliyun.com.']
  const transactions = names.flatMap((n, i) => [
    tx({ qname: n, qtype: 1, at: i * 2000, rcode: n === 'www.aliyun.com.' ? 0 : 3 }),
    tx({ qname: n, qtype: 28, at: i * 2000 + 50, rcode: n === 'www.aliyun.com.' ? 0 : 3 }),
  ])
  return {
    transactions,
    lookups: [
      lookup({
        name: 'www.aliyun.com',
        transactions: transactions.map((_, i) => i),
        wasted: 6,
        answeredName: 'www.aliyun.com.',
      }),
    ],
  }
}
const L80243: [string, number][] = [
  ['kubernetes.default.svc.cluster.local.default.svc.cluster.local.', 3],
  ['kubernetes.default.svc.cluster.local.svc.cluster.local.', 3],
  ['kubernetes.default.svc.cluster.local.cluster.local.', 3],
  ['kubernetes.default.svc.cluster.local.intermax.local.', 3],
  ['kubernetes.default.svc.cluster.local.', 0],
]
const log80243 = () =>
  L80243.map(([q, rc], i) =>
    tx({
      client: '10.244.1.3',
      clientPort: 33509 + i,
      qname: q,
      rcode: rc,
      at: i * 1000,
      source: 'log',
      path: ['coredns'],
      answerAddrs: -1,
    }),
  )

ruleTable(ndotsAmplification, {
  fires: [
    {
      name: "the seed's www.aliyun.com: 8 queries, 6 wasted, under ndots:5",
      ctx: () => ctx({ ...aliyun(), events: [resolv(5)] }),
      expect: (f) => {
        expect(f.confidence).toBe(0.9)
        expect(f.severity).toBe('warning')
        expect(f.data).toMatchObject({
          wasted: 6,
          transactions: 8,
          share: 0.75,
          ndots: 5,
          method: 'lookups',
          worstNames: [{ name: 'www.aliyun.com', wasted: 6, lookups: 1 }],
        })
        expect(f.mitigation).toContain('`www.aliyun.com.`')
        expect(ndotsAmplification.describe!(f.data)).toBe(
          '6 of 8 queries (75%) were wasted on search-list candidates under ndots:5; worst: www.aliyun.com (6 wasted).',
        )
      },
    },
    {
      name: 'a CoreDNS log alone (kubernetes#80243): candidates recognised by their suffix',
      ctx: () => ctx({ transactions: log80243() }),
      expect: (f) => {
        expect(f.confidence).toBe(0.6)
        expect(f.data).toMatchObject({ wasted: 3, transactions: 5, method: 'qname-pattern' })
        expect(f.data.worstNames).toEqual([
          { name: 'kubernetes.default.svc.cluster.local.', wasted: 3, lookups: 0 },
        ])
      },
    },
    {
      name: 'with the pod resolv.conf the extra search domain counts too',
      ctx: () =>
        ctx({
          transactions: log80243(),
          events: [
            fact({
              type: 'resolv-conf',
              nameservers: ['10.96.0.10'],
              search: [...SEARCH, 'intermax.local'],
              ndots: 5,
              timeout: 5,
              attempts: 2,
              options: [],
            }),
          ],
        }),
      expect: (f) => expect(f.data.wasted).toBe(4),
    },
  ],
  quiet: [
    {
      name: 'fully qualified names: no candidate wasted',
      ctx: () => {
        const t = [
          tx({ qname: 'www.aliyun.com.', qtype: 1 }),
          tx({ qname: 'www.aliyun.com.', qtype: 28, at: 50 }),
        ]
        return ctx({
          transactions: t,
          lookups: [
            lookup({
              name: 'www.aliyun.com.',
              transactions: [0, 1],
              answeredName: 'www.aliyun.com.',
            }),
          ],
        })
      },
    },
    {
      name: 'a failed lookup wastes nothing (its candidates are nxdomain-storm material)',
      ctx: () => {
        const { transactions } = aliyun()
        return ctx({
          transactions,
          lookups: [
            lookup({
              name: 'www.aliyun.com',
              transactions: transactions.map((_, i) => i),
              outcome: 'nxdomain',
              wasted: 0,
            }),
          ],
        })
      },
    },
    {
      name: 'log only: NXDOMAIN for a dotless name (databse.default.svc.cluster.local.)',
      ctx: () =>
        ctx({
          transactions: [
            tx({
              qname: 'databse.default.svc.cluster.local.',
              rcode: 3,
              source: 'log',
              path: ['coredns'],
            }),
          ],
        }),
    },
    { name: 'no queries', ctx: () => ctx({ events: [resolv(5)] }) },
  ],
})
