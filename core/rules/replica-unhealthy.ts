// replica-unhealthy: one DNS server fails, or answers slowly, while the others are fine. The cluster
// DNS is several CoreDNS pods behind one Service, and kube-proxy spreads queries over them: one
// sick pod (its node's conntrack, CPU or network, a stuck cache, an endpoint that is gone) fails a
// share of every client's lookups, which looks intermittent and cluster-wide from the clients. The
// seed talk's procedure asks for the failure scope and, for intermittent failures, to check the
// CoreDNS pods' status; this is that scope on the server side.
import type { Vantage } from '../model/bundle.js'
import type { Transaction } from '../correlate/types.js'
import type { HandledBy } from '../correlate/handled-by.js'
import { medianLatencyMs, serverTable, type ServerStats } from './dns-servers.js'
import { increaseSum, latestSum, seriesOf, type Series } from './metric-series.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import {
  evidenceList,
  HAS_RESPONSE,
  lazyEvents,
  round,
  TIMED,
  txFacts,
  type TxFacts,
} from './transaction-views.js'

/** Transactions a server must have handled for its rates to count. */
const MIN_TRANSACTIONS = 20
/** Failures one server must have: fewer are chance. */
const MIN_FAILURES = 5
/** Its failure rate at least this, and at least RATIO times that of the others together. */
const MIN_RATE = 0.05
const RATIO = 4
/** Slow: its median latency RATIO times the others' and at least this much more. */
const MIN_SLOWER_MS = 20
/** Servers compared at most (a cluster runs a few CoreDNS pods, a pod has three nameservers). */
const MAX_SERVERS = 64
/** At least this share of its failed (or slow) queries from clients the others answered. */
const MIN_SHARED_CLIENTS = 0.5

export const replicaUnhealthy: Rule = {
  id: 'replica-unhealthy',
  title: 'One DNS server fails while the others answer',
  severity: 'warning',
  description:
    'Queries handled by one DNS server (one CoreDNS replica behind the Service, or one of the ' +
    'nameservers) fail (no answer, SERVFAIL, REFUSED) or are answered slowly far more often than ' +
    "the others' are. Which server handled a query comes from that server's own log, dnstap or " +
    "capture, or from the node's capture after DNAT (the endpoint's address). Without those, each " +
    "CoreDNS pod's coredns_dns_responses_total says how many it answered SERVFAIL or REFUSED.",
  mitigation:
    'Look at that pod and its node: `kubectl -n kube-system get pods -o wide -l k8s-app=kube-dns`, ' +
    '`kubectl -n kube-system logs <pod>`, `kubectl -n kube-system describe pod <pod>` (restarts, ' +
    "readiness), and on its node `conntrack -S` and the pod's CPU throttling. Replace it: " +
    '`kubectl -n kube-system delete pod <pod>` (its Deployment starts another).',
  references: [
    'seed talk: "Diagnostic Procedure" — intermittently: "check coredns pod status"; "make dig tests from different places to confirm the failure scope"',
    'https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/',
    'https://github.com/kubernetes/kubernetes/issues/125467 (queries still sent to a CoreDNS pod that is gone)',
  ],
  check,
  describe(d) {
    const s = d.stats as ServerStats
    const others = d.others as {
      transactions: number
      failureRate: number
      medianMs: number | null
    }
    const name = s.address && s.address !== s.server ? `${s.server} (${s.address})` : s.server
    if (d.kind === 'slow')
      return (
        `DNS server ${name} answered in ${s.medianMs} ms at the median, the other servers in ` +
        `${others.medianMs} ms (${s.transactions} and ${others.transactions} queries).`
      )
    if (typeof d.source === 'string')
      return (
        `CoreDNS pod ${name} answered ${s.failed} of ${s.transactions} queries with SERVFAIL or ` +
        `REFUSED (${pct(s.failureRate)}), by its ${d.source.replace(/^metrics /, 'metrics, ')}; ` +
        `the other pods ${pct(others.failureRate)} of ${others.transactions}.`
      )
    const parts = [
      s.unanswered ? `${s.unanswered} unanswered` : '',
      s.servfail ? `${s.servfail} SERVFAIL` : '',
      s.refused ? `${s.refused} REFUSED` : '',
    ].filter(Boolean)
    return (
      `DNS server ${name} failed ${s.failed} of ${s.transactions} queries ` +
      `(${pct(s.failureRate)}: ${parts.join(', ')}); the other servers failed ` +
      `${pct(others.failureRate)} of ${others.transactions}.`
    )
  },
}

