// The correlator: normalized events in; transactions, lookups, forwarder hops and drop points out.
// Everything here is linear in the number of events apart from one sort by time.
import type { Manifest, Vantage } from '../model/bundle.js'
import type { DnsMessageEvent, DropEvent, FactEvent } from '../model/event.js'
import type { Correlation, ForwarderTransaction, Transaction } from './types.js'
import { findDnsServers, roleOf, vantageRanker } from './roles.js'
import { pairQueries } from './pair-queries.js'
import { resolverConfig, type ResolverConfig } from './search-list.js'
import { groupLookups } from './group-lookups.js'
import { attachDrops } from './drop-points.js'

export interface CorrelateInput {
  dns: DnsMessageEvent[]
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
  const dnsServers = findDnsServers(input.dns, input.vantages)
  for (const ip of input.manifest?.cluster?.dnsServiceIps ?? []) dnsServers.add(ip)
  for (const ip of input.manifest?.cluster?.dnsEndpoints ?? []) dnsServers.add(ip)
  const rank = vantageRanker(input.vantages)

  const client: DnsMessageEvent[] = []
  const forwarder: DnsMessageEvent[] = []
  for (const e of input.dns) {
    if (e.id < 0) continue // dnstap without wire bytes: nothing to pair on
    const role = roleOf(e, dnsServers)
    if (role === 'client-query' || role === 'client-response') client.push(e)
    else if (role === 'forwarder-query' || role === 'forwarder-response') forwarder.push(e)
  }
  const byTime = (a: DnsMessageEvent, b: DnsMessageEvent) =>
    arrival(a) - arrival(b) || a.ref - b.ref
  client.sort(byTime)
  forwarder.sort(byTime)

  const paired = pairQueries(client, { rank })
  const transactions = paired.transactions
  transactions.sort((a, b) => a.firstSent - b.firstSent)

  const resolver = resolverConfig(input.facts, transactions)
  const lookups = groupLookups(transactions, resolver)
  attachDrops(transactions, input.drops)

  const fwd = pairQueries(forwarder, { rank })
  const forwarderTxns: ForwarderTransaction[] = fwd.transactions.map((t) => ({
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
    natPairs: natPairs(transactions, input.manifest, rank),
    stats: {
      clientQueries: paired.queries,
      responses: paired.responses,
      orphanResponses: paired.orphanResponses.length,
      resolver,
    },
  }
}

/** Time a message was sent; a log line's query arrived `duration` before the line was written. */
function arrival(e: DnsMessageEvent): number {
  const t =
    e.source === 'log' && e.durationUs !== undefined ? e.time - Math.round(e.durationUs) : e.time
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t
}

/** Service IP → endpoints: from the manifest, else from one query seen before and after DNAT. */
function natPairs(
  txns: readonly Transaction[],
  manifest: Manifest | undefined,
  rank: (v: string, e: DnsMessageEvent) => number,
): Map<string, string[]> {
  const pairs = new Map<string, Set<string>>()
  const add = (svc: string, ep: string) => {
    let s = pairs.get(svc)
    if (!s) pairs.set(svc, (s = new Set()))
    s.add(ep)
  }
  for (const svc of manifest?.cluster?.dnsServiceIps ?? [])
    for (const ep of manifest?.cluster?.dnsEndpoints ?? []) add(svc, ep)
  for (const t of txns) {
    if ((t.vantageCount ?? 2) < 2) continue
    let first: DnsMessageEvent | null = null
    for (const q of t.queries)
      if (q.source === 'capture' && (!first || rank(q.vantage, q) < rank(first.vantage, first)))
        first = q
    if (!first) continue
    for (const q of t.queries)
      if (q.dstAddr && q.vantage !== first.vantage && q.dstAddr !== first.dstAddr)
        add(first.dstAddr, q.dstAddr)
  }
  return new Map([...pairs].map(([k, v]) => [k, [...v]]))
}

export type { Transaction }
