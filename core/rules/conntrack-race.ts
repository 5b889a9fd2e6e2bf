// conntrack-race: A and AAAA sent in parallel from one socket, one of the pair lost, on a node whose
// conntrack counts insert_failed or whose kernel predates the fixes. Seed talk: "Conntrack drops UDP
// packets when source port conflicts" (kubernetes#56903, kernel 4.19+).
import type { FactEvent } from '../model/event.js'
import type { Transaction } from '../correlate/types.js'
import { TxnStore } from '../correlate/txn-store.js'
import { StringPool } from '../model/dns-table.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { kernelFacts, kernelOlderThan } from './kernel-version.js'
import { evidenceList, round } from './transaction-views.js'
import { factsOf } from '../model/facts.js'

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
  const transactions = ctx.correlation.transactions
  const noDnsData = transactions.length === 0
  if (!(insertFailed || kernelVulnerable)) return []
  // Only now look for the pairs: without a vulnerable kernel or failed inserts there is no race.
  const sockets = socketColumns(transactions)
  const pairs = parallelPairs(sockets)
  // The pairs that lost exactly one query, as [lost, other] transaction numbers, and the client
  // (as numbered) of each.
  const broken: number[] = []
  const clients = new Set<number>()
  for (let i = 0; i < pairs.length; i += 2) {
    const [a, b] = [pairs[i], pairs[i + 1]]
    if (sockets.suffered[a] === sockets.suffered[b]) continue
    broken.push(...(sockets.suffered[a] ? [a, b] : [b, a]))
    clients.add(sockets.client[a])
  }
  if (broken.length === 0 && !(noDnsData && insertFailed)) return []

  let confidence: number
  if (broken.length === 0) confidence = 0.35
  else if (stats.increase !== null && stats.increase > 0) confidence = 0.9
  else if (insertFailed) confidence = kernelVulnerable ? 0.8 : 0.75
  else confidence = 0.6

  const lost = broken.filter((_, i) => i % 2 === 0)
  const data = {
    pairs: pairs.length / 2,
    pairsWithOneLost: lost.length,
    pairLossShare: pairs.length ? round(lost.length / (pairs.length / 2), 4) : 0,
    lostType: {
      A: lost.filter((t) => sockets.qtype[t] === 1).length,
      AAAA: lost.filter((t) => sockets.qtype[t] === 28).length,
    },
    clients: clients.size,
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
  // The lost query and its partner, pair by pair: views made only for the few shown.
  const pairEvidence = {
    length: broken.length,
    at: (i: number) => transactions[broken[i]].queries[0],
  }
  return [
    {
      confidence,
      severity: lost.length ? 'critical' : 'warning',
      data,
      evidence: evidenceList(
        stats.events,
        kernels.filter((k) => k.olderThan50).map((k) => k.event),
        pairEvidence,
      ),
    },
  ]
}

/**
 * What the pairing reads of each transaction, by transaction number: the correlator's columns
 * when the transactions are its views (half a million views and key strings took as long as the
 * rest of the analysis), numbered strings otherwise.
 */
interface SocketColumns {
  length: number
  qtype: ArrayLike<number>
  /** Client address and qname as numbers: equal strings, equal numbers. */
  client: ArrayLike<number>
  qname: ArrayLike<number>
  clientPort: (t: number) => number
  firstSent: ArrayLike<number>
  /** 1: unanswered or resent. */
  suffered: Uint8Array
}

function socketColumns(transactions: readonly Transaction[]): SocketColumns {
  const n = transactions.length
  const suffered = new Uint8Array(n)
  const store = TxnStore.of(transactions)
  if (store) {
    const { response, copies, firstQuery } = store
    for (let t = 0; t < n; t++) suffered[t] = response[t] < 0 || copies[t] > 1 ? 1 : 0
    const port = store.dns.srcPort
    return {
      length: n,
      qtype: store.qtype,
      client: store.client,
      qname: store.qname,
      clientPort: (t) => port[firstQuery[t]],
      firstSent: store.firstSent,
      suffered,
    }
  }
  const pool = new StringPool()
  const cols = {
    length: n,
    qtype: new Uint16Array(n),
    client: new Uint32Array(n),
    qname: new Uint32Array(n),
    port: new Uint16Array(n),
    firstSent: new Float64Array(n),
  }
  transactions.forEach((t, i) => {
    cols.qtype[i] = t.qtype
    cols.client[i] = pool.id(t.client)
    cols.qname[i] = pool.id(t.qname)
    cols.port[i] = t.clientPort
    cols.firstSent[i] = t.firstSent
    suffered[i] = !t.answered || t.copies > 1 ? 1 : 0
  })
  return { ...cols, clientPort: (t) => cols.port[t], suffered }
}

/**
 * A and AAAA for the same name from the same client socket, sent within PAIR_WINDOW_US, as
 * transaction numbers [a, b, a, b, …]: sockets in order of first sight, each one's questions
 * in order of send, each paired with the next of the other type.
 */
function parallelPairs(c: SocketColumns): number[] {
  // Sockets by (client, port, qname) in an open-addressing table of socket numbers; each
  // socket's questions linked in transaction order.
  let cap = 1024
  while (cap < 2 * c.length) cap *= 2
  const slots = new Int32Array(cap).fill(-1)
  const first: number[] = []
  const last: number[] = []
  const next = new Int32Array(c.length).fill(-1)
  for (let t = 0; t < c.length; t++) {
    if (c.qtype[t] !== 1 && c.qtype[t] !== 28) continue
    const port = c.clientPort(t)
    let h = Math.imul(c.qname[t] ^ (port << 16), 0x9e3779b1)
    h = Math.imul(h ^ c.client[t], 0x85ebca6b)
    for (let i = (h ^ (h >>> 15)) & (cap - 1); ; i = (i + 1) & (cap - 1)) {
      const g = slots[i]
      if (g < 0) {
        slots[i] = first.length
        first.push(t)
        last.push(t)
        break
      }
      const f = first[g]
      if (c.qname[f] === c.qname[t] && c.client[f] === c.client[t] && c.clientPort(f) === port) {
        next[last[g]] = t
        last[g] = t
        break
      }
    }
  }
  const out: number[] = []
  const used = new Uint8Array(c.length)
  const sent = c.firstSent
  for (let g = 0; g < first.length; g++) {
    if (first[g] === last[g]) continue
    const group: number[] = []
    let ordered = true
    for (let t = first[g]; t >= 0; t = next[t]) {
      // In order of send already unless a time is NaN or earlier than the one before.
      if (group.length && !(sent[t] >= sent[group[group.length - 1]])) ordered = false
      group.push(t)
    }
    if (!ordered) group.sort((a, b) => sent[a] - sent[b])
    for (let i = 0; i < group.length; i++) {
      const a = group[i]
      if (used[a]) continue
      for (let j = i + 1; j < group.length && sent[group[j]] - sent[a] <= PAIR_WINDOW_US; j++) {
        const b = group[j]
        if (used[b] || c.qtype[b] === c.qtype[a]) continue
        used[a] = used[b] = 1
        out.push(a, b)
        break
      }
    }
  }
  return out
}

/** insert_failed summed over vantages at their latest snapshot, and its rise where sampled twice. */
function insertFailedStats(facts: readonly FactEvent[]) {
  const byVantage = new Map<string, { fact: FactEvent; insertFailed: number; drop: number }[]>()
  for (const e of factsOf(facts, 'conntrack-stats')) {
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
