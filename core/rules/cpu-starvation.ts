// cpu-starvation: the DNS server runs out of CPU under load: latency that grows with the query rate,
// its socket overflowing (SOCKET_RCVBUFF), CPU throttling. Seed talk: "CPU Starvation" — DNS QPS is
// proportional to the CPU limit.
import type { Event } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { increaseSum, latestSum, seriesOf } from './metric-series.js'
import {
  bucketMedianLatencies,
  dnsAddresses,
  evidenceMix,
  HAS_RESPONSE,
  median,
  perSecond,
  TIMED,
  txFacts,
  type TxFacts,
  round,
  spearman,
  touchesDnsPort,
} from './transaction-views.js'
import { factsOf } from '../model/facts.js'

const MIN_BUCKETS = 5
const SLOW_MS = 10

export const cpuStarvation: Rule = {
  id: 'cpu-starvation',
  title: 'DNS server starved of CPU under load',
  severity: 'critical',
  description:
    'Latency that rises with the query rate, queries dropped at the DNS server because its socket ' +
    'receive buffer is full (skb drop reason SOCKET_RCVBUFF: the process does not read fast enough), ' +
    'or CPU throttling of the DNS pod. A QDISC_DROP pattern instead points at a network bottleneck, ' +
    'and does not fire this rule.',
  mitigation:
    'Give CoreDNS more CPU or more replicas: `kubectl -n kube-system set resources deploy/coredns ' +
    '-c coredns --limits=cpu=<2x current>` (or drop the CPU limit), and `kubectl -n kube-system scale ' +
    'deploy/coredns --replicas=<N>`; NodeLocal DNSCache takes most of the load off it.',
  references: [
    'seed talk: "CPU Starvation" — DNS QPS is proportional to CPU limit; increase CPU limit or scale out CoreDNS replicas',
    'seed talk: "Diagnostic Procedure" — only on peak hours: resource limit on cpu; check CoreDNS\'s metrics',
    'https://github.com/coredns/deployment/blob/master/kubernetes/Scaling_CoreDNS.md',
  ],
  check,
  describe(d) {
    const parts: string[] = []
    if (d.loadLatency)
      parts.push(
        `median latency rises from ${d.lowLoadLatencyMs} ms to ${d.peakLoadLatencyMs} ms as load reaches ${d.peakQps} queries/s`,
      )
    if (Number(d.rcvbufDrops))
      parts.push(
        `${d.rcvbufDrops} DNS packets were dropped at a full socket buffer (SOCKET_RCVBUFF)`,
      )
    if (Number(d.throttledPeriods))
      parts.push(`the DNS pod was CPU-throttled (${d.throttledPeriods} periods)`)
    const limits = d.cpuLimits as { container: string; millicores: number }[]
    if (limits.length)
      parts.push(`its CPU limit is ${limits.map((l) => `${l.millicores}m`).join(', ')}`)
    return parts.join('; ').replace(/^./, (c) => c.toUpperCase()) + '.'
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const load = loadVersusLatency(ctx)
  const dnsAddrs = dnsAddresses(ctx)
  const rcvbuf = ctx.drops.filter(
    (d) => /SOCKET_RCVBUFF/.test(d.reason) && touchesDnsPort(d, dnsAddrs),
  )
  const qdisc = ctx.drops.filter((d) => /QDISC_DROP/.test(d.reason))
  const rcvbufSeries = seriesOf(
    ctx.metrics,
    (n) => /kfree_skb/.test(n),
    (l) => /SOCKET_RCVBUFF/.test(l.reason ?? ''),
  )
  const rcvbufMetric = latestSum(rcvbufSeries.filter((s) => s.labels.port === '53'))
  const rcvbufUnscoped = latestSum(rcvbufSeries.filter((s) => s.labels.port === undefined))
  const throttledSeries = seriesOf(ctx.metrics, (n) => /cfs_throttled_periods_total$/.test(n))
  const periodSeries = seriesOf(ctx.metrics, (n) => /cfs_periods_total$/.test(n))
  const throttled = increaseSum(throttledSeries) ?? latestSum(throttledSeries)
  const periods = increaseSum(periodSeries) ?? latestSum(periodSeries)
  const limits = factsOf(ctx.facts, 'cpu-limit')

  const rcvbufCount = rcvbuf.length + rcvbufMetric
  const signals = { loadLatency: load.signal, rcvbuf: rcvbufCount > 0, throttled: throttled > 0 }
  if (!signals.loadLatency && !signals.rcvbuf && !signals.throttled) return []
  // Drops at the qdisc, not at the socket, and no latency growth: a network bottleneck.
  if (!signals.loadLatency && !signals.throttled && qdisc.length > rcvbufCount) return []

  const confidence = round(
    Math.min(
      0.95,
      0.25 +
        (signals.loadLatency ? 0.3 : 0) +
        (signals.rcvbuf ? 0.3 : 0) +
        (signals.throttled ? 0.2 : 0) +
        (limits.length || cadvisorLimits(ctx).length ? 0.1 : 0) +
        (load.failuresWithLoad ? 0.05 : 0) +
        (rcvbufUnscoped > 0 ? 0.05 : 0),
    ),
    2,
  )
  const cpuLimits = [
    ...limits.flatMap((e) =>
      e.fact.type === 'cpu-limit'
        ? [{ container: e.fact.container, millicores: e.fact.millicores }]
        : [],
    ),
    ...cadvisorLimits(ctx),
  ]
  const minLimit = cpuLimits.length ? Math.min(...cpuLimits.map((l) => l.millicores)) : null
  const replicas = ctx.manifest?.cluster?.dnsEndpoints?.length ?? null
  const data = {
    ...load.data,
    loadLatency: signals.loadLatency,
    failuresCorrelateWithLoad: load.failuresWithLoad,
    rcvbufDrops: rcvbufCount,
    rcvbufDropsAllPorts: rcvbufUnscoped,
    qdiscDrops: qdisc.length,
    throttledPeriods: throttled,
    throttledRatio: periods > 0 ? round(throttled / periods, 4) : null,
    cpuLimits,
    qpsPerCore:
      minLimit && load.data.peakQps ? round(load.data.peakQps / (minLimit / 1000), 1) : null,
    replicas,
    suggestedReplicas: replicas ? replicas * 2 : null,
  }
  const limitText = minLimit ? `${minLimit * 2}m` : '<2x current>'
  const mitigation =
    `Give CoreDNS more CPU or more replicas: \`kubectl -n kube-system set resources deploy/coredns -c coredns ` +
    `--limits=cpu=${limitText}\` (or drop the CPU limit), and \`kubectl -n kube-system scale deploy/coredns ` +
    `--replicas=${replicas ? replicas * 2 : '<N>'}\`; NodeLocal DNSCache takes most of the load off it.`
  return [
    {
      confidence,
      severity: signals.rcvbuf || load.failuresWithLoad ? 'critical' : 'warning',
      data,
      evidence: evidenceMix(
        rcvbuf,
        limits,
        seriesOf(ctx.metrics, 'container_spec_cpu_quota').map((q) => q.last),
        load.evidence,
        [...throttledSeries.map((s) => s.last)],
        rcvbufSeries.map((s) => s.last),
      ),
      mitigation,
    },
  ]
}

/** Per-second load against median latency: does latency grow with the query rate? */
function loadVersusLatency(ctx: RuleContext) {
  const tx = ctx.correlation.transactions
  const all = perSecond(tx)
  const buckets = all.filter((b) => b.timed > 0)
  const data = {
    buckets: all.length,
    loadLatencyCorrelation: null as number | null,
    peakQps: all.reduce((m, b) => Math.max(m, b.load), 0),
    lowLoadLatencyMs: null as number | null,
    peakLoadLatencyMs: null as number | null,
    qpsAtKnee: null as number | null,
  }
  const none = { signal: false, failuresWithLoad: false, evidence: [] as Event[], data }
  if (all.length < MIN_BUCKETS) return none
  const minLoad = all.reduce((m, b) => Math.min(m, b.load), Infinity)
  const varied = data.peakQps >= 1.5 * minLoad
  const failRho = spearman(
    all.map((b) => b.load),
    all.map((b) => b.failed / b.load),
  )
  const failuresWithLoad = varied && all.some((b) => b.failed > 0) && failRho >= 0.5
  if (buckets.length < MIN_BUCKETS) return { ...none, failuresWithLoad }

  const medians = bucketMedianLatencies(tx)
  const lat: number[] = []
  all.forEach((b, i) => {
    if (b.timed > 0) lat.push(medians[i] / 1000)
  })
  const rho = spearman(
    buckets.map((b) => b.load),
    lat,
  )
  const byLoad = buckets
    .map((b, i) => ({ load: b.load, ms: lat[i] }))
    .sort((a, b) => a.load - b.load)
  const q = Math.max(1, Math.floor(byLoad.length / 4))
  const lowMs = median(byLoad.slice(0, q).map((x) => x.ms))
  const highMs = median(byLoad.slice(-q).map((x) => x.ms))
  const signal = varied && rho >= 0.5 && highMs >= 2 * lowMs && highMs >= SLOW_MS
  const knee = byLoad.find((x) => x.ms >= 2 * lowMs && x.ms >= SLOW_MS)
  data.loadLatencyCorrelation = Number.isNaN(rho) ? null : round(rho, 3)
  data.lowLoadLatencyMs = round(lowMs, 3)
  data.peakLoadLatencyMs = round(highMs, 3)
  data.qpsAtKnee = knee ? knee.load : null
  // Evidence: the slowest answered queries.
  const evidence: Event[] = []
  if (signal)
    for (const i of slowest(txFacts(tx), 5)) {
      const t = tx[i]
      evidence.push(t.queries[0], t.response!)
    }
  return { signal, failuresWithLoad, evidence, data }
}

/**
 * Indices of the `k` answered transactions with the largest latency, largest first, ties in
 * transaction order: what a stable sort by latency, descending, puts first.
 */
function slowest(f: TxFacts, k: number): number[] {
  const { n, flags, latencyUs } = f
  const need = HAS_RESPONSE | TIMED
  const top: number[] = []
  for (let i = 0; i < n; i++) {
    if ((flags[i] & need) !== need) continue
    const x = latencyUs[i]
    // NaN (or Infinity - Infinity) makes the comparison sort's order its own: keep the sort then.
    if (!Number.isFinite(x)) return slowestBySort(f, k)
    if (top.length >= k && !(x > latencyUs[top[top.length - 1]])) continue
    let at = top.length
    while (at > 0 && x > latencyUs[top[at - 1]]) at--
    top.splice(at, 0, i)
    if (top.length > k) top.pop()
  }
  return top
}

function slowestBySort(f: TxFacts, k: number): number[] {
  const idx: number[] = []
  for (let i = 0; i < f.n; i++)
    if ((f.flags[i] & (HAS_RESPONSE | TIMED)) === (HAS_RESPONSE | TIMED)) idx.push(i)
  return idx.sort((a, b) => f.latencyUs[b] - f.latencyUs[a]).slice(0, k)
}

/**
 * CPU limits from cAdvisor's spec gauges, quota / period per container:
 * container_spec_cpu_quota{namespace="kube-system",pod="coredns-lab",container="coredns"} 4000
 * container_spec_cpu_period{namespace="kube-system",pod="coredns-lab",container="coredns"} 100000
 */
function cadvisorLimits(ctx: RuleContext): { container: string; millicores: number }[] {
  const periods = new Map(
    seriesOf(ctx.metrics, 'container_spec_cpu_period').map((s) => [
      containerKey(s.labels),
      s.last.value,
    ]),
  )
  return seriesOf(ctx.metrics, 'container_spec_cpu_quota').flatMap((s) => {
    const period = periods.get(containerKey(s.labels))
    if (!period || !(s.last.value > 0)) return [] // quota -1: no limit
    const name = [s.labels.namespace, s.labels.pod, s.labels.container].filter(Boolean).join('/')
    return [
      { container: name || 'container', millicores: Math.round((s.last.value / period) * 1000) },
    ]
  })
}

function containerKey(l: Record<string, string>): string {
  return `${l.namespace ?? ''}/${l.pod ?? ''}/${l.container ?? ''}/${l.id ?? ''}`
}
