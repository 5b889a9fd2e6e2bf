// packet-drop. Drops mirror the seed talk's trace_dns_drop.bt table (FUNC ipt_do_table /
// ip_vs_remote_request4, 172.20.6.28:38888 -> 172.20.6.51:53 / 172.21.0.10:53) and pwru's
// kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) (corpus/bpf/pwru/cilium-pwru-148_*); the
// non-DNS drop mirrors corpus/bpf/bpftrace/tcpdrop_example.txt.
import { expect } from 'vitest'
import { packetDrop } from '../../core/rules/packet-drop.js'
import { ctx, drop, fwd, tx, unanswered } from './context.js'
import { ruleTable } from './table.js'

const CLIENT = '172.20.6.28'
const SVC = '172.21.0.10'
const answered = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    tx({
      client: CLIENT,
      clientPort: 38000 + i,
      server: SVC,
      qname: 'database.default.svc.cluster.local.',
      at: i * 200_000,
      path: ['pod-a', 'node-a', 'coredns'],
      replyPath: ['coredns', 'node-a', 'pod-a'],
    }),
  )

// The seed's six drop rows, all DNS.
const seedDrops = () => [
  drop(`${CLIENT}:38888`, `${SVC}:53`, 'ip_vs_remote_request4', ''),
  drop('192.168.0.198:38888', `${SVC}:53`, 'ip_vs_local_request4', ''),
  drop('192.168.0.198:38888', '172.20.6.51:53', 'ipt_do_table', ''),
  drop(`${CLIENT}:38888`, '172.20.6.51:53', 'ipt_do_table', ''),
  drop('192.168.0.198:38888', `${SVC}:53`, 'ip_vs_local_request4', ''),
  drop(`${CLIENT}:38888`, `${SVC}:53`, 'ip_vs_remote_request4', ''),
]

ruleTable(packetDrop, {
  fires: [
    {
      name: 'a query dropped on the node, with its kernel drop record',
      ctx: () => {
        const d = drop(`${CLIENT}:38888`, '172.20.6.51:53', 'ipt_do_table', 'NETFILTER_DROP')
        const lost = tx({
          client: CLIENT,
          clientPort: 38888,
          server: SVC,
          qname: 'database.default.svc.cluster.local.',
          at: 5_000_000,
          path: ['pod-a', 'node-a'],
          latencyMs: null,
          drop: d,
        })
        return ctx({ transactions: [...answered(20), lost], events: [d] })
      },
      expect: (f) => {
        expect(f.confidence).toBe(0.95)
        expect(f.severity).toBe('critical')
        expect(f.data.lost).toBe(1)
        expect(f.data.lastSeen).toEqual([{ vantage: 'node-a', count: 1 }])
        expect(f.data.neverReached).toEqual([{ vantage: 'coredns', count: 1 }])
        expect(f.data.kernelReasons).toEqual([
          { func: 'ipt_do_table', reason: 'NETFILTER_DROP', count: 1 },
        ])
        expect(f.evidence[0].kind).toBe('drop')
      },
    },
    {
      name: 'queries lost after the pod, seen by two vantages but not the server',
      ctx: () => {
        const lost = [0, 1, 2].map((i) =>
          tx({
            client: CLIENT,
            clientPort: 39000 + i,
            server: SVC,
            qname: 'api.example.com.',
            at: 10_000_000 + i,
            path: ['pod-a', 'node-a'],
            latencyMs: null,
          }),
        )
        return ctx({ transactions: [...answered(10), ...lost] })
      },
      expect: (f) => {
        expect(f.confidence).toBe(0.85)
        expect(f.data.lost).toBe(3)
        expect(f.data.lostShare).toBeCloseTo(3 / 13, 4)
        expect(f.data.neverReached).toEqual([{ vantage: 'coredns', count: 3 }])
      },
    },
    {
      name: 'one vantage only: lost somewhere after the client (lower confidence)',
      ctx: () =>
        ctx({
          transactions: [
            tx({ qname: 'a.example.com.', latencyMs: null }),
            tx({ qname: 'b.example.com.', at: 1000 }),
          ],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.5)
        expect(f.data.neverReached).toEqual([])
        expect(f.severity).toBe('critical') // 1 of 2 queries lost
      },
    },
    {
      name: "the server's reply lost on the way back",
      ctx: () =>
        ctx({
          transactions: [
            ...answered(5),
            unanswered(
              tx({
                client: CLIENT,
                server: SVC,
                qname: 'db.default.svc.cluster.local.',
                path: ['pod-a', 'node-a', 'coredns'],
                replyPath: ['coredns'],
              }),
            ),
          ],
        }),
      expect: (f) => {
        expect(f.data.lostReplies).toBe(1)
        expect(f.data.lostQueries).toBe(0)
      },
    },
    {
      name: "kernel drop records only (the seed's trace_dns_drop.bt output, no capture)",
      ctx: () => ctx({ events: seedDrops() }),
      expect: (f) => {
        expect(f.data.lost).toBe(0)
        expect(f.data.kernelDrops).toBe(6)
        expect(f.severity).toBe('warning')
        expect(f.data.kernelReasons).toEqual([
          { func: 'ip_vs_remote_request4', reason: '', count: 2 },
          { func: 'ip_vs_local_request4', reason: '', count: 2 },
          { func: 'ipt_do_table', reason: '', count: 2 },
        ])
        expect(packetDrop.describe!(f.data)).toMatch(/^The kernel dropped 6 DNS packet/)
      },
    },
  ],
  quiet: [
    { name: 'every query answered', ctx: () => ctx({ transactions: answered(30) }) },
    {
      name: 'unanswered but the DNS server saw it (its silence is not a drop)',
      ctx: () =>
        ctx({
          transactions: [
            ...answered(3),
            tx({
              client: CLIENT,
              server: SVC,
              qname: 'slow.example.com.',
              path: ['pod-a', 'node-a', 'coredns'],
              latencyMs: null,
            }),
          ],
        }),
    },
    {
      name: 'unanswered while the server waits on its upstream (upstream-failure, not a drop)',
      ctx: () =>
        ctx({
          transactions: [tx({ qname: 'cognito-idp.us-east-1.amazonaws.com.', latencyMs: null })],
          forwarder: [fwd({ qname: 'cognito-idp.us-east-1.amazonaws.com.', answered: false })],
        }),
    },
    {
      name: 'kernel drops of non-DNS traffic (tcpdrop: 10.231.244.31:3306 -> 10.229.20.82:50552)',
      ctx: () =>
        ctx({
          transactions: answered(3),
          events: [
            drop('10.231.244.31:3306', '10.229.20.82:50552', 'tcp_drop', '', { tool: 'tcpdrop' }),
          ],
        }),
    },
  ],
})
