// aaaa-waste. The pair mirrors the seed talk's tcpdump: "28204*- 1/0/0 A 172.21.7.76" and
// "2863*- 0/1/0" (AAAA NODATA) for database.default.svc.cluster.local.; the log-only case mirrors
// corpus/coredns-log/coredns-coredns-4513_rfc3339-ts_tcp_noerror-to-nxdomain.log, whose AAAA lines
// cannot say whether an address came back.
import { expect } from 'vitest'
import { aaaaWaste } from '../../core/rules/aaaa-waste.js'
import { ctx, tx } from './context.js'
import { ruleTable } from './table.js'

const NAME = 'database.default.svc.cluster.local.'
const a = (at = 0) =>
  tx({
    client: '172.20.2.7',
    clientPort: 54526,
    server: '172.21.0.10',
    id: 28204,
    qname: NAME,
    qtype: 1,
    at,
    answerAddrs: 1,
  })
const aaaa = (at = 86, answerAddrs = 0) =>
  tx({
    client: '172.20.2.7',
    clientPort: 54526,
    server: '172.21.0.10',
    id: 2863,
    qname: NAME,
    qtype: 28,
    at,
    answerAddrs,
  })

/**
 * 60 names asked A (answered) then AAAA (NODATA); every other one after an AAAA NODATA for a name
 * never asked A, which is not wasted.
 */
const mixed = Array.from({ length: 60 }, (_, i) => [
  tx({ qname: `n${i}.example.com.`, qtype: 1, at: i * 1000, answerAddrs: 1 }),
  ...(i % 2
    ? [tx({ qname: `no-a${i}.example.com.`, qtype: 28, at: i * 1000 + 5, answerAddrs: 0 })]
    : []),
  tx({ qname: `n${i}.example.com.`, qtype: 28, at: i * 1000 + 10, answerAddrs: 0 }),
]).flat()

ruleTable(aaaaWaste, {
  fires: [
    {
      name: "the seed's database lookup: A answered, AAAA NODATA",
      ctx: () => ctx({ transactions: [a(), aaaa()] }),
      expect: (f) => {
        expect(f.data).toMatchObject({
          aaaaQueries: 1,
          aaaaNoData: 1,
          shareOfQueries: 0.5,
          shareOfAaaa: 1,
          topNames: [{ name: NAME, count: 1 }],
        })
        expect(f.severity).toBe('warning')
        expect(f.evidence[0]).toMatchObject({ kind: 'dns', qr: true, qtype: 28 })
      },
    },
    {
      name: 'a small share stays info',
      ctx: () =>
        ctx({
          transactions: [
            a(),
            aaaa(),
            ...Array.from({ length: 8 }, (_, i) =>
              tx({ qname: `x${i}.example.com.`, at: 1000 + i }),
            ),
          ],
        }),
      expect: (f) => {
        expect(f.severity).toBe('info')
        expect(f.data.shareOfQueries).toBe(0.1)
      },
    },
    {
      name: 'evidence: the wasted AAAAs in order, not those for names without an A answer',
      ctx: () => ctx({ transactions: mixed }),
      expect: (f) => {
        expect(f.data).toMatchObject({ aaaaNoData: 60, aaaaNoDataWithoutA: 30 })
        const wasted = mixed.filter((t) => t.qtype === 28 && !t.qname.startsWith('no-a'))
        expect(f.evidence).toEqual(wasted.slice(0, 50).map((t) => t.response))
      },
    },
  ],
  quiet: [
    { name: 'AAAA answered with an address', ctx: () => ctx({ transactions: [a(), aaaa(86, 1)] }) },
    {
      name: 'AAAA NODATA for a name with no A answer in the bundle',
      ctx: () => ctx({ transactions: [aaaa()] }),
    },
    {
      name: 'log lines (coredns#4513): address count unknown',
      ctx: () =>
        ctx({
          transactions: [
            tx({
              client: '172.27.172.128',
              qname: 'rwc.default.svc.cluster.local.',
              qtype: 1,
              source: 'log',
              path: ['coredns'],
              answerAddrs: -1,
            }),
            tx({
              client: '172.27.172.128',
              qname: 'rwc.default.svc.cluster.local.',
              qtype: 28,
              source: 'log',
              path: ['coredns'],
              answerAddrs: -1,
            }),
          ],
        }),
    },
  ],
})
