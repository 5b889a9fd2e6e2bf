// The DNS servers of a bundle side by side: per server (a CoreDNS replica, or one of a pod's
// nameservers), the transactions it handled, how many failed, its median latency. The report's
// summary lists them and replica-unhealthy compares them; computed once per analysis.
import type { Manifest, Vantage } from '../model/bundle.js'
import type { ServerStats } from '../model/report.js'
import type { Correlation } from '../correlate/types.js'
import { handledBy, type HandledBy } from '../correlate/handled-by.js'
import { HAS_RESPONSE, median, round, TIMED, txFacts, type TxFacts } from './transaction-views.js'

export type { ServerStats }

export interface ServerTable {
  by: HandledBy
  stats: ServerStats[]
}

/** What the table is made from: a rule context has all of it. */
export interface ServerTableInput {
  correlation: Pick<Correlation, 'transactions' | 'dnsServers' | 'natPairs'>
  vantages: readonly Vantage[]
  inputs: readonly { kind: string }[]
  manifest?: Manifest
}

const cache = new WeakMap<object, ServerTable | null>()

/**
 * The servers and their stats, or null when at most one server is in sight (one capture of one
 * resolver, the common case, costs no pass over the transactions).
 */
export function serverTable(i: ServerTableInput): ServerTable | null {
  const txns = i.correlation.transactions
  if (cache.has(txns)) return cache.get(txns)!
  let table: ServerTable | null = null
  if (severalServers(i)) {
    const by = handledBy(txns, i.vantages, serviceIps(i))
    const stats = serverStats(by, txFacts(txns))
    if (stats.filter((s) => s.transactions > 0).length > 1) table = { by, stats }
  }
  cache.set(txns, table)
  return table
}

/** Addresses that stand for the Service, not a server. */
function serviceIps(i: ServerTableInput): Set<string> {
  return new Set([...(i.manifest?.cluster?.dnsServiceIps ?? []), ...i.correlation.natPairs.keys()])
}

/** Importers whose records are the DNS server's own (its vantage, never an address, says which). */
const SERVER_SIDE = new Set(['dnstap', 'coredns-log'])
const CAPTURES = new Set(['pcap', 'pcapng'])

/** Two servers or more might be in the bundle: DNS servers seen answering, or server vantages. */
function severalServers(i: ServerTableInput): boolean {
  const serverSide = i.inputs.filter((x) => SERVER_SIDE.has(x.kind)).length
  // Only the server's own records (one dnstap file, the benchmark's): one server per file at most.
  if (serverSide > 0 && !i.inputs.some((x) => CAPTURES.has(x.kind))) return serverSide > 1
  const svc = serviceIps(i)
  let n = 0
  for (const a of i.correlation.dnsServers) if (!svc.has(a) && ++n > 1) return true
  for (const v of i.vantages) if (v.type === 'dns-server' && ++n > 1) return true
  return serverSide > 1
}

/** Per server, what its transactions came to. */
function serverStats(by: HandledBy, f: TxFacts): ServerStats[] {
  const k = by.servers.length
  const n = new Int32Array(k)
  const failed = new Int32Array(k)
  const unanswered = new Int32Array(k)
  const servfail = new Int32Array(k)
  const refused = new Int32Array(k)
  for (let t = 0; t < f.n; t++) if (by.of[t] >= 0) n[by.of[t]]++
  for (const t of f.failed) {
    const s = by.of[t]
    if (s < 0) continue
    failed[s]++
    if ((f.flags[t] & HAS_RESPONSE) === 0) unanswered[s]++
    else if (f.rcode[t] === 2) servfail[s]++
    else if (f.rcode[t] === 5) refused[s]++
  }
  // Latencies grouped by server in one pass: a hostile capture can hold thousands of servers.
  const latencies: number[][] = by.servers.map(() => [])
  for (let t = 0; t < f.n; t++)
    if (by.of[t] >= 0 && (f.flags[t] & TIMED) !== 0 && !Number.isNaN(f.latencyUs[t]))
      latencies[by.of[t]].push(f.latencyUs[t])
  return by.servers.map((srv, s) => {
    const m = median(latencies[s])
    return {
      server: srv.label,
      address: srv.address,
      transactions: n[s],
      failed: failed[s],
      unanswered: unanswered[s],
      servfail: servfail[s],
      refused: refused[s],
      failureRate: n[s] ? round(failed[s] / n[s], 4) : 0,
      medianMs: Number.isNaN(m) ? null : round(m / 1000, 3),
    }
  })
}

/** Median latency (ms) of the answered transactions of the servers `mine` accepts. */
export function medianLatencyMs(
  of: Int32Array,
  f: TxFacts,
  mine: (s: number) => boolean,
): number | null {
  const xs: number[] = []
  for (let t = 0; t < f.n; t++)
    if (of[t] >= 0 && (f.flags[t] & TIMED) !== 0 && mine(of[t])) xs.push(f.latencyUs[t])
  const m = median(xs.filter((x) => !Number.isNaN(x)))
  return Number.isNaN(m) ? null : round(m / 1000, 3)
}
