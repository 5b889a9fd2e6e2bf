// packet-drop: queries (or replies) lost in transit, where they were last seen, the hop they never
// reached, and the kernel's reason when a drop was traced. Seed talk: "BPF-based tools for
// diagnosis" (trace_dns_drop.bt) and "Verify: use BPF tools or tcpdump to verify where the packets
// dropped".
import type { DropEvent, Event } from '../model/event.js'
import type { Transaction } from '../correlate/types.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import {
  dnsAddresses,
  evidenceList,
  HAS_RESPONSE,
  median,
  reachedServer,
  replyLost,
  round,
  topCounts,
  touchesDnsPort,
  txFacts,
  vantageTypes,
} from './transaction-views.js'

/** Answered queries read to learn the usual path (hop order) of the lost queries' clients. */
const PATH_SAMPLE = 5000

export const packetDrop: Rule = {
  id: 'packet-drop',
  title: 'DNS packets lost in transit',
  severity: 'critical',
  description:
    'Client queries that never got an answer and never reached the DNS server (or replies that ' +
    'never reached the client), located by the last vantage point that saw them and, when the bundle ' +
    'holds a kernel drop trace (bpftrace skb:kfree_skb, pwru, nettrace), the function and reason.',
  mitigation:
    'Find the rule or device that drops at the hop named in the data: `iptables-save -c | grep -E ' +
    "'DROP|REJECT'` and `nft list ruleset` on that node, `tc -s qdisc show` for QDISC_DROP, " +
    '`ip -s link` for interface drops; then re-run `bpftrace collector/scripts/dns-drops.bt` to confirm.',
  references: [
    'seed talk: "BPF-based Tools for diagnosis" (trace_dns_drop.bt, pwru)',
    'seed talk: "Diagnostic Procedure" — Verify: use BPF tools or tcpdump to verify where the packets dropped',
    'https://github.com/cilium/pwru',
  ],
  check,
  describe(d) {
    const lost = Number(d.lost ?? 0)
    const where = (d.lastSeen as { vantage: string; count: number }[] | undefined)?.[0]
    const never = (d.neverReached as { vantage: string; count: number }[] | undefined)?.[0]
    const reason = (
      d.kernelReasons as { func: string; reason: string; count: number }[] | undefined
    )?.[0]
    if (lost === 0)
      return (
        `The kernel dropped ${d.kernelDrops} DNS packet(s)` +
        (reason
          ? `, most in ${reason.func || '?'} (${reason.reason || 'no reason recorded'}).`
          : '.')
      )
    let s = `${lost} of ${d.transactions} DNS queries (${pct(d.lostShare)}) were lost in transit`
    if (where) s += `; last seen at ${where.vantage}`
    if (never) s += `, never reaching ${never.vantage}`
    if (reason)
      s += `; the kernel dropped them in ${reason.func || '?'} (${reason.reason || 'no reason'})`
    return s + '.'
  },
}

function pct(x: unknown): string {
  return `${round(Number(x) * 100, 1)}%`
}

