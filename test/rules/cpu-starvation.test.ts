// cpu-starvation. Socket drops mirror bpftrace skb:kfree_skb with reason SOCKET_RCVBUFF at the DNS
// server (the lab's resolver under load); the metrics mirror
// corpus/bpf/metrics/cloudflare-ebpf_exporter-235_kfree_skb-by-proto-port-reason.prom (UDP port 12345
// SOCKET_RCVBUFF 448205: not DNS) and cloudflare-ebpf_exporter-233_kfree_skb-reasons.prom (no port).
// The cAdvisor counters mirror the lab's coredns-cadvisor.prom (issue 4 "cpu" scenario: unbound in a
// cgroup with cfs_quota 4000 per 100000, throttled in 61 of 95 periods).
import { expect } from 'vitest'
import { cpuStarvation } from '../../core/rules/cpu-starvation.js'
import type { Transaction } from '../../core/correlate/types.js'
import { ctx, drop, fact, metric, tx, unanswered } from './context.js'
import { ruleTable } from './table.js'

/** Ten seconds of load, `perSecond(s)` queries in second s, answered after `latency(s)` ms. */
function ramp(
  perSecond: (s: number) => number,
  latency: (s: number) => number | null,
): Transaction[] {
  const out: Transaction[] = []
  for (let s = 0; s < 10; s++)
    for (let i = 0; i < perSecond(s); i++)
      out.push(
        tx({
          clientPort: 30000 + out.length,
          qname: `svc${i}.default.svc.cluster.local.`,
          at: s * 1e6 + i * 1000,
          latencyMs: latency(s),
        }),
      )
  return out
}
const rcvbuf = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    drop(`10.0.0.5:${41000 + i}`, '10.244.0.7:53', 'skb:kfree_skb', 'SOCKET_RCVBUFF', {
      vantage: 'coredns',
    }),
  )
const cadvisor = (quota: number, throttled: number) => {
  const l = { namespace: 'kube-system', pod: 'coredns-lab', container: 'coredns' }
  return [
    metric('container_cpu_cfs_periods_total', l, 95),
    metric('container_cpu_cfs_throttled_periods_total', l, throttled),
    metric('container_spec_cpu_quota', l, quota, { type: 'gauge' }),
    metric('container_spec_cpu_period', l, 100000, { type: 'gauge' }),
  ]
}
const limit = () =>
  fact({ type: 'cpu-limit', container: 'coredns', millicores: 100 }, { vantage: 'coredns' })

ruleTable(cpuStarvation, {
  fires: [
    {
      name: 'latency grows with load, CPU limit 100m',
      ctx: () =>
        ctx({
          transactions: ramp(
            (s) => 10 + 10 * s,
            (s) => 1 + s * s,
          ),
          events: [limit()],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.65)
        expect(f.severity).toBe('warning')
        expect(f.data).toMatchObject({
          loadLatency: true,
          peakQps: 100,
          buckets: 10,
          cpuLimits: [{ container: 'coredns', millicores: 100 }],
          qpsPerCore: 1000,
        })
        expect(f.data.loadLatencyCorrelation).toBe(1)
        expect(f.data.qpsAtKnee).toBe(40) // second 3: 1 + 3² = 10 ms, the first at >= 10 ms and >= 2x the quiet 1.5 ms
        expect(f.mitigation).toContain('--limits=cpu=200m')
      },
    },
    {
      name: 'queries dropped at the DNS socket (SOCKET_RCVBUFF) and failures that rise with load',
      ctx: () =>
        ctx({
          transactions: ramp(
            (s) => 10 + 10 * s,
            (s) => (s >= 7 ? null : 1),
          ).map((t, i) => (i % 2 && t.firstSent % 1e6 > 5e5 ? unanswered(t) : t)),
          events: rcvbuf(12),
        }),
      expect: (f) => {
        expect(f.severity).toBe('critical')
        expect(f.data.rcvbufDrops).toBe(12)
        expect(f.data.failuresCorrelateWithLoad).toBe(true)
        expect(f.evidence[0].kind).toBe('drop')
      },
    },
    {
      name: "throttled by a 40m limit (cAdvisor's cfs counters and spec quota)",
      ctx: () => ctx({ events: cadvisor(4000, 61) }),
      expect: (f) => {
        expect(f.confidence).toBe(0.55)
        expect(f.data).toMatchObject({
          throttledPeriods: 61,
          throttledRatio: 0.6421,
          cpuLimits: [{ container: 'kube-system/coredns-lab/coredns', millicores: 40 }],
        })
        expect(f.mitigation).toContain('--limits=cpu=80m')
      },
    },
    {
      name: 'SOCKET_RCVBUFF counted by ebpf_exporter on port 53',
      ctx: () =>
        ctx({
          events: [
            metric(
              'ebpf_exporter_kfree_skb_total',
              {
                eth_proto: 'ipv4',
                ip_proto: 'udp',
                port: '53',
                reason: 'SKB_DROP_REASON_SOCKET_RCVBUFF',
              },
              448205,
            ),
          ],
        }),
      expect: (f) => expect(f.data.rcvbufDrops).toBe(448205),
    },
  ],
  quiet: [
    {
      name: 'load varies, latency flat',
      ctx: () =>
        ctx({
          transactions: ramp(
            (s) => 10 + 10 * s,
            () => 1,
          ),
        }),
    },
    {
      name: 'slow but steady load (latency is not load-driven)',
      ctx: () =>
        ctx({
          transactions: ramp(
            () => 20,
            () => 50,
          ),
        }),
    },
    {
      name: 'drops at the qdisc (QDISC_DROP): a network bottleneck',
      ctx: () =>
        ctx({
          events: [
            drop('10.0.0.5:41000', '10.244.0.7:53', 'skb:kfree_skb', 'QDISC_DROP'),
            drop('10.0.0.5:41001', '10.244.0.7:53', 'skb:kfree_skb', 'QDISC_DROP'),
          ],
        }),
    },
    {
      name: 'ebpf_exporter SOCKET_RCVBUFF on UDP port 12345 (corpus -235), and with no port (corpus -233)',
      ctx: () =>
        ctx({
          events: [
            metric(
              'ebpf_exporter_kfree_skb_total',
              {
                eth_proto: 'ipv6',
                ip_proto: 'udp',
                port: '12345',
                reason: 'SKB_DROP_REASON_SOCKET_RCVBUFF',
              },
              448205,
            ),
            metric(
              'ebpf_exporter_kfree_skb_total',
              { reason: 'SKB_DROP_REASON_SOCKET_RCVBUFF' },
              1.59664e6,
            ),
          ],
        }),
    },
  ],
})