const pct = (x: number) => `${round(x * 100, 1)}%`

function check(ctx: RuleContext): RuleFinding[] {
  const found = fromTransactions(ctx)
  // CoreDNS's metrics say what each pod answered even where no query was recorded (the log
  // plugin is off in most clusters): they speak when the transactions could not.
  return found.length ? found : fromMetrics(ctx)
}

/** Per server, from the transactions each handled. */
function fromTransactions(ctx: RuleContext): RuleFinding[] {
  const txns = ctx.correlation.transactions
  // One server at most in sight: nothing to compare (a single capture of one resolver).
  const table = serverTable(ctx)
  if (!table) return []
  const { by, stats } = table
  const f = txFacts(txns)
  const found: RuleFinding[] = []
  const counted = stats.filter((s) => s.transactions >= MIN_TRANSACTIONS)
  // Replicas and nameservers are a few; each comparison reads every transaction.
  if (counted.length < 2 || counted.length > MAX_SERVERS) return []
  for (const s of counted) {
    const rest = counted.filter((x) => x !== s)
    const others = combined(rest, by, f)
    const failing =
      s.failed >= MIN_FAILURES &&
      s.failureRate >= MIN_RATE &&
      s.failureRate >= RATIO * others.failureRate
    const slow =
      !failing &&
      s.medianMs !== null &&
      others.medianMs !== null &&
      s.medianMs >= RATIO * others.medianMs &&
      s.medianMs - others.medianMs >= MIN_SLOWER_MS
    if (!failing && !slow) continue
    const index = by.servers.findIndex((x) => x.label === s.server)
    // The same clients fare better at the other servers: the difference is the server's, not
    // theirs (captures of unrelated networks side by side have other clients).
    const mine = failing ? failedAt(f, by.of, index) : transactionsAt(f, by.of, index)
    const shared = sharedClientShare(f, by.of, index, mine)
    if (shared < MIN_SHARED_CLIENTS) continue
    const picked = failing ? mine : slowestAt(f, by.of, index, others.medianMs ?? 0)
    const confidence = failing
      ? round(
          Math.min(0.9, 0.6 + (others.failureRate === 0 ? 0.15 : 0) + (s.failed >= 20 ? 0.1 : 0)),
          2,
        )
      : s.medianMs! >= 10 * others.medianMs!
        ? 0.6
        : 0.5
    found.push({
      confidence,
      ...(failing && s.failureRate >= 0.3 ? { severity: 'critical' as const } : {}),
      data: {
        kind: failing ? 'failing' : 'slow',
        server: s.server,
        stats: { ...s },
        others,
        servers: stats,
        attributed: round(attributedShare(by), 3),
        sharedClients: round(shared, 3),
      },
      evidence: evidenceList(lazyEvents(txns, picked, (t) => lastAt(t, s))),
      mitigation: mitigationFor(s, ctx.vantages),
    })
  }
  return found
}

/** Response codes a client experiences as DNS failing. */
const FAILING_RCODES = new Set(['SERVFAIL', 'REFUSED'])

interface PodAnswers {
  server: string
  responses: number
  failed: number
  servfail: number
  refused: number
  failureRate: number
  /** The SERVFAIL and REFUSED series, whose samples are the evidence. */
  failing: Series[]
}

/**
 * Per CoreDNS pod (a vantage of coredns_dns_responses_total), its responses and those SERVFAIL or
 * REFUSED: the increase between the collector's two snapshots when every pod has two, else the
 * counters since each pod started.
 */
