// Who sent a DNS message: a client asking its resolver, or a DNS server asking its upstream.
// dnstap says it outright; for a capture we learn which addresses answer DNS and call their own
// queries forwarder queries (a CoreDNS pod forwarding an external name upstream).
import type { Vantage, VantageType } from '../model/bundle.js'
import { type DnsTable, SOURCE } from '../model/dns-table.js'

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
export function findDnsServers(dns: DnsTable, vantages: ReadonlyMap<string, Vantage>): Set<string> {
  const servers = new Set<string>()
  for (const v of vantages.values())
    if (v.type === 'dns-server') for (const a of v.addresses) servers.add(a)
  const text = dns.strings.text
  // Per string number: 1 once known as a server (so each address is added once), and for
  // vantage numbers 2 = an upstream vantage, 3 = not.
  const mark = new Uint8Array(dns.strings.size)
  const upstreamVantage = (v: number): boolean => {
    if (mark[v] === 0) mark[v] = vantages.get(text[v])?.type === 'upstream' ? 2 : 3
    return mark[v] === 2
  }
  const known = new Uint8Array(dns.strings.size)
  for (let i = 0; i < dns.length; i++) {
    const src = dns.srcAddr[i]
    if (dns.source[i] === SOURCE.log || src === 0 || known[src]) continue
    const tap = dns.dnstapType(i)
    const role = tap ? DNSTAP_ROLE[text[tap]] : undefined
    const server = dns.qr[i]
      ? role !== 'forwarder-response'
      : role === 'forwarder-query' ||
        (dns.source[i] === SOURCE.capture && upstreamVantage(dns.vantage[i]))
    if (server) {
      known[src] = 1
      servers.add(text[src])
    }
  }
  return servers
}

/** The role of each row of `dns`, as ROLE codes. */
export function rolesOf(dns: DnsTable, dnsServers: ReadonlySet<string>): Uint8Array {
  const text = dns.strings.text
  const server = new Uint8Array(dns.strings.size)
  for (let s = 0; s < text.length; s++) if (dnsServers.has(text[s])) server[s] = 1
  const tapRole = new Map<number, number>()
  const roles = new Uint8Array(dns.length)
  for (let i = 0; i < dns.length; i++) {
    const source = dns.source[i]
    if (source === SOURCE.dnstap) {
      const tap = dns.dnstapType(i)
      let r = tapRole.get(tap)
      if (r === undefined) tapRole.set(tap, (r = ROLE[(tap && DNSTAP_ROLE[text[tap]]) || 'other']))
      roles[i] = r
    } else if (source === SOURCE.log) roles[i] = ROLE['client-response']
    else {
      const src = dns.srcAddr[i]
      const dst = dns.dstAddr[i]
      if (!dns.qr[i])
        roles[i] = server[src] && src !== dst ? ROLE['forwarder-query'] : ROLE['client-query']
      else
        roles[i] = server[dst] && src !== dst ? ROLE['forwarder-response'] : ROLE['client-response']
    }
  }
  return roles
}

export const ROLE: Record<Role, number> = {
  'client-query': 0,
  'client-response': 1,
  'forwarder-query': 2,
  'forwarder-response': 3,
  other: 4,
}

/** How far from the client a vantage sits: the pod first, the upstream last. */
export const RANK_OF_TYPE: Record<VantageType, number> = {
  pod: 0,
  unknown: 1,
  node: 2,
  'dns-server': 3,
  upstream: 4,
}

/** Rank of the vantage of each row of `dns`: lower is closer to the client. */
export function vantageRanker(
  vantages: ReadonlyMap<string, Vantage>,
  dns: DnsTable,
): (row: number) => number {
  const text = dns.strings.text
  // Per (vantage string number, source): the rank, or -1 until first asked.
  const cache = new Int8Array(text.length * 3).fill(-1)
  return (row) => {
    const source = dns.source[row]
    const k = dns.vantage[row] * 3 + source
    let r = cache[k]
    if (r < 0) {
      const v = vantages.get(text[dns.vantage[row]])
      // dnstap and log lines are written by the DNS server itself, whatever the vantage says.
      r = cache[k] =
        source !== SOURCE.capture && (!v || v.type === 'unknown')
          ? RANK_OF_TYPE['dns-server']
          : RANK_OF_TYPE[v?.type ?? 'unknown']
    }
    return r
  }
}
