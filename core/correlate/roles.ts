// Who sent a DNS message: a client asking its resolver, or a DNS server asking its upstream.
// dnstap says it outright; for a capture we learn which addresses answer DNS and call their own
// queries forwarder queries (a CoreDNS pod forwarding an external name upstream).
import type { Vantage, VantageType } from '../model/bundle.js'
import type { DnsMessageEvent } from '../model/event.js'

export type Role =
  'client-query' | 'client-response' | 'forwarder-query' | 'forwarder-response' | 'other'

const DNSTAP_ROLE: Record<string, Role> = {
  CLIENT_QUERY: 'client-query',
  CLIENT_RESPONSE: 'client-response',
  AUTH_QUERY: 'client-query',
  AUTH_RESPONSE: 'client-response',
  STUB_QUERY: 'client-query',
  STUB_RESPONSE: 'client-response',
  TOOL_QUERY: 'client-query',
  TOOL_RESPONSE: 'client-response',
  FORWARDER_QUERY: 'forwarder-query',
  FORWARDER_RESPONSE: 'forwarder-response',
  RESOLVER_QUERY: 'forwarder-query',
  RESOLVER_RESPONSE: 'forwarder-response',
}

/**
 * Addresses of DNS servers: those that sent responses (Service IPs included), those a dnstap
 * file shows forwarding or resolving from, the addresses of `dns-server` vantages, and the
 * senders of queries that arrive at an `upstream` vantage. A resolver often talks to its
 * upstream from another address than the one it answers pods on.
 */
export function findDnsServers(
  dns: readonly DnsMessageEvent[],
  vantages: ReadonlyMap<string, Vantage>,
): Set<string> {
  const servers = new Set<string>()
  for (const v of vantages.values())
    if (v.type === 'dns-server') for (const a of v.addresses) servers.add(a)
  for (const e of dns) {
    if (e.source === 'log' || !e.srcAddr) continue
    const role = e.dnstapType ? DNSTAP_ROLE[e.dnstapType] : undefined
    if (e.qr) {
      if (role !== 'forwarder-response') servers.add(e.srcAddr)
    } else if (
      role === 'forwarder-query' ||
      (e.source === 'capture' && vantages.get(e.vantage)?.type === 'upstream')
    ) {
      servers.add(e.srcAddr)
    }
  }
  return servers
}

export function roleOf(e: DnsMessageEvent, dnsServers: ReadonlySet<string>): Role {
  if (e.source === 'dnstap') return (e.dnstapType && DNSTAP_ROLE[e.dnstapType]) || 'other'
  if (e.source === 'log') return 'client-response'
  if (!e.qr)
    return dnsServers.has(e.srcAddr) && e.srcAddr !== e.dstAddr ? 'forwarder-query' : 'client-query'
  return dnsServers.has(e.dstAddr) && e.srcAddr !== e.dstAddr
    ? 'forwarder-response'
    : 'client-response'
}

/** How far from the client a vantage sits: the pod first, the upstream last. */
const RANK: Record<VantageType, number> = {
  pod: 0,
  unknown: 1,
  node: 2,
  'dns-server': 3,
  upstream: 4,
}

export function vantageRanker(
  vantages: ReadonlyMap<string, Vantage>,
): (id: string, e?: DnsMessageEvent) => number {
  return (id, e) => {
    const v = vantages.get(id)
    // dnstap and log lines are written by the DNS server itself, whatever the vantage says.
    if (e && e.source !== 'capture' && (!v || v.type === 'unknown')) return RANK['dns-server']
    return RANK[v?.type ?? 'unknown']
  }
}
