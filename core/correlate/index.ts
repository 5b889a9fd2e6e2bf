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

  const roles = rolesOf(dns, dnsServers)
  const client: number[] = []
  const forwarder: number[] = []
  for (let e = 0; e < dns.length; e++) {
    if (dns.id[e] < 0) continue // dnstap without wire bytes: nothing to pair on
    const role = roles[e]
    if (role === ROLE['client-query'] || role === ROLE['client-response']) client.push(e)
    else if (role === ROLE['forwarder-query'] || role === ROLE['forwarder-response'])
      forwarder.push(e)
  }
  sortByArrival(dns, client)
  sortByArrival(dns, forwarder)

  const paired = pairQueries(dns, client, { rank })
  const firstSent = paired.store.firstSent
  const transactions: Transaction[] = paired.store
    .views()
    .sort((a, b) => firstSent[a.index] - firstSent[b.index])

  const resolver = resolverConfig(input.facts, transactions)
  const lookups = groupLookups(transactions, resolver)
  attachDrops(transactions, input.drops)

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
    natPairs: natPairs(transactions, input.manifest, input.vantages),
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
function sortByArrival(dns: DnsTable, rows: number[]): void {
  const key = (e: number) => {
    const t = dns.arrival(e)
    return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t
  }
  let sorted = true
  for (let i = 1; i < rows.length && sorted; i++) {
    const a = rows[i - 1]
    const b = rows[i]
    if ((key(a) - key(b) || dns.ref[a] - dns.ref[b]) > 0) sorted = false
  }
  if (!sorted) rows.sort((a, b) => key(a) - key(b) || dns.ref[a] - dns.ref[b])
}

/** Service IP → endpoints: from the manifest, else from one query seen before and after DNAT. */
function natPairs(
  txns: readonly Transaction[],
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
  for (const t of txns) {
    if ((t.vantageCount ?? 2) < 2) continue
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