function check(ctx: RuleContext): RuleFinding[] {
  const { transactions, forwarder } = ctx.correlation
  const types = vantageTypes(ctx)
  // Queries the server forwarded and is still waiting on are upstream-failure's, not ours.
  const waitingOnUpstream = new Set(
    forwarder.filter((f) => f.response === null).map((f) => `${f.qname}|${f.qtype}`),
  )
  const f = txFacts(transactions)
  const { n, flags } = f
  const lost: Transaction[] = []
  // A transaction without a response failed: only the failed ones can be lost.
  for (const i of f.failed) {
    if (flags[i] & HAS_RESPONSE) continue
    const t = transactions[i]
    if (
      replyLost(t) ||
      (!reachedServer(t, types) &&
        !(waitingOnUpstream.size && waitingOnUpstream.has(`${t.qname}|${t.qtype}`)))
    )
      lost.push(t)
  }
  const dnsAddrs = dnsAddresses(ctx)
  const attached = new Set(lost.map((t) => t.drop).filter((d): d is DropEvent => d !== null))
  const dnsDrops = ctx.drops.filter((d) => touchesDnsPort(d, dnsAddrs))
  if (lost.length === 0 && dnsDrops.length === 0) return []

  // Hops are built lazily by the correlator: look only at the lost queries' clients, and at a
  // bounded sample of their answered queries, which show the path a query normally takes.
  const lostClients = new Set(lost.map((t) => t.client))
  const lostClient = new Uint8Array(f.clients.length)
  f.clients.forEach((c, i) => (lostClient[i] = lostClients.has(c) ? 1 : 0))
  const sample: Transaction[] = []
  for (let i = 0; i < n; i++) {
    if (flags[i] & HAS_RESPONSE && lostClient[f.client[i]]) sample.push(transactions[i])
    if (sample.length >= PATH_SAMPLE) break
  }
  const positions = vantagePositions([...sample, ...lost])
  const pathByClient = new Map<string, Set<string>>()
  for (const t of sample) {
    let s = pathByClient.get(t.client)
    if (!s) pathByClient.set(t.client, (s = new Set()))
    for (const h of t.hops) s.add(h.vantage)
  }
  const never: string[] = []
  let multiVantage = 0
  const addressesOf = new Map(ctx.vantages.map((v) => [v.id, v.addresses]))
  for (const t of lost) {
    const n = nextMissingHop(t, pathByClient.get(t.client), positions, addressesOf)
    if (n) {
      never.push(n)
      multiVantage++
    }
  }
  const reasons = new Map<string, { func: string; reason: string; count: number }>()
  const traced = attached.size ? [...attached] : dnsDrops
  for (const d of traced) {
    const k = `${d.func}|${d.reason}`
    const r = reasons.get(k) ?? { func: d.func, reason: d.reason, count: 0 }
    r.count++
    reasons.set(k, r)
  }
  const withDrop = lost.filter((t) => t.drop).length
  const lostShare = transactions.length ? lost.length / transactions.length : 0
  const confidence =
    lost.length === 0
      ? 0.6
      : withDrop >= lost.length / 2
        ? 0.95
        : multiVantage >= lost.length / 2
          ? 0.85
          : 0.5
  const data = {
    lost: lost.length,
    lostQueries: lost.filter((t) => !replyLost(t)).length,
    lostReplies: lost.filter(replyLost).length,
    transactions: transactions.length,
    lostShare: round(lostShare, 4),
    lastSeen: topCounts(lost.map((t) => t.lastSeen)).map(({ key, count }) => ({
      vantage: key,
      count,
    })),
    neverReached: topCounts(never).map(({ key, count }) => ({ vantage: key, count })),
    kernelReasons: [...reasons.values()].sort((a, b) => b.count - a.count),
    kernelDrops: dnsDrops.length,
    unmatchedKernelDrops: dnsDrops.filter((d) => !attached.has(d)).length,
    clients: new Set(lost.map((t) => t.client)).size,
    lostWithKernelRecord: withDrop,
  }
  const lostEvidence: Event[] = []
  for (const t of [...lost].sort((a, b) => Number(!!b.drop) - Number(!!a.drop))) {
    if (t.drop) lostEvidence.push(t.drop)
    const last = t.hops.at(-1)?.event ?? t.queries[0]
    if (last) lostEvidence.push(last)
  }
  const severity =
    lost.length >= 5 || lostShare >= 0.01 ? ('critical' as const) : ('warning' as const)
  return [{ confidence, severity, data, evidence: evidenceList(lostEvidence, dnsDrops) }]
}

/** Median position (index of first appearance in hops) of each vantage: the path order. */
function vantagePositions(transactions: readonly Transaction[]): Map<string, number> {
  const seen = new Map<string, number[]>()
  for (const t of transactions) {
    const firsts = new Map<string, number>()
    t.hops.forEach((h, i) => {
      if (!firsts.has(h.vantage)) firsts.set(h.vantage, i)
    })
    for (const [v, i] of firsts) {
      const arr = seen.get(v) ?? []
      if (arr.length < 1000) arr.push(i)
      seen.set(v, arr)
    }
  }
  return new Map([...seen].map(([v, xs]) => [v, median(xs)]))
}

/** The first vantage on this client's usual path that comes after lastSeen and never saw `t`. */
function nextMissingHop(
  t: Transaction,
  path: ReadonlySet<string> | undefined,
  positions: ReadonlyMap<string, number>,
  addressesOf: ReadonlyMap<string, readonly string[]>,
): string | null {
  if (!path) return null
  const saw = new Set(t.hops.map((h) => h.vantage))
  const after = positions.get(t.lastSeen) ?? -1
  // Where its copies were sent (after DNAT, at the last vantage): of the replicas of the server
  // on the path, the one it was headed for comes first.
  const sentTo = new Set(t.queries.map((q) => q.dstAddr))
  const headedFor = (v: string) => (addressesOf.get(v) ?? []).some((a) => sentTo.has(a))
  let best: string | null = null
  let bestPos = Infinity
  let bestHeaded = false
  for (const v of path) {
    const p = positions.get(v) ?? Infinity
    if (saw.has(v) || !(p > after)) continue
    const headed = headedFor(v)
    if ((headed && !bestHeaded) || (headed === bestHeaded && p < bestPos))
      [best, bestPos, bestHeaded] = [v, p, headed]
  }
  return best
}
