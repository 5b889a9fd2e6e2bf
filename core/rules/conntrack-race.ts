// conntrack-race: A and AAAA sent in parallel from one socket, one of the pair lost, on a node whose
// conntrack counts insert_failed or whose kernel predates the fixes. Seed talk: "Conntrack drops UDP
// packets when source port conflicts" (kubernetes#56903, kernel 4.19+).
import type { Event, FactEvent } from '../model/event.js'
import type { Transaction } from '../correlate/types.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { kernelFacts, kernelOlderThan } from './kernel-version.js'
import { evidenceList, round } from './transaction-views.js'

/** A and AAAA of one lookup leave the socket within microseconds; allow for busy clients. */
const PAIR_WINDOW_US = 100_000

export const conntrackRace: Rule = {
  id: 'conntrack-race',
  title: 'conntrack insertion race drops one of parallel A/AAAA queries',
  severity: 'critical',
  description:
    'glibc and musl send A and AAAA in parallel from one UDP socket. Through the DNAT to the DNS ' +
    'Service, both packets race to insert a conntrack entry and the loser is dropped ' +
    '(insert_failed), so the lookup waits for the resolver timeout (5 s by default). Fires when such ' +
    'a pair lost exactly one query and the node counts insert_failed or runs a kernel older than the ' +
    'fixes (race 1 fixed in 4.19, race 2 in 5.0).',
  mitigation:
    'For glibc clients add to the pod spec `dnsConfig: {options: [{name: single-request-reopen}]}` ' +
    '(musl/Alpine ignores it: use `use-vc` or NodeLocal DNSCache). Cluster-wide: deploy NodeLocal ' +
    'DNSCache (its NOTRACK rules skip conntrack for DNS), or upgrade node kernels to 5.0 or later.',
  references: [
    'seed talk: "Conntrack drops UDP packets when source port conflicts" — upgrade kernel to 4.19+',
    'https://github.com/kubernetes/kubernetes/issues/56903',
    'https://lambda.lt/blog/2018/racy_conntrack.html (Weave Works, "Racy conntrack and DNS lookup timeouts")',
    'kernel ed07d9a021df "netfilter: nf_conntrack: resolve clash for matching conntracks" (race 1, 4.19)',
    'kernel "netfilter: nf_nat: skip nat clash resolution for same-origin entries" (race 2, in 5.0 per the Weave Works and XING write-ups)',
    'https://lists.ubuntu.com/archives/kernel-team/2019-July/102291.html (the two races, SRU to 4.15)',
    'https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/',
  ],
  check,
  describe(d) {
    const stats =
      d.insertFailedIncrease != null
        ? `conntrack insert_failed rose by ${d.insertFailedIncrease}`
        : Number(d.insertFailed) > 0
          ? `conntrack insert_failed is ${d.insertFailed}`
          : ''
    const kernel = (d.kernels as { release: string }[]).map((k) => k.release).join(', ')
    const why = [stats, d.kernelVulnerable ? `kernel ${kernel} predates the race fixes` : '']
      .filter(Boolean)
      .join(' and ')
    if (!d.pairs)
      return `No parallel A/AAAA traffic to check, but ${why}: the race is possible on this node.`
    return (
      `${d.pairsWithOneLost} of ${d.pairs} parallel A/AAAA pairs lost exactly one query, ` +
      `and ${why}.`
    )
  },
}

function suffered(t: Transaction): boolean {
  return !t.answered || t.copies > 1
}

