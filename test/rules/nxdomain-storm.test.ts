// nxdomain-storm. Typo'd names (the lab's "typo names" scenario) as lookups; the log-only quiet
// case is corpus/coredns-log/coredns-coredns-2494_rfc3339-ts_searchpath-nxdomain.log, whose
// NXDOMAINs are all search-list candidates (ndots, not a storm).
import { expect } from 'vitest'
import { nxdomainStorm } from '../../core/rules/nxdomain-storm.js'
import { ctx, lookup, tx } from './context.js'
import { ruleTable } from './table.js'

function lookups(names: [string, 'address' | 'nxdomain'][]) {
  const transactions = names.map(([n, o], i) =>
    tx({
      client: `10.0.0.${(i % 3) + 5}`,
      qname: n + '.',
      at: i * 1000,
      rcode: o === 'nxdomain' ? 3 : 0,
    }),
  )
  return {
    transactions,
    lookups: names.map(([n, o], i) =>
      lookup({ client: transactions[i].client, name: n, transactions: [i], outcome: o }),
    ),
  }
}
const typos: [string, 'address' | 'nxdomain'][] = [
  ['databse', 'nxdomain'],
  ['databse', 'nxdomain'],
  ['databse', 'nxdomain'],
  ['redis-mastr', 'nxdomain'],
  ['redis-mastr', 'nxdomain'],
  ['paymnets', 'nxdomain'],
  ['database', 'address'],
  ['database', 'address'],
  ['redis-master', 'address'],
  ['payments', 'address'],
]
const L2494 = [
  'servera.fabric-net.svc.cluster.local.svc.cluster.local.',
  'serverd.fabric-net.svc.cluster.local.fabric-net.svc.cluster.local.',
  'serverc.fabric-net.svc.cluster.local.fabric-net.svc.cluster.local.',
  'serverd.fabric-net.svc.cluster.local.fabric-net.svc.cluster.local.',
  'serverb.fabric-net.svc.cluster.local.svc.cluster.local.',
  'serverb.fabric-net.svc.cluster.local.svc.cluster.local.',
  'serverb.fabric-net.svc.cluster.local.cluster.local.',
]

ruleTable(nxdomainStorm, {
  fires: [
    {
      name: '6 of 10 lookups for names that do not exist',
      ctx: () => ctx(lookups(typos)),
      expect: (f) => {
        expect(f.severity).toBe('critical')
        expect(f.confidence).toBe(0.85)
        expect(f.data).toMatchObject({
          nxdomain: 6,
          total: 10,
          unit: 'lookups',
          share: 0.6,
          distinctNames: 3,
          clients: 3,
        })
        expect(f.data.topNames).toEqual([
          { name: 'databse', count: 3 },
          { name: 'redis-mastr', count: 2 },
          { name: 'paymnets', count: 1 },
        ])
        expect(f.mitigation).toContain('databse, redis-mastr, paymnets')
      },
    },
    {
      name: 'no lookups (a server-side log): queries, search candidates excluded',
      ctx: () => ctx({ transactions: lookups(typos).transactions }),
      expect: (f) => {
        expect(f.data.unit).toBe('queries')
        expect(f.confidence).toBe(0.6)
        expect(f.data.nxdomain).toBe(6)
      },
    },
  ],
  quiet: [
    {
      name: 'the coredns#2494 log: every NXDOMAIN is a search candidate',
      ctx: () =>
        ctx({
          transactions: L2494.map((q, i) =>
            tx({
              client: '10.244.0.130',
              qname: q,
              qtype: i % 2 ? 1 : 28,
              rcode: 3,
              at: i,
              source: 'log',
              path: ['coredns'],
            }),
          ),
        }),
    },
    {
      name: '5 NXDOMAIN lookups of 30 (17%, under the 20% share)',
      ctx: () =>
        ctx(
          lookups([
            ...typos.slice(0, 5),
            ...Array.from({ length: 25 }, () => ['database', 'address'] as [string, 'address']),
          ]),
        ),
    },
    {
      name: 'only 4 NXDOMAIN lookups, however large the share',
      ctx: () => ctx(lookups([...typos.slice(0, 4), ['database', 'address']])),
    },
  ],
})
