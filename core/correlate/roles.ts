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

/** What one pass over a DnsTable finds: the DNS servers, and the rows each side pairs. */
export interface Roles {
  /** Addresses of DNS servers, in the order found: vantages, rows, then the manifest's. */
  dnsServers: Set<string>
  /** Rows of clients' messages, in table order. */
  client: Int32Array
  /**
   * Where `client` is out of order by time then record number: the rows before `from` and
   * from `to` on are in order, and each of the latter is in order after all rows before it.
   */
  unsorted: { from: number; to: number }
  /** Whether `client` holds CoreDNS log rows, whose query was sent before their time. */
  logRows: boolean
  /** Rows of forwarders' messages, in table order. */
  forwarder: Int32Array
}

/**
 * Finds the DNS servers and sorts the rows of `dns` by role, in one pass that also sees how far
 * the client rows are in time order. This runs once per analysis over every row, much of it
 * before the optimizer has the loop, so every pass saved counts: columns are read once, into
 * locals, and the loop calls nothing on the common path.
 *
 * DNS servers: the addresses that sent responses (Service IPs included), those a dnstap file
 * shows forwarding or resolving from, the addresses of `dns-server` vantages, the senders of
 * queries that arrive at an `upstream` vantage, and `manifestServers`. A resolver often talks to
 * its upstream from another address than the one it answers pods on.
 *
 * Roles: a capture row is a forwarder's when it is a query from a DNS server or a response to
 * one (unless the server talks to itself), a log line is a client response, and dnstap says the
 * role itself. dnstap or log rows without a DNS id pair on nothing.
 */
export function rowsByRole(
  dns: DnsTable,
  vantages: ReadonlyMap<string, Vantage>,
  manifestServers: readonly string[],
): Roles {
  const text = dns.strings.text
  const dnsServers = new Set<string>()
  for (const v of vantages.values())
    if (v.type === 'dns-server') for (const a of v.addresses) dnsServers.add(a)
  // Per string number: 1 for a server's address. Those given before any row is read are looked
  // up in the pool (it can hold a million names) only when there are some.
  const server = new Uint8Array(text.length)
  const given = new Set([...dnsServers, ...manifestServers])
  if (given.size > 0) for (let s = 0; s < text.length; s++) if (given.has(text[s])) server[s] = 1
  const scan = new RoleScan(dns, vantages, server)
  let found = scan.run(dnsServers)
  // A row taken for a client's before the address that makes it a forwarder's was found to be
  // a server's (a resolver forwarding before it first answers): sort again, servers known.
  if (found.stale) found = scan.run(null)
  for (const a of manifestServers) dnsServers.add(a)
  const { rows } = scan
  const { clients, forwarders } = found
  const forwarder = new Int32Array(forwarders)
  for (let i = 0; i < forwarders; i++) forwarder[i] = rows[rows.length - 1 - i]
  return {
    dnsServers,
    // The client list keeps the buffer: pairing reads it once and lets it go.
    client: rows.subarray(0, clients),
    unsorted: found.unsorted,
    logRows: found.logRows,
    forwarder,
  }
}

// Where a role pairs: with clients, with forwarders, or nowhere (a dnstap type of neither).
const CLIENT = 1
const FORWARDER = 2
const NEITHER = 3
const SIDE_OF_ROLE: Record<Role, number> = {
  'client-query': CLIENT,
  'client-response': CLIENT,
  'forwarder-query': FORWARDER,
  'forwarder-response': FORWARDER,
  other: NEITHER,
}

/** The pass of rowsByRole, and what it leaves. */
class RoleScan {
  /** Client rows from the front, forwarder rows from the back (in reverse). */
  readonly rows: Int32Array
  /** Per string number: 1 once found a server's address from a row (each added once). */
  private readonly found: Uint8Array
  /** Per string number: 1 once a capture row was taken for a client's on this address. */
  private readonly asked: Uint8Array
  /** Per vantage string number: 1 = an upstream vantage, 2 = not, 0 = not looked up yet. */
  private readonly upstream: Uint8Array
  /** Per dnstap type (a string number): its side, 0 until first seen. */
  private readonly tapSide: Uint8Array
  private readonly anyUpstream: boolean

  constructor(
    private readonly dns: DnsTable,
    private readonly vantages: ReadonlyMap<string, Vantage>,
    private readonly server: Uint8Array,
  ) {
    const size = dns.strings.size
    this.rows = new Int32Array(dns.length)
    this.found = new Uint8Array(size)
    this.asked = new Uint8Array(size)
    this.upstream = new Uint8Array(size)
    this.tapSide = new Uint8Array(size)
    // Most bundles have no upstream vantage: then no row needs its vantage read.
    this.anyUpstream = [...vantages.values()].some((v) => v.type === 'upstream')
  }

