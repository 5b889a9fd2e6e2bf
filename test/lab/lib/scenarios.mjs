// The fault scenarios. Each one drives the client (and dnsperf) while it injects its fault, and
// names the verdict issue 5 expects. Names are unique within a scenario whenever lookups overlap,
// so each wire query belongs to exactly one logged lookup.
import { NS, ADDR } from './config.mjs'
import { rawPrerouting } from './proc.mjs'
import { PERF_ZONE } from './zones.mjs'

const pad = (n) => String(n).padStart(2, '0')
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i)

/**
 * A raw PREROUTING rule that drops a random share of the packets `match` selects: a receiving-side
 * DROP, silent to the sender (an OUTPUT drop would not be), named by `comment` for its counter.
 */
function randomDrop(match, probability, comment) {
  return [
    ...['PREROUTING', ...match, '-m', 'statistic', '--mode', 'random'],
    ...['--probability', String(probability), '-m', 'comment', '--comment', comment, '-j', 'DROP'],
  ]
}

/** Loss on the wire into the node: a quarter of the pod's queries. */
export const LOSS_RULE = randomDrop(
  ['-i', 'vethpod', '-p', 'udp', '--dport', '53'],
  0.25,
  'dnslab-injected-loss',
)
const BLACKHOLE_RULE = [
  'PREROUTING',
  '-p',
  'udp',
  '--dport',
  '53',
  '-m',
  'comment',
  '--comment',
  'dnslab-upstream-blackhole',
  '-j',
  'DROP',
]

/**
 * Loss of answers on their way back: the resolver's replies, on the node, before conntrack turns
 * their source back into the Service IP.
 */
export const REPLY_LOSS_RULE = randomDrop(
  ['-i', 'vethdns', '-p', 'udp', '-s', ADDR.dns, '--sport', '53'],
  0.3,
  'dnslab-injected-reply-loss',
)

/**
 * Loss on the way into the second resolver only (inside its namespace, as on the node a CoreDNS
 * pod runs on): half the queries kube-proxy sends to that endpoint.
 */
export const REPLICA_LOSS_RULE = randomDrop(
  ['-i', 'eth0', '-p', 'udp', '--dport', '53'],
  0.5,
  'dnslab-replica-loss',
)

/** CPU limit on the resolver, as a `resources.limits.cpu: 40m` would set it (cgroup v1 CFS). */
export const CPU_QUOTA = { periodUs: 100_000, quotaUs: 4_000 }

