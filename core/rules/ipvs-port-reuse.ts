// ipvs-port-reuse: kube-proxy in IPVS mode keeps UDP connection entries to a DNS endpoint that went
// away; a client reusing the source port is sent to the dead endpoint and its queries vanish. Seed
// talk: "IPVS drops UDP packets when source port conflicts" (kubernetes#71514, kernel 5.9+).
import type { Event } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { kernelFacts, kernelOlderThan } from './kernel-version.js'
import { dnsAddresses, evidenceList, lazyEvents, round } from './transaction-views.js'
import type { Transaction } from '../correlate/types.js'
import { TxnStore } from '../correlate/txn-store.js'
import { StringPool } from '../model/dns-table.js'
import { factsOf } from '../model/facts.js'

export const ipvsPortReuse: Rule = {
  id: 'ipvs-port-reuse',
  title: 'IPVS sends reused UDP source ports to a deleted DNS endpoint',
  severity: 'critical',
  description:
    'In IPVS mode a UDP connection entry outlives the real server it points to (5 minutes by ' +
    'default). During a CoreDNS rollout or scale-in, a client that reuses its source port is sent ' +
    'to the deleted pod and its DNS queries are dropped. Fires in IPVS mode on a kernel older than ' +
    '5.9 (or unknown) when the node shows UDP connections to a DNS endpoint that is gone or drained ' +
    '(weight 0), or ip_vs_* drops of DNS packets.',
  mitigation:
    'Upgrade node kernels to 5.9 or later (kube-proxy then keeps net.ipv4.vs.conn_reuse_mode=1). ' +
    'Until then: give CoreDNS `health { lameduck 5s }` so a terminating pod keeps answering, shorten ' +
    'the IPVS UDP timeout in the KubeProxyConfiguration (`ipvs: {udpTimeout: 10s}`), and after a ' +
    'rollout clear stale entries with `conntrack -D -p udp --orig-dst <DNS service IP> --dport 53`.',
  references: [
    'seed talk: "IPVS drops UDP packets when source port conflicts" — upgrade kernel to 5.9+',
    'https://github.com/kubernetes/kubernetes/issues/71514',
    'https://github.com/kubernetes/kubernetes/pull/71515 (UDP graceful termination in IPVS mode)',
    'https://github.com/kubernetes/kubernetes/issues/76664 (ipvsadm output of the failure)',
    'https://github.com/kubernetes/kubernetes/issues/93297 (the kernel patches in 5.9)',
  ],
  check,
  describe(d) {
    const svc = (d.services as string[]).join(', ')
    return (
      `kube-proxy runs in IPVS mode${d.kernel ? ` on kernel ${d.kernel}` : ''} and ${d.staleConnections} UDP ` +
      `connection(s) to ${svc} still point at a removed or drained endpoint` +
      (Number(d.ipvsDrops) ? `; the kernel dropped ${d.ipvsDrops} DNS packet(s) in ip_vs_*` : '') +
      (Number(d.unansweredToService)
        ? `; ${d.unansweredToService} queries to the service went unanswered`
        : '') +
      '.'
    )
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const modeFacts = factsOf(ctx.facts, 'kube-proxy-mode')
  const services = factsOf(ctx.facts, 'ipvs-service')
  const connections = factsOf(ctx.facts, 'ipvs-connection')
  const ipvsMode =
    modeFacts.some((e) => e.fact.type === 'kube-proxy-mode' && e.fact.mode === 'ipvs') ||
    ctx.manifest?.cluster?.kubeProxyMode === 'ipvs' ||
    (modeFacts.length === 0 && services.length > 0)
  if (!ipvsMode) return []

  const kernels = kernelFacts(ctx)
  const old = kernels.map((k) => kernelOlderThan(k.release, [5, 9]))
  if (kernels.length && old.every((o) => o === false)) return []
  const kernelOld = old.some((o) => o === true)

  // DNS services: port 53, the manifest's DNS Service IPs, or an address clients sent DNS to.
  const dnsAddrs = dnsAddresses(ctx)
  const transactions = ctx.correlation.transactions
  const servers = serverColumn(transactions)
  for (const a of servers.distinct()) dnsAddrs.add(a)
  const dnsServices = services.filter(
    (s) =>
      s.fact.protocol.toUpperCase() === 'UDP' && (s.fact.port === 53 || dnsAddrs.has(s.fact.vip)),
  )
  const vipKeys = new Set(dnsServices.map((s) => `${s.fact.vip}:${s.fact.port}`))
  for (const ip of ctx.manifest?.cluster?.dnsServiceIps ?? []) vipKeys.add(`${ip}:53`)

  const live = new Map<string, Set<string>>()
  const drained: Event[] = []
  for (const s of dnsServices) {
    const key = `${s.fact.vip}:${s.fact.port}`
    const set = live.get(key) ?? new Set<string>()
    for (const rs of s.fact.realServers) {
      if (rs.weight > 0) set.add(`${rs.addr}:${rs.port}`)
      else if (rs.inactConn > 0 || rs.activeConn > 0) drained.push(s)
    }
    live.set(key, set)
  }
  const endpoints = new Set(ctx.manifest?.cluster?.dnsEndpoints ?? [])
  const stale = connections.filter((c) => {
    if (c.fact.protocol.toUpperCase() !== 'UDP' || !vipKeys.has(c.fact.virtual)) return false
    const alive = live.get(c.fact.virtual)
    if (alive) return !alive.has(c.fact.destination)
    return endpoints.size > 0 && !endpoints.has(c.fact.destination.replace(/:\d+$/, ''))
  })
  const vips = new Set([...vipKeys].map((k) => k.replace(/:\d+$/, '')))
  const ipvsDrops = ctx.drops.filter(
    (d) => d.func.startsWith('ip_vs_') && (d.dstPort === 53 || vips.has(d.dstAddr)),
  )
  // IPVS only runs ip_vs_*_request on packets to a virtual service: their target is a DNS VIP.
  for (const d of ipvsDrops) vips.add(d.dstAddr)
  if (stale.length === 0 && ipvsDrops.length === 0) return []

  const unanswered = servers.unansweredTo(vips)
  const confidence = round(
    Math.min(
      0.95,
      0.45 +
        (kernelOld ? 0.2 : 0) +
        (ipvsDrops.length ? 0.15 : 0) +
        (stale.length ? 0.05 : 0) +
        (unanswered.length ? 0.1 : 0) +
        (drained.length ? 0.05 : 0),
    ),
    2,
  )
  const data = {
    services: [...vipKeys],
    staleConnections: stale.length,
    staleDestinations: [...new Set(stale.map((c) => c.fact.destination))],
    drainedServices: drained.length,
    ipvsDrops: ipvsDrops.length,
    unansweredToService: unanswered.length,
    unansweredShare: transactions.length ? round(unanswered.length / transactions.length, 4) : 0,
    kernel: kernels.map((k) => k.release).join(', ') || null,
    kernelOlderThan59: kernels.length ? kernelOld : null,
    kubeProxyMode: 'ipvs',
  }
  return [
    {
      confidence,
      data,
      evidence: evidenceList(
        stale,
        ipvsDrops,
        drained,
        kernels.filter((_, i) => old[i]).map((k) => k.event),
        modeFacts,
        lazyEvents(transactions, unanswered, (t) => t.queries[0]),
      ),
    },
  ]
}

/**
 * Each transaction's server address as a number: from the correlator's columns when the
 * transactions are its views (a view per transaction cost as much as the rest of the analysis),
 * numbered strings otherwise.
 */
function serverColumn(transactions: readonly Transaction[]): {
  /** The server addresses, each once. */
  distinct: () => string[]
  /** The transactions without a response sent to one of `addrs`, in order. */
  unansweredTo: (addrs: ReadonlySet<string>) => number[]
} {
  const n = transactions.length
  const server = new Int32Array(n)
  const answered = new Uint8Array(n)
  let text: readonly string[]
  const store = TxnStore.of(transactions)
  if (store) {
    const { firstQuery, head, response } = store
    const dst = store.dns.dstAddr
    text = store.dns.strings.text
    // As TxnView.server: the first query's destination, or the first row's.
    for (let t = 0; t < n; t++) {
      server[t] = dst[firstQuery[t]] !== 0 ? dst[firstQuery[t]] : dst[head[t]]
      answered[t] = response[t] >= 0 ? 1 : 0
    }
  } else {
    const pool = new StringPool()
    text = pool.text
    transactions.forEach((t, i) => {
      server[i] = pool.id(t.server)
      answered[i] = t.answered ? 1 : 0
    })
  }
  const seen = new Uint8Array(text.length)
  for (let t = 0; t < n; t++) seen[server[t]] = 1
  return {
    distinct: () => text.filter((_, id) => seen[id] === 1),
    unansweredTo: (addrs) => {
      const to = Uint8Array.from(text, (a, id) => (seen[id] === 1 && addrs.has(a) ? 1 : 0))
      const out: number[] = []
      for (let t = 0; t < n; t++) if (answered[t] === 0 && to[server[t]] === 1) out.push(t)
      return out
    },
  }
}
