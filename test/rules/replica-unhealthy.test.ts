// replica-unhealthy. Two CoreDNS replicas behind the Service 10.96.0.10, as `dnsbundle collect`
// names them (a dns-server vantage per pod, with its address), and a pod's two nameservers. The
// live test in test/correlate/replicas-live.test.ts runs the same case on two real unbound.
import { expect } from 'vitest'
import { replicaUnhealthy } from '../../core/rules/replica-unhealthy.js'
import type { Vantage } from '../../core/model/bundle.js'
import type { Manifest } from '../../core/model/bundle.js'
import { ctx, metric, T0, tx, VANTAGES } from './context.js'
import { ruleTable } from './table.js'

const SVC = '10.96.0.10'
const REPLICAS: Vantage[] = [
  ...VANTAGES.filter((v) => v.type !== 'dns-server'),
  {
    id: 'dns/coredns-7db6d8ff4d-4xk2p',
    type: 'dns-server',
    name: 'coredns-7db6d8ff4d-4xk2p',
    node: 'node-b',
    addresses: ['10.244.1.3'],
  },
  {
    id: 'dns/coredns-7db6d8ff4d-q9zvm',
    type: 'dns-server',
    name: 'coredns-7db6d8ff4d-q9zvm',
    node: 'node-c',
    addresses: ['10.244.2.4'],
  },
]
const [A, B] = REPLICAS.filter((v) => v.type === 'dns-server').map((v) => v.id)
const manifest: Manifest = {
  schema: 'dnsbundle.manifest/v1',
  cluster: { dnsServiceIps: [SVC], dnsEndpoints: ['10.244.1.3', '10.244.2.4'] },
  files: [],
}

/** n transactions from the pod through replica `at`; `bad(i)` says how the i-th ends. */
function through(
  at: string,
  n: number,
  from: number,
  bad: (i: number) => 'unanswered' | 'servfail' | null = () => null,
  latencyMs = 1,
) {
  return Array.from({ length: n }, (_, i) => {
    const how = bad(i)
    return tx({
      qname: `svc-${from + i}.default.svc.cluster.local.`,
      id: from + i,
      clientPort: 40000 + from + i,
      at: (from + i) * 50_000,
      path: ['pod-a', at],
      replyPath: [at, 'pod-a'],
      latencyMs: how === 'unanswered' ? null : latencyMs,
      rcode: how === 'servfail' ? 2 : 0,
    })
  })
}
const replicaCtx = (transactions: ReturnType<typeof through>) =>
  ctx({ transactions, vantages: REPLICAS, manifest, dnsServers: [SVC] })

/**
 * coredns_dns_responses_total of one pod, as the collector's two snapshots 10 s apart give it
 * (labels as CoreDNS 1.7+ writes them: rcode, server, zone); `counts` per rcode, at each snapshot.
 */
function responses(pod: string, counts: Record<string, [number, number?]>) {
  return Object.entries(counts).flatMap(([rcode, values]) =>
    values.flatMap((value, i) =>
      value === undefined
        ? []
        : [
            metric(
              'coredns_dns_responses_total',
              { rcode, server: 'dns://:53', zone: '.' },
              value,
              { vantage: pod, time: T0 + i * 10_000_000 },
            ),
          ],
    ),
  )
}
const metricsCtx = (events: ReturnType<typeof responses>) =>
  ctx({ events, vantages: REPLICAS, manifest })