export const SCENARIOS = {
  healthy: {
    title: 'Healthy: in-cluster and external names, all answered',
    expected: { verdict: null, allowedWarnings: ['ndots-amplification', 'aaaa-waste'] },
    checkModel: true,
    async act(lab) {
      const names = [
        ...Array(6).fill('database'),
        ...Array(3).fill('kubernetes.default'),
        ...Array(3).fill('redis.cache'),
        ...Array(3).fill('web'),
        ...range(1, 10).map((i) => `svc-${pad(i)}`),
        'database.default.svc.cluster.local.',
        'database.default.svc.cluster.local.',
        'www.aliyun.com.',
        'api.example.com.',
        'www.aliyun.com',
        'mirrors.aliyun.com',
      ]
      await lab.runClient({ concurrency: 1, gapMs: 20, lookups: names.map((name) => ({ name })) })
    },
  },

  ndots: {
    title: 'ndots amplification: short external names under ndots:5',
    expected: { verdict: 'ndots-amplification' },
    checkModel: true,
    async act(lab) {
      const names = [
        ...range(1, 30).map((i) => `host-${pad(i)}.example.com`),
        ...range(1, 8).map((i) => `cdn-${pad(i)}.aliyun.com`),
        'www.aliyun.com',
        'oss-cn-hangzhou.aliyuncs.com',
      ]
      await lab.runClient({ concurrency: 2, gapMs: 10, lookups: names.map((name) => ({ name })) })
    },
  },

  typo: {
    title: 'NXDOMAIN storm: mistyped names',
    expected: { verdict: 'nxdomain-storm' },
    checkModel: true,
    async act(lab) {
      const typos = range(1, 36).map(
        (i) =>
          [`paymnet-svc-${pad(i)}`, `host-${pad(i)}.exmaple.com`, `cdn-${pad(i)}.aliyun.con`][
            i % 3
          ],
      )
      const good = range(41, 46).map((i) => `svc-${pad(i)}`)
      const names = typos.flatMap((t, i) => (i % 6 === 0 ? [t, good[i / 6]] : [t]))
      await lab.runClient({ concurrency: 2, gapMs: 10, lookups: names.map((name) => ({ name })) })
    },
  },

  drops: {
    title:
      'Node drops: 25% of DNS queries dropped on the node (iptables statistic, raw PREROUTING)',
    expected: { verdict: 'packet-drop', dropVantage: 'node' },
    // The test needs queries that lost every copy; at 25% loss a run has a few (3 to 22 seen).
    rerunIf: (truth) =>
      truth.nodeDroppedTransactions.length === 0 ? 'no transaction lost every copy' : null,
    async act(lab) {
      lab.ns(NS.node, 'iptables', ['-t', 'raw', '-A', ...LOSS_RULE])
      const names = [
        ...range(1, 24).map((i) => `svc-${pad(i)}`),
        ...range(41, 44).map((i) => `host-${pad(i)}.example.com`),
      ]
      // Interleave the long external lookups with the short ones across the workers.
      const order = names.map((name, i) => ({
        name,
        k: name.startsWith('host') ? (i - 24) * 6 + 1 : i,
      }))
      order.sort((a, b) => a.k - b.k)
      await lab.runClient({ concurrency: 4, lookups: order.map(({ name }) => ({ name })) }, 120_000)
    },
  },

  replies: {
    title: "Lost answers: 30% of the resolver's replies dropped on the node on their way back",
    expected: { verdict: 'packet-drop' },
    // The test needs a query every answer of which was lost (so the client was never answered):
    // at 30% loss a run of 16 lookups has a few; a run without one is repeated.
    rerunIf: (truth) =>
      truth.replyLoss > 0 && truth.summary.unanswered > 0 ? null : 'no query lost every answer',
    async act(lab) {
      lab.ns(NS.node, 'iptables', ['-t', 'raw', '-A', ...REPLY_LOSS_RULE])
      const names = range(1, 16).map((i) => `svc-${pad(i)}`)
      await lab.runClient({ concurrency: 4, lookups: names.map((name) => ({ name })) }, 120_000)
    },
  },

  replica: {
    title:
      'Two CoreDNS replicas behind the Service; half the queries sent to the second are lost on their way in',
    expected: { verdict: 'packet-drop', sickReplica: ADDR.dns2 },
    replicas: 2,
    // glibc's 1 s timeout keeps lookups that wait on the lossy replica short.
    resolvOptions: 'ndots:5 timeout:1 attempts:2',
    // The rule compares servers with at least 5 failures: a run with fewer is repeated.
    rerunIf: (truth) =>
      (truth.byEndpoint?.[ADDR.dns2]?.failed ?? 0) >= 5
        ? null
        : 'fewer than 5 failures at the sick replica',
    async act(lab) {
      lab.addSecondEndpoint()
      lab.ns(NS.dns2, 'iptables', ['-t', 'raw', '-A', ...REPLICA_LOSS_RULE])
      const names = range(1, 48).map((i) => `svc-${pad(i)}`)
      await lab.runClient({ concurrency: 4, lookups: names.map((name) => ({ name })) }, 120_000)
    },
  },

  upstream: {
    title: 'Upstream blackholed, then stopped',
    expected: { verdict: 'upstream-failure' },
    async act(lab) {
      const L = []
      // Healthy start.
      for (const name of ['svc-01', 'host-01.example.com.', 'cdn-01.aliyun.com.', 'database'])
        L.push({ name, at: 0 })
      // Blackholed from 2 s: external names fail, in-cluster names still work.
      for (const [k, name] of [
        'host-11.example.com.',
        'svc-11',
        'cdn-11.aliyun.com',
        'host-12.example.com.',
        'svc-12',
        'cdn-12.aliyun.com.',
        'host-13.example.com',
        'svc-13',
      ].entries())
        L.push({ name, at: 2500 + k * 400 })
      // Stopped from 16 s (the DROP removed, nsd killed: ICMP port unreachable, which unbound ignores).
      for (const [k, name] of [
        'host-21.example.com.',
        'svc-21',
        'cdn-21.aliyun.com.',
        'host-22.example.com',
        'svc-22',
        'cdn-22.aliyun.com.',
      ].entries())
        L.push({ name, at: 16_500 + k * 400 })
      const client = lab.startClient({ concurrency: 4, lookups: L })
      await lab.sleep(2000)
      lab.mark('blackhole')
      lab.ns(NS.up, 'iptables', ['-t', 'raw', '-A', ...BLACKHOLE_RULE])
      await lab.sleep(14_000)
      lab.blackholeDrops = rawPrerouting(NS.up)
      lab.ns(NS.up, 'iptables', ['-t', 'raw', '-D', ...BLACKHOLE_RULE])
      await lab.stopUpstream()
      lab.mark('upstream-stopped')
      await client(90_000)
    },
  },

  cpu: {
    title: 'Resolver CPU-limited (cgroup v1 CFS quota) under dnsperf load',
    expected: { verdict: 'cpu-starvation' },
    async act(lab) {
      lab.limitResolverCpu(CPU_QUOTA)
      const lookups = range(50, 61).map((i, k) => ({ name: `svc-${pad(i)}`, at: 500 + k * 700 }))
      const client = lab.startClient({ concurrency: 2, lookups })
      // A light load first, then more than the quota can serve.
      await lab.dnsperf('low', { qps: 200, seconds: 3, prefix: 'low' })
      lab.mark('overload')
      await lab.dnsperf('high', { qps: 3000, seconds: 6, prefix: 'high' })
      await client(60_000)
    },
  },
}

/** dnsperf's input: unique names under the perf zone, so no (id, qname) pair repeats. */
export function dnsperfData(prefix, count) {
  return (
    range(1, count)
      .map((i) => `${prefix}-${i}.${PERF_ZONE} A`)
      .join('\n') + '\n'
  )
}

export { ADDR }