function fromMetrics(ctx: RuleContext): RuleFinding[] {
  // Pods the bundle says are the cluster DNS (collect's vantage per CoreDNS pod): metrics files
  // of unknown origin side by side may be any servers of any networks.
  const pod = new Set(ctx.vantages.filter((v) => v.type === 'dns-server').map((v) => v.id))
  const series = seriesOf(ctx.metrics, 'coredns_dns_responses_total')
  const byPod = new Map<string, Series[]>()
  for (const x of series) {
    if (!pod.has(x.first.vantage)) continue
    let list = byPod.get(x.first.vantage)
    if (!list) byPod.set(x.first.vantage, (list = []))
    list.push(x)
  }
  if (byPod.size < 2 || byPod.size > MAX_SERVERS) return []
  const twice = [...byPod.values()].every((l) => increaseSum(l) !== null)
  const sum = (l: Series[]) => (twice ? (increaseSum(l) ?? 0) : latestSum(l))
  const pods: PodAnswers[] = [...byPod].map(([server, list]) => {
    const failing = list.filter((x) => FAILING_RCODES.has(x.labels.rcode))
    const responses = sum(list)
    const failed = sum(failing)
    return {
      server,
      responses,
      failed,
      servfail: sum(failing.filter((x) => x.labels.rcode === 'SERVFAIL')),
      refused: sum(failing.filter((x) => x.labels.rcode === 'REFUSED')),
      failureRate: responses ? round(failed / responses, 4) : 0,
      failing,
    }
  })
  const counted = pods.filter((p) => p.responses >= MIN_TRANSACTIONS)
  if (counted.length < 2) return []
  const found: RuleFinding[] = []
  for (const p of counted) {
    const rest = counted.filter((x) => x !== p)
    const responses = rest.reduce((a, x) => a + x.responses, 0)
    const failed = rest.reduce((a, x) => a + x.failed, 0)
    const othersRate = responses ? failed / responses : 0
    if (p.failed < MIN_FAILURES || p.failureRate < MIN_RATE || p.failureRate < RATIO * othersRate)
      continue
    const stat: ServerStats = {
      server: p.server,
      address: ctx.vantages.find((v) => v.id === p.server)?.addresses[0] ?? null,
      transactions: p.responses,
      failed: p.failed,
      unanswered: 0,
      servfail: p.servfail,
      refused: p.refused,
      failureRate: p.failureRate,
      medianMs: null,
    }
    found.push({
      // Answers only: a query lost before the pod is in no counter, so this says less.
      confidence: othersRate === 0 ? 0.65 : 0.55,
      ...(p.failureRate >= 0.3 ? { severity: 'critical' as const } : {}),
      data: {
        kind: 'failing',
        source: twice ? 'metrics between two snapshots' : 'metrics since each pod started',
        server: p.server,
        stats: stat,
        others: { transactions: responses, failed, failureRate: round(othersRate, 4) },
        pods: counted.map((x) => ({
          server: x.server,
          responses: x.responses,
          failed: x.failed,
          failureRate: x.failureRate,
        })),
      },
      evidence: p.failing.flatMap((x) => (x.first === x.last ? [x.last] : [x.first, x.last])),
      mitigation: mitigationFor(stat, ctx.vantages),
    })
  }
  return found
}

/** The servers `rest` together. */
function combined(rest: ServerStats[], by: HandledBy, f: TxFacts) {
  const names = new Set(rest.map((s) => s.server))
  const ids = new Set(by.servers.flatMap((s, i) => (names.has(s.label) ? [i] : [])))
  const transactions = rest.reduce((a, s) => a + s.transactions, 0)
  const failed = rest.reduce((a, s) => a + s.failed, 0)
  return {
    transactions,
    failed,
    failureRate: transactions ? round(failed / transactions, 4) : 0,
    medianMs: medianLatencyMs(by.of, f, (x) => ids.has(x)),
  }
}

/** The failed transactions server `s` handled, in order. */
function failedAt(f: TxFacts, of: Int32Array, s: number): number[] {
  return f.failed.filter((t) => of[t] === s)
}