ruleTable(replicaUnhealthy, {
  fires: [
    {
      name: 'one of two CoreDNS replicas leaves 12 of 30 queries unanswered or SERVFAIL',
      ctx: () =>
        replicaCtx([
          ...through(A, 30, 0),
          ...through(B, 30, 100, (i) =>
            i % 5 === 0 ? 'servfail' : i % 5 === 1 ? 'unanswered' : null,
          ),
        ]),
      expect: (f, all) => {
        expect(all).toHaveLength(1)
        expect(f.data.kind).toBe('failing')
        expect(f.data.server).toBe(B)
        expect(f.data.stats).toEqual({
          server: B,
          address: '10.244.2.4',
          transactions: 30,
          failed: 12,
          unanswered: 6,
          servfail: 6,
          refused: 0,
          failureRate: 0.4,
          medianMs: 1,
        })
        expect(f.data.others).toEqual({
          transactions: 30,
          failed: 0,
          failureRate: 0,
          medianMs: 1,
        })
        expect(f.data.attributed).toBe(1)
        expect(f.data.sharedClients).toBe(1)
        expect(f.confidence).toBe(0.75)
        expect(f.severity).toBe('critical')
        expect(f.evidence).toHaveLength(12)
        expect(f.evidence.every((e) => e.vantage === B)).toBe(true)
        expect(f.mitigation).toContain('kubectl -n kube-system logs coredns-7db6d8ff4d-q9zvm')
        expect(f.mitigation).toContain('node node-c')
        expect(replicaUnhealthy.describe!(f.data)).toBe(
          `DNS server ${B} (10.244.2.4) failed 12 of 30 queries (40%: 6 unanswered, 6 SERVFAIL); ` +
            'the other servers failed 0% of 30.',
        )
      },
    },
    {
      name: "a pod's second nameserver does not answer (told apart by address)",
      ctx: () => {
        const ask = (server: string, n: number, from: number, lost: boolean) =>
          Array.from({ length: n }, (_, i) =>
            tx({
              qname: `host-${from + i}.example.com.`,
              id: from + i,
              server,
              at: (from + i) * 50_000,
              latencyMs: lost && i % 2 === 0 ? null : 2,
            }),
          )
        return ctx({
          transactions: [...ask('169.254.20.10', 40, 0, false), ...ask('10.0.0.2', 24, 100, true)],
        })
      },
      expect: (f) => {
        expect(f.data.server).toBe('10.0.0.2')
        expect((f.data.stats as { failed: number }).failed).toBe(12)
        expect(f.confidence).toBe(0.75)
        expect(f.mitigation).toContain('--field-selector status.podIP=10.0.0.2')
      },
    },
    {
      name: 'a vantage named like namespace/pod, and one whose name is not a pod name',
      ctx: () => {
        const vs = REPLICAS.map((v) =>
          v.id === B ? { ...v, name: 'kube-system/coredns-7db6d8ff4d-q9zvm' } : v,
        )
        return ctx({
          transactions: [...through(A, 30, 0), ...through(B, 30, 100, () => 'unanswered')],
          vantages: vs,
          manifest,
          dnsServers: [SVC],
        })
      },
      expect: (f) => {
        expect(f.mitigation).toContain('kubectl -n kube-system delete pod coredns-7db6d8ff4d-q9zvm')
        // A hostile name never becomes a command: the address (checked) is used instead.
        const hostile = REPLICAS.map((v) =>
          v.id === B ? { ...v, id: 'dns/x;rm -rf ~', name: 'x;rm -rf ~' } : v,
        )
        const t = [...through(A, 30, 0), ...through('dns/x;rm -rf ~', 30, 100, () => 'unanswered')]
        const [g] = replicaUnhealthy.check(
          ctx({ transactions: t, vantages: hostile, manifest, dnsServers: [SVC] }),
        )
        expect(g.mitigation).not.toContain('rm -rf')
        expect(g.mitigation).toContain('status.podIP=10.244.2.4')
      },
    },
    {
      name: 'one replica answers in 80 ms at the median, the other in 1 ms',
      ctx: () => replicaCtx([...through(A, 30, 0), ...through(B, 30, 100, () => null, 80)]),
      expect: (f) => {
        expect(f.data.kind).toBe('slow')
        expect(f.data.server).toBe(B)
        expect(f.severity).toBeUndefined()
        expect(f.confidence).toBe(0.6)
        expect(replicaUnhealthy.describe!(f.data)).toContain('answered in 80 ms at the median')
      },
    },
    {
      name: "one pod's metrics: 60 of its 310 answers between two snapshots SERVFAIL, none of the other's",
      ctx: () =>
        metricsCtx([
          ...responses(A, { NOERROR: [1000, 1300], NXDOMAIN: [50, 60], SERVFAIL: [0, 0] }),
          ...responses(B, { NOERROR: [900, 1150], SERVFAIL: [20, 80] }),
        ]),
      expect: (f, all) => {
        expect(all).toHaveLength(1)
        expect(f.data.server).toBe(B)
        expect(f.data.source).toBe('metrics between two snapshots')
        expect(f.data.stats).toMatchObject({ transactions: 310, failed: 60, servfail: 60 })
        expect(f.data.others).toEqual({ transactions: 310, failed: 0, failureRate: 0 })
        expect(f.confidence).toBe(0.65)
        expect(f.severity).toBeUndefined()
        // The SERVFAIL counter's two samples are the evidence.
        expect(f.evidence.map((e) => e.kind === 'metric' && e.value)).toEqual([20, 80])
        expect(replicaUnhealthy.describe!(f.data)).toBe(
          `CoreDNS pod ${B} (10.244.2.4) answered 60 of 310 queries with SERVFAIL or REFUSED ` +
            '(19.4%), by its metrics, between two snapshots; the other pods 0% of 310.',
        )
        expect(f.mitigation).toContain('kubectl -n kube-system logs coredns-7db6d8ff4d-q9zvm')
      },
    },
    {
      name: 'one snapshot each: the counters since each pod started',
      ctx: () =>
        metricsCtx([
          ...responses(A, { NOERROR: [5000], REFUSED: [3] }),
          ...responses(B, { NOERROR: [4000], REFUSED: [2000] }),
        ]),
      expect: (f) => {
        expect(f.data.source).toBe('metrics since each pod started')
        expect(f.data.stats).toMatchObject({ transactions: 6000, failed: 2000, refused: 2000 })
        expect(f.severity).toBe('critical')
        expect(f.confidence).toBe(0.55)
      },
    },
  ],
  quiet: [
    {
      name: "both pods' metrics fail alike",
      ctx: () =>
        metricsCtx([
          ...responses(A, { NOERROR: [1000, 1300], SERVFAIL: [10, 40] }),
          ...responses(B, { NOERROR: [900, 1150], SERVFAIL: [20, 50] }),
        ]),
    },
    {
      name: 'metrics files of unknown origin side by side (corpus/metrics/ as one bundle)',
      ctx: () =>
        ctx({
          events: [
            ...responses('netdata.prom', { NOERROR: [19], SERVFAIL: [42], REFUSED: [21] }),
            ...responses('nodelocaldns.prom', { NOERROR: [1154] }),
          ],
          vantages: [
            { id: 'netdata.prom', type: 'unknown', name: 'netdata.prom', addresses: [] },
            { id: 'nodelocaldns.prom', type: 'unknown', name: 'nodelocaldns.prom', addresses: [] },
          ],
        }),
    },
    {
      name: "one pod's metrics only",
      ctx: () => metricsCtx(responses(B, { NOERROR: [900, 1150], SERVFAIL: [20, 80] })),
    },
    {
      name: 'both replicas fail alike (a cause they share)',
      ctx: () =>
        replicaCtx([
          ...through(A, 30, 0, (i) => (i % 4 === 0 ? 'servfail' : null)),
          ...through(B, 30, 100, (i) => (i % 3 === 0 ? 'servfail' : null)),
        ]),
    },
    {
      name: "captures of two networks side by side: the failing server's clients ask nothing else",
      // corpus/pcap/dnsjit/pellets.pcap holds only queries (to ::1) from its own clients.
      ctx: () =>
        ctx({
          transactions: [
            ...Array.from({ length: 40 }, (_, i) =>
              tx({ qname: `a-${i}.example.`, id: i, server: '192.0.2.53', at: i * 1000 }),
            ),
            ...Array.from({ length: 30 }, (_, i) =>
              tx({
                qname: `b-${i}.example.`,
                id: 100 + i,
                client: '2001:db8:beef:feed::3',
                server: '::1',
                at: i * 1000,
                latencyMs: null,
              }),
            ),
          ],
        }),
    },
    {
      name: 'one replica only',
      ctx: () => replicaCtx(through(A, 60, 0, (i) => (i % 2 ? 'unanswered' : null))),
    },
    {
      name: 'the failing replica handled too few queries to tell (10)',
      ctx: () => replicaCtx([...through(A, 30, 0), ...through(B, 10, 100, () => 'unanswered')]),
    },
    {
      name: "only the pod's capture: every query to the Service IP, no server in sight",
      ctx: () =>
        ctx({
          transactions: Array.from({ length: 60 }, (_, i) =>
            tx({ qname: `n-${i}.example.`, id: i, at: i * 1000, latencyMs: i % 3 ? 1 : null }),
          ),
          manifest,
        }),
    },
  ],
})
