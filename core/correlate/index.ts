// The correlator: normalized events in; transactions, lookups, forwarder hops and drop points out.
// Everything here is linear in the number of events apart from one sort by time.
import type { Manifest, Vantage } from '../model/bundle.js'
import type { DnsMessageEvent, DropEvent, FactEvent } from '../model/event.js'
import { DnsTable } from '../model/dns-table.js'
import type { Correlation, ForwarderTransaction, Transaction } from './types.js'
import { RANK_OF_TYPE, ROLE, findDnsServers, rolesOf, vantageRanker } from './roles.js'
import { pairQueries } from './pair-queries.js'
import { resolverConfig, type ResolverConfig } from './search-list.js'
import { groupLookups } from './group-lookups.js'
import { TransactionColumns } from './transaction-columns.js'
import { TxnView, type TxnStore } from './txn-store.js'
import { attachDrops } from './drop-points.js'

export interface CorrelateInput {
  /** The DNS messages: a DnsTable, or event objects (tests, small inputs). */
  dns: DnsTable | readonly DnsMessageEvent[]
  drops: DropEvent[]
  facts: FactEvent[]
  manifest?: Manifest
  vantages: Map<string, Vantage>
}

export interface CorrelationStats {
  clientQueries: number
  responses: number
  orphanResponses: number
  resolver: ResolverConfig
}

export function correlate(input: CorrelateInput): Correlation & { stats: CorrelationStats } {
  const dns = input.dns instanceof DnsTable ? input.dns : tableOf(input.dns)
  const dnsServers = findDnsServers(dns, input.vantages)
  for (const ip of input.manifest?.cluster?.dnsServiceIps ?? []) dnsServers.add(ip)
  for (const ip of input.manifest?.cluster?.dnsEndpoints ?? []) dnsServers.add(ip)
  const rank = vantageRanker(input.vantages, dns)

  const [clientRows, forwarderRows] = rowsByRole(dns, rolesOf(dns, dnsServers))
  const client = sortByArrival(dns, clientRows)
  const forwarder = sortByArrival(dns, forwarderRows)

  const paired = pairQueries(dns, client, { rank, byFirstSent: true })
  const store = paired.store
  const transactions = store.list()

  // The fields lookups are built from, for the search list and the grouping: the store's own.
  const columns = new TransactionColumns(transactions, store)
  const resolver = resolverConfig(input.facts, transactions, columns)
  const lookups = groupLookups(transactions, resolver, columns)
  attachDrops(store, input.drops)

  const fwd = pairQueries(dns, forwarder, { rank })
  const forwarderTxns: ForwarderTransaction[] = fwd.store.views().map((t) => ({
    server: t.client,
    upstream: t.server,
    id: t.id,
    qname: t.qname,
    qtype: t.qtype,
    query: t.queries[0],
    response: t.response,
    latencyUs: t.latencyUs,
  }))

  return {
    transactions,
    lookups,
    forwarder: forwarderTxns,
    dnsServers,
    natPairs: natPairs(store, input.manifest, input.vantages),
    stats: {
      clientQueries: paired.queries,
      responses: paired.responses,
      orphanResponses: paired.orphanResponses,
      resolver,
    },
  }
}

function tableOf(events: readonly DnsMessageEvent[]): DnsTable {
  const t = new DnsTable()
  for (const e of events) t.push(e)
  return t
}

/**
 * Sorts rows by the time they were sent, then by record number: a stable sort, skipped when the
 * rows are in order already (one capture, one dnstap file).
 */
/** The rows of clients' and of forwarders' messages; dnstap without wire bytes pairs on nothing. */
function rowsByRole(dns: DnsTable, roles: Uint8Array): [Int32Array, Int32Array] {
  // 0: client, 1: forwarder, 2: neither.
  const side = new Uint8Array(dns.length)
  let clients = 0
  let forwarders = 0
  for (let e = 0; e < dns.length; e++) {
    const r = roles[e]
    if (dns.id[e] < 0) side[e] = 2
    else if (r === ROLE['client-query'] || r === ROLE['client-response']) clients++
    else if (r === ROLE['forwarder-query'] || r === ROLE['forwarder-response']) {
      side[e] = 1
      forwarders++
    } else side[e] = 2
  }
  const c = new Int32Array(clients)
  const f = new Int32Array(forwarders)
  for (let e = 0, i = 0, j = 0; e < dns.length; e++)
    if (side[e] === 0) c[i++] = e
    else if (side[e] === 1) f[j++] = e
  return [c, f]
}

function sortByArrival(dns: DnsTable, rows: Int32Array): Int32Array {
  const keys = new Float64Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const t = dns.arrival(rows[i])
    keys[i] = Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t
  }
  const ref = dns.ref
  // A capture is in time order but for packets a few µs apart handed over by different CPUs:
  // insertion sort puts those back in a few moves each. Input far from order (files merged
  // without regard to time) gives up after a budget and takes the general stable sort. Both are
  // stable, so the order is the same either way.
  if (insertionSort(keys, rows, ref, 8 * rows.length + 1024)) return rows
  const order = Array.from({ length: rows.length }, (_, i) => i).sort(
    (a, b) => keys[a] - keys[b] || ref[rows[a]] - ref[rows[b]],
  )
  return Int32Array.from(order, (i) => rows[i])
}

/**
 * Sorts `rows` (and `keys` alongside) by key, then by record number, stably; stops once it has
 * moved more than `budget` elements and says whether it finished. Either way the arrays hold
 * the same pairs, equal ones still in their first order.
 */
function insertionSort(
  keys: Float64Array,
  rows: Int32Array,
  ref: Uint32Array,
  budget: number,
): boolean {
  let moves = 0
  for (let i = 1; i < rows.length; i++) {
    const k = keys[i]
    const row = rows[i]
    const r = ref[row]
    let j = i - 1
    while (j >= 0 && (keys[j] > k || (keys[j] === k && ref[rows[j]] > r))) {
      keys[j + 1] = keys[j]
      rows[j + 1] = rows[j]
      j--
      moves++
    }
    keys[j + 1] = k
    rows[j + 1] = row
    if (moves > budget) return false
  }
  return true
}

/** Service IP → endpoints: from the manifest, else from one query seen before and after DNAT. */
function natPairs(
  store: TxnStore,
  manifest: Manifest | undefined,
  vantages: ReadonlyMap<string, Vantage>,
): Map<string, string[]> {
  const pairs = new Map<string, Set<string>>()
  const add = (svc: string, ep: string) => {
    let s = pairs.get(svc)
    if (!s) pairs.set(svc, (s = new Set()))
    s.add(ep)
  }
  for (const svc of manifest?.cluster?.dnsServiceIps ?? [])
    for (const ep of manifest?.cluster?.dnsEndpoints ?? []) add(svc, ep)
  const rank = (v: string) => RANK_OF_TYPE[vantages.get(v)?.type ?? 'unknown']
  for (let i = 0; i < store.length; i++) {
    if (store.vantageCount(i) < 2) continue
    const t = new TxnView(store, i)
    const queries = t.queries
    let first: DnsMessageEvent | null = null
    for (const q of queries)
      if (q.source === 'capture' && (!first || rank(q.vantage) < rank(first.vantage))) first = q
    if (!first) continue
    for (const q of queries)
      if (q.dstAddr && q.vantage !== first.vantage && q.dstAddr !== first.dstAddr)
        add(first.dstAddr, q.dstAddr)
  }
  return new Map([...pairs].map(([k, v]) => [k, [...v]]))
}

export type { Transaction }