/** The transactions server `s` handled, in order. */
function transactionsAt(f: TxFacts, of: Int32Array, s: number): number[] {
  const out: number[] = []
  for (let t = 0; t < f.n; t++) if (of[t] === s) out.push(t)
  return out
}

/** The share of transactions `mine` (of server `s`) whose client another server answered. */
function sharedClientShare(f: TxFacts, of: Int32Array, s: number, mine: number[]): number {
  const answeredElsewhere = new Set<number>()
  for (let t = 0; t < f.n; t++)
    if (of[t] >= 0 && of[t] !== s && (f.flags[t] & HAS_RESPONSE) !== 0)
      answeredElsewhere.add(f.client[t])
  let n = 0
  for (const t of mine) if (answeredElsewhere.has(f.client[t])) n++
  return mine.length ? n / mine.length : 0
}

/** Server `s`'s answered transactions slower than `thanMs`, slowest first. */
function slowestAt(f: TxFacts, of: Int32Array, s: number, thanMs: number): number[] {
  const out: number[] = []
  for (let t = 0; t < f.n; t++)
    if (of[t] === s && (f.flags[t] & TIMED) !== 0 && f.latencyUs[t] / 1000 > thanMs) out.push(t)
  return out.sort((a, b) => f.latencyUs[b] - f.latencyUs[a])
}

/** The last record of transaction t at its server (its answer, or the last copy it got). */
function lastAt(t: Transaction, s: ServerStats) {
  let last = null
  for (const h of t.hops) {
    const e = h.event
    if (
      h.vantage === s.server ||
      (s.address !== null && (e.qr ? e.srcAddr : e.dstAddr) === s.address)
    )
      last = e
  }
  return last ?? t.response ?? t.queries[t.queries.length - 1]
}

function attributedShare(by: HandledBy): number {
  let n = 0
  for (let t = 0; t < by.of.length; t++) if (by.of[t] >= 0) n++
  return by.of.length ? n / by.of.length : 0
}

/** A Kubernetes name (DNS-1123): safe to put in a command. */
const K8S_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/

/**
 * The pod a server vantage names: its name (`coredns-…` as the collector writes it, or
 * `namespace/pod`), else its id without the collector's `dns/` prefix.
 */
function podOf(v: Vantage): { namespace: string; pod: string } | null {
  for (const candidate of [v.name, v.id.replace(/^dns\//, '')]) {
    const [a, b, more] = candidate.split('/')
    if (more === undefined && b !== undefined && K8S_NAME.test(a) && K8S_NAME.test(b))
      return { namespace: a, pod: b }
    if (b === undefined && K8S_NAME.test(a)) return { namespace: 'kube-system', pod: a }
  }
  return null
}

/** The default mitigation, with the pod's name when the vantage names one. */
function mitigationFor(s: ServerStats, vantages: readonly Vantage[]): string | undefined {
  const v = vantages.find((x) => x.id === s.server && x.type === 'dns-server')
  const named = v ? podOf(v) : null
  if (named) {
    const { namespace: ns, pod } = named
    return (
      `Look at pod ${pod} and its node: \`kubectl -n ${ns} logs ${pod}\`, ` +
      `\`kubectl -n ${ns} describe pod ${pod}\` (restarts, readiness), and on ` +
      `${v?.node && K8S_NAME.test(v.node) ? `node ${v.node}` : 'its node'} \`conntrack -S\` and the pod's CPU throttling. ` +
      `Replace it: \`kubectl -n ${ns} delete pod ${pod}\` (its Deployment starts another).`
    )
  }
  if (s.address && /^[0-9a-f.:]+$/i.test(s.address))
    return (
      `Find what serves ${s.address}: \`kubectl get pods -A -o wide --field-selector status.podIP=${s.address}\`; ` +
      `then look at that pod and its node (\`kubectl -n kube-system logs <pod>\`, \`conntrack -S\`), ` +
      `or, for a nameserver outside the cluster, ask from the node: \`dig @${s.address} kubernetes.io\`.`
    )
  return undefined
}
