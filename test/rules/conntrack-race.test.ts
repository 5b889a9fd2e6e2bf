// conntrack-race. The parallel pair mirrors the seed talk's tcpdump (172.20.2.7.54526 >
// 172.21.0.10.53: 28204+ A? / 2863+ AAAA? database.default.svc.cluster.local., one socket). The
// counters mirror corpus/node/conntrack/netdata-netdata-11880_* (insert_failed=47646, drop=47649)
// and corpus/node/conntrack/kubernetes-kubernetes-56903_* (insert_failed 0); kernel 4.15 is the
// Ubuntu Bionic kernel of the SRU thread that backported the fixes.
import { expect } from 'vitest'
import { conntrackRace } from '../../core/rules/conntrack-race.js'
import { ctx, fact, tx, T0 } from './context.js'
import { ruleTable } from './table.js'

const NAME = 'database.default.svc.cluster.local.'
const pair = (
  o: { port?: number; at?: number; aLost?: boolean; aaaaLost?: boolean; aRetried?: boolean } = {},
) => [
  tx({
    client: '172.20.2.7',
    clientPort: o.port ?? 54526,
    server: '172.21.0.10',
    qname: NAME,
    qtype: 1,
    id: 28204,
    at: o.at ?? 0,
    latencyMs: o.aLost ? null : 0.5,
    copies: o.aRetried ? 2 : 1,
  }),
  tx({
    client: '172.20.2.7',
    clientPort: o.port ?? 54526,
    server: '172.21.0.10',
    qname: NAME,
    qtype: 28,
    id: 2863,
    at: (o.at ?? 0) + 86,
    latencyMs: o.aaaaLost ? null : 0.5,
    rcode: 0,
    answerAddrs: 0,
  }),
]
const netdata = (insertFailed: number, time = NaN) =>
  fact(
    {
      type: 'conntrack-stats',
      perCpu: [],
      totals: {
        icmp_error: 86040,
        insert_failed: insertFailed,
        drop: insertFailed + 3,
        early_drop: 0,
      },
    },
    { time },
  )
const zeroStats = () =>
  fact({
    type: 'conntrack-stats',
    perCpu: [],
    totals: {
      entries: 90,
      searched: 2228,
      found: 3774748,
      new: 132421,
      invalid: 1,
      insert: 132421,
      insert_failed: 0,
      drop: 0,
      early_drop: 0,
    },
  })
const kernel = (release: string) => fact({ type: 'kernel', release })

ruleTable(conntrackRace, {
  fires: [
    {
      name: 'AAAA of a parallel pair lost, insert_failed > 0 (one snapshot)',
      ctx: () =>
        ctx({
          transactions: [...pair({ aaaaLost: true }), ...pair({ port: 54600, at: 1e6 })],
          events: [netdata(47646)],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.75)
        expect(f.severity).toBe('critical')
        expect(f.data).toMatchObject({
          pairs: 2,
          pairsWithOneLost: 1,
          lostType: { A: 0, AAAA: 1 },
          insertFailed: 47646,
          insertFailedIncrease: null,
          conntrackDrop: 47649,
        })
        expect(f.evidence[0].kind).toBe('fact')
      },
    },
    {
      name: 'A needed a retransmit, kernel 4.15 (before both fixes)',
      ctx: () =>
        ctx({ transactions: pair({ aRetried: true }), events: [kernel('4.15.0-1032-aws')] }),
      expect: (f) => {
        expect(f.confidence).toBe(0.6)
        expect(f.data.kernelVulnerable).toBe(true)
        expect(f.data.kernels).toEqual([
          { vantage: 'node-a', release: '4.15.0-1032-aws', fixes: 'none' },
        ])
        expect(f.data.lostType).toEqual({ A: 1, AAAA: 0 })
      },
    },
    {
      name: 'kernel 4.19 has race 1 fixed but not race 2',
      ctx: () =>
        ctx({ transactions: pair({ aaaaLost: true }), events: [kernel('4.19.0-16-amd64')] }),
      expect: (f) =>
        expect(f.data.kernels).toEqual([
          { vantage: 'node-a', release: '4.19.0-16-amd64', fixes: 'race 1 (4.19)' },
        ]),
    },
    {
      name: 'insert_failed rising between two snapshots',
      ctx: () =>
        ctx({
          transactions: pair({ aaaaLost: true }),
          events: [netdata(47600, T0), netdata(47646, T0 + 60e6)],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.9)
        expect(f.data.insertFailedIncrease).toBe(46)
      },
    },
    {
      name: 'no DNS traffic in the bundle, insert_failed > 0: possible, low confidence',
      ctx: () => ctx({ events: [netdata(47646)] }),
      expect: (f) => {
        expect(f.confidence).toBe(0.35)
        expect(f.severity).toBe('warning')
        expect(conntrackRace.describe!(f.data)).toMatch(/No parallel A\/AAAA traffic/)
      },
    },
  ],
  quiet: [
    {
      name: 'a pair lost one query, but insert_failed is 0 and the kernel is 5.10',
      ctx: () =>
        ctx({
          transactions: pair({ aaaaLost: true }),
          events: [zeroStats(), kernel('5.10.0-28-cloud-amd64')],
        }),
    },
    {
      name: 'insert_failed > 0 but every pair answered',
      ctx: () =>
        ctx({ transactions: [...pair(), ...pair({ port: 1, at: 1e6 })], events: [netdata(47646)] }),
    },
    {
      name: 'both of the pair lost (not a race: the path is down)',
      ctx: () =>
        ctx({ transactions: pair({ aLost: true, aaaaLost: true }), events: [netdata(47646)] }),
    },
    {
      name: 'A and AAAA from different sockets (single-request-reopen) with one lost',
      ctx: () =>
        ctx({
          transactions: [pair({ aaaaLost: true })[1], pair({ port: 40001 })[0]],
          events: [netdata(47646)],
        }),
    },
    {
      name: 'no facts about the node at all',
      ctx: () => ctx({ transactions: pair({ aaaaLost: true }) }),
    },
  ],
})
