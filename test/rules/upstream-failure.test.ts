// upstream-failure. Log lines are verbatim from corpus/coredns-log/coredns-coredns-7200_*
// (i/o timeouts to 10.30.0.3 and 114.114.114.114), coredns-deployment-225_* (loop plugin HINFO
// probes), kubernetes-kubernetes-86762_* (an "upstream" that is the kube-dns ClusterIP) and
// coredns-coredns-1265_* (an error that is not about the upstream); the SERVFAILs mirror
// coredns-coredns-3927_servfail-aggregate_*.log; forwarder hops mirror dnstap FORWARDER_QUERY
// without FORWARDER_RESPONSE (the seed's "cannot connect to upstream" row).
import { expect } from 'vitest'
import { upstreamFailure } from '../../core/rules/upstream-failure.js'
import type { Manifest } from '../../core/model/bundle.js'
import { ctx, fwd, log, metric, tx } from './context.js'
import { ruleTable } from './table.js'

const L7200 = [
  '2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:34538->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. A: read udp 10.10.0.111:45715->114.114.114.114:53: i/o timeout',
  '2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:57106->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:60419->114.114.114.114:53: i/o timeout',
  '2 pool.dudiito.dev. A: read udp 10.10.0.111:54368->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:58945->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:59294->114.114.114.114:53: i/o timeout',
  '2 pool.dudiito.dev. A: read udp 10.10.0.111:38624->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. A: read udp 10.10.0.111:36790->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. A: read udp 10.10.0.111:38684->10.30.0.3:53: i/o timeout',
  '2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:50567->114.114.114.114:53: i/o timeout',
]
const errors = (lines: string[]) => lines.map((m) => log(m, { plugin: 'errors' }))
const servfail3927 = () =>
  [33855, 11947, 55200, 16004, 56986, 13032, 7638].map((id, i) =>
    tx({
      client: '100.96.8.202',
      clientPort: 60310 + i,
      id,
      qname: 'images.salsify.com.',
      at: i * 1000,
      rcode: 2,
      source: 'log',
      path: ['coredns'],
    }),
  )

ruleTable(upstreamFailure, {
  fires: [
    {
      name: 'CoreDNS i/o timeouts to two upstreams (coredns#7200)',
      ctx: () => ctx({ events: errors(L7200) }),
      expect: (f) => {
        expect(f.confidence).toBe(0.8)
        expect(f.severity).toBe('critical')
        expect(f.data.timeoutLogs).toBe(11)
        expect(f.data.upstreams).toEqual([
          { upstream: '10.30.0.3:53', forwarded: 0, unanswered: 0, timeouts: 7 },
          { upstream: '114.114.114.114:53', forwarded: 0, unanswered: 0, timeouts: 4 },
        ])
        expect(f.data.topNames).toEqual([{ name: 'pool.dudiito.dev.', count: 11 }])
        expect(f.mitigation).toContain('nslookup example.com 10.30.0.3')
      },
    },
    {
      name: 'forwarded queries without responses (dnstap FQ, no FR)',
      ctx: () =>
        ctx({
          forwarder: [
            fwd({ qname: 'a.example.com.', answered: false }),
            fwd({ qname: 'b.example.com.', answered: false, at: 10 }),
            fwd({ qname: 'c.example.com.', answered: false, at: 20 }),
            fwd({ qname: 'd.example.com.', answered: true, at: 30 }),
          ],
          transactions: [
            tx({ qname: 'a.example.com.', rcode: 2 }),
            tx({ qname: 'kubernetes.default.svc.cluster.local.', at: 5 }),
          ],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.95) // forwarder (0.9) + external-only SERVFAIL
        expect(f.data).toMatchObject({
          forwarderQueries: 4,
          forwarderUnanswered: 3,
          forwarderUnansweredShare: 0.75,
          externalServfail: 1,
          clusterServfail: 0,
        })
        expect(f.evidence[0].kind).toBe('dns')
      },
    },
    {
      name: 'SERVFAIL for an external name only (coredns#3927)',
      ctx: () =>
        ctx({
          transactions: [
            ...servfail3927(),
            tx({ qname: 'kubernetes.default.svc.cluster.local.', at: 9000 }),
          ],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.55)
        expect(f.data.externalServfail).toBe(7)
      },
    },
    {
      name: 'loop-plugin HINFO probes timing out at startup (coredns/deployment#225): a warning',
      ctx: () =>
        ctx({
          events: errors([
            '2 7553930501182690030.5295112943253332074. HINFO: read udp 10.200.0.5:48557->172.23.83.11:53: i/o timeout',
            '2 7553930501182690030.5295112943253332074. HINFO: read udp 10.200.0.5:45068->172.23.83.12:53: i/o timeout',
          ]),
        }),
      expect: (f) => {
        expect(f.severity).toBe('warning')
        expect(f.confidence).toBe(0.6)
        expect(f.data.loopProbeTimeouts).toBe(2)
        expect(f.data.timeoutLogs).toBe(0)
      },
    },
    {
      name: 'forward health checks failing',
      ctx: () =>
        ctx({
          events: [metric('coredns_forward_healthcheck_failures_total', { to: '8.8.8.8:53' }, 12)],
        }),
      expect: (f) => expect(f.data.healthcheckFailures).toBe(12),
    },
    {
      name: 'an "upstream" that is the cluster DNS itself (kubernetes#86762)',
      ctx: () =>
        ctx({
          events: errors([
            '2 elasticsearch. AAAA: read udp 10.244.235.249:33287->10.96.0.10:53: i/o timeout',
            '2 elasticsearch. A: read udp 10.244.235.249:40671->132.120.200.49:53: i/o timeout',
          ]),
          manifest: {
            schema: 'dnsbundle.manifest/v1',
            files: [],
            cluster: { dnsServiceIps: ['10.96.0.10'] },
          } satisfies Manifest,
        }),
      expect: (f) => {
        expect(f.data.upstreamIsClusterDns).toEqual(['10.96.0.10'])
        expect(f.mitigation).toMatch(/forwarding loop/)
      },
    },
  ],
  quiet: [
    {
      name: 'every forwarded query answered',
      ctx: () =>
        ctx({
          forwarder: [
            fwd({ qname: 'a.example.com.', answered: true }),
            fwd({ qname: 'b.example.com.', answered: true }),
          ],
        }),
    },
    {
      name: 'SERVFAIL for cluster names too (not the upstream)',
      ctx: () =>
        ctx({
          transactions: [
            tx({ qname: 'a.example.com.', rcode: 2 }),
            tx({ qname: 'db.default.svc.cluster.local.', rcode: 2, at: 5 }),
          ],
        }),
    },
    {
      name: 'errors that are not upstream timeouts (coredns#1265: "no items found")',
      ctx: () =>
        ctx({
          events: errors(['[ERROR 0 kubernetes.monitoring.svc.cluster.local. A] no items found']),
        }),
    },
    {
      name: 'health checks all passing',
      ctx: () =>
        ctx({
          events: [metric('coredns_forward_healthcheck_failures_total', { to: '8.8.8.8:53' }, 0)],
        }),
    },
  ],
})