function check(ctx: RuleContext): RuleFinding[] {
  const stats = insertFailedStats(ctx.facts)
  const kernels = kernelFacts(ctx).map((k) => ({
    vantage: k.vantage,
    release: k.release,
    olderThan419: kernelOlderThan(k.release, [4, 19]),
    olderThan50: kernelOlderThan(k.release, [5, 0]),
    event: k.event,
  }))
  const kernelVulnerable = kernels.length ? kernels.some((k) => k.olderThan50 === true) : null
  const insertFailed = stats.latest > 0
  const noDnsData = ctx.correlation.transactions.length === 0
  if (!(insertFailed || kernelVulnerable)) return []
  // Only now look for the pairs: without a vulnerable kernel or failed inserts there is no race.
  const pairs = parallelPairs(ctx.correlation.transactions)
  const broken = pairs.filter(([a, b]) => suffered(a) !== suffered(b))
  if (broken.length === 0 && !(noDnsData && insertFailed)) return []

  let confidence: number
  if (broken.length === 0) confidence = 0.35
  else if (stats.increase !== null && stats.increase > 0) confidence = 0.9
  else if (insertFailed) confidence = kernelVulnerable ? 0.8 : 0.75
  else confidence = 0.6

  const lostOf = (p: [Transaction, Transaction]) => (suffered(p[0]) ? p[0] : p[1])
  const data = {
    pairs: pairs.length,
    pairsWithOneLost: broken.length,
    pairLossShare: pairs.length ? round(broken.length / pairs.length, 4) : 0,
    lostType: {
      A: broken.filter((p) => lostOf(p).qtype === 1).length,
      AAAA: broken.filter((p) => lostOf(p).qtype === 28).length,
    },
    clients: new Set(broken.map((p) => p[0].client)).size,
    insertFailed: stats.latest,
    insertFailedIncrease: stats.increase,
    conntrackDrop: stats.drop,
    kernels: kernels.map(({ vantage, release, olderThan419, olderThan50 }) => ({
      vantage,
      release,
      fixes: olderThan419
        ? 'none'
        : olderThan50
          ? 'race 1 (4.19)'
          : olderThan50 === false
            ? 'races 1 and 2 (5.0)'
            : 'unknown',
    })),
    kernelVulnerable,
  }
  const pairEvidence: Event[] = []
  for (const p of broken)
    pairEvidence.push(lostOf(p).queries[0], (lostOf(p) === p[0] ? p[1] : p[0]).queries[0])
  return [
    {
      confidence,
      severity: broken.length ? 'critical' : 'warning',
      data,
      evidence: evidenceList(
        stats.events,
        kernels.filter((k) => k.olderThan50).map((k) => k.event),
        pairEvidence,
      ),
    },
  ]
}

/** A and AAAA for the same name from the same client socket, sent within PAIR_WINDOW_US. */
function parallelPairs(transactions: readonly Transaction[]): [Transaction, Transaction][] {
  const bySocket = new Map<string, Transaction[]>()
  for (const t of transactions) {
    if (t.qtype !== 1 && t.qtype !== 28) continue
    const k = `${t.client}|${t.clientPort}|${t.qname}`
    const arr = bySocket.get(k)
    if (arr) arr.push(t)
    else bySocket.set(k, [t])
  }
  const out: [Transaction, Transaction][] = []
  for (const group of bySocket.values()) {
    if (group.length < 2) continue
    group.sort((a, b) => a.firstSent - b.firstSent)
    const used = new Set<Transaction>()
    for (let i = 0; i < group.length; i++) {
      const a = group[i]
      if (used.has(a)) continue
      for (
        let j = i + 1;
        j < group.length && group[j].firstSent - a.firstSent <= PAIR_WINDOW_US;
        j++
      ) {
        const b = group[j]
        if (used.has(b) || b.qtype === a.qtype) continue
        used.add(a).add(b)
        out.push([a, b])
        break
      }
    }
  }
  return out
}

/** insert_failed summed over vantages at their latest snapshot, and its rise where sampled twice. */
function insertFailedStats(facts: readonly FactEvent[]) {
  const byVantage = new Map<string, { fact: FactEvent; insertFailed: number; drop: number }[]>()
  for (const e of facts) {
    if (e.fact.type !== 'conntrack-stats') continue
    const { totals, perCpu } = e.fact
    const sum = (k: string) => totals[k] ?? perCpu.reduce((n, c) => n + (c[k] ?? 0), 0)
    const arr = byVantage.get(e.vantage) ?? []
    arr.push({ fact: e, insertFailed: sum('insert_failed'), drop: sum('drop') })
    byVantage.set(e.vantage, arr)
  }
  let latest = 0
  let drop = 0
  let increase: number | null = null
  const events: FactEvent[] = []
  for (const snaps of byVantage.values()) {
    snaps.sort((a, b) => a.fact.time - b.fact.time)
    const first = snaps[0]
    const last = snaps[snaps.length - 1]
    latest += last.insertFailed
    drop += last.drop
    if (snaps.length > 1 && last.fact.time > first.fact.time)
      increase = (increase ?? 0) + Math.max(0, last.insertFailed - first.insertFailed)
    if (last.insertFailed > 0) events.push(last.fact)
  }
  return { latest, drop, increase, events }
}