  /** One pass; adds the servers found to `dnsServers`, or with null, looks for none (a rerun). */
  run(dnsServers: Set<string> | null): {
    clients: number
    forwarders: number
    unsorted: { from: number; to: number }
    logRows: boolean
    /** Whether a row was taken for a client's on an address later found to be a server's. */
    stale: boolean
  } {
    const { dns, server, found, asked, tapSide, rows, anyUpstream } = this
    const { id, source, qr, srcAddr, dstAddr, vantage, time, ref } = dns
    const text = dns.strings.text
    const n = dns.length
    const discover = dnsServers !== null
    let c = 0
    let f = n
    let logRows = false
    let stale = false
    // Client rows are in time order but for packets a few µs apart (handed over by different
    // CPUs), log rows, or files merged without regard to time: note the first and the last row
    // out of order, for the sort to do no more than between them.
    let ordered = true
    let firstOut = 0
    let lastOut = 0
    // The latest client row so far. Row 0 stands in before the first: a client row earlier
    // than it only counts as out of order. (A row number, not its time: a double carried from
    // one turn of the loop to the next can be kept boxed, one allocation per row.)
    let latest = 0
    for (let e = 0; e < n; e++) {
      const s = source[e]
      const src = srcAddr[e]
      let side = CLIENT
      if (s === SOURCE.capture) {
        const dst = dstAddr[e]
        const q = qr[e]
        // A capture has no dnstap type: responses come from servers, and so do queries that
        // arrive at an upstream.
        if (
          discover &&
          found[src] === 0 &&
          src !== 0 &&
          (q === 1 || (anyUpstream && this.isUpstream(vantage[e])))
        ) {
          found[src] = server[src] = 1
          dnsServers.add(text[src])
          if (asked[src] === 1) stale = true
        }
        // A capture row always has its id, from the header.
        if (src !== dst) {
          const x = q === 1 ? dst : src
          if (server[x] === 1) side = FORWARDER
          else asked[x] = 1
        }
      } else if (s === SOURCE.log) {
        if (id[e] < 0) continue
        logRows = true
      } else {
        const tap = dns.dnstapType(e)
        if (discover && found[src] === 0 && src !== 0) {
          const role = tap ? DNSTAP_ROLE[text[tap]] : undefined
          if (qr[e] ? role !== 'forwarder-response' : role === 'forwarder-query') {
            found[src] = server[src] = 1
            dnsServers.add(text[src])
            if (asked[src] === 1) stale = true
          }
        }
        if (id[e] < 0) continue
        side = tapSide[tap] ||= SIDE_OF_ROLE[(tap && DNSTAP_ROLE[text[tap]]) || 'other']
      }
      if (side === FORWARDER) rows[--f] = e
      else if (side === CLIENT) {
        // Each comparison is made for every row, and the branch taken once out of order only
        // sets locals: the loop must not meet code it has not run before the optimizer took
        // it over (such code has no type feedback, and throws the optimized code away).
        const t = time[e]
        const lt = time[latest]
        const later = t > lt
        const tie = t === lt
        const refUp = ref[e] >= ref[latest]
        if ((later || (tie && refUp)) && s !== SOURCE.log) latest = e
        else {
          if (ordered) firstOut = c
          ordered = false
          lastOut = c
        }
        rows[c++] = e
      }
    }
    // A log row's query was sent before its time: from the first one out of order on, all of
    // them need sorting.
    const unsorted = ordered
      ? { from: c, to: c }
      : { from: firstOut, to: logRows ? c : lastOut + 1 }
    return { clients: c, forwarders: n - f, unsorted, logRows, stale }
  }

  private isUpstream(v: number): boolean {
    if (this.upstream[v] === 0)
      this.upstream[v] = this.vantages.get(this.dns.strings.text[v])?.type === 'upstream' ? 1 : 2
    return this.upstream[v] === 1
  }
}

/** How far from the client a vantage sits: the pod first, the upstream last. */
export const RANK_OF_TYPE: Record<VantageType, number> = {
  pod: 0,
  unknown: 1,
  node: 2,
  'dns-server': 3,
  upstream: 4,
}

/**
 * The rank of a record of `source` (a SOURCE number) made at a vantage of `type` (undefined: one
 * the bundle does not describe). dnstap and log lines are written by the DNS server itself,
 * whatever the vantage says.
 */
export function rankOf(type: VantageType | undefined, source: number): number {
  return source !== SOURCE.capture && (type === undefined || type === 'unknown')
    ? RANK_OF_TYPE['dns-server']
    : RANK_OF_TYPE[type ?? 'unknown']
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
    if (r < 0) r = cache[k] = rankOf(vantages.get(text[dns.vantage[row]])?.type, source)
    return r
  }
}
