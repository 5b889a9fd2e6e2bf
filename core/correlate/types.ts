// What the correlator produces from normalized events: transactions, lookups and the forwarder hop.
import type { DnsMessageEvent, DropEvent } from '../model/event.js'

/** One event observed at one vantage, in a transaction's path. */
export interface TransactionHop {
  vantage: string
  time: number
  what: string
  event: DnsMessageEvent
}

/**
 * One client query (client address, DNS id, qname, qtype) with its retransmits and its response,
 * joined across every vantage point that saw it.
 */
export interface Transaction {
  client: string
  clientPort: number
  server: string
  serverPort: number
  transport: string
  id: number
  /** Lower-case qname with trailing dot. */
  qname: string
  qtype: number
  /** Every query copy seen, at every vantage (a CoreDNS log line counts as one). */
  queries: DnsMessageEvent[]
  /** Sends of this query (first + retransmits): the most copies any one vantage saw. */
  copies: number
  /** How many vantages saw it (a cheap test before walking `hops`); absent means unknown. */
  vantageCount?: number
  /** The response delivered to the client, if any (an object built on each read: read it once). */
  response: DnsMessageEvent | null
  /** A response was delivered (`response !== null`, without building it). */
  answered: boolean
  /** The delivered response's rcode (-1: the log says none was sent), or null when unanswered. */
  rcode: number | null
  /** The delivered response's answerAddrs; -1 when unanswered or not decoded. */
  answerAddrs: number
  /** When the delivered response was seen (µs), NaN when unanswered. */
  responseTime: number
  /** Time of the first send (µs since epoch). */
  firstSent: number
  /** Time of the last thing seen of it (µs since epoch). */
  lastTime: number
  /** Latency in µs from the first send to the response, or null. */
  latencyUs: number | null
  hops: TransactionHop[]
  /** Vantage id of the last place the query was seen. */
  lastSeen: string
  /** Kernel drop record matched to the lost query, if any. */
  drop: DropEvent | null
  /** Index of the lookup that owns this transaction, or -1. */
  lookup: number
}

export type LookupOutcome = 'address' | 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'other'

/** One application lookup: a resolver call that became several wire queries. */
export interface Lookup {
  client: string
  /** The name the application asked for (before search-list expansion), best guess. */
  name: string
  transactions: number[]
  outcome: LookupOutcome
  /** Search-expansion transactions wasted (lookups that got an address only). */
  wasted: number
  start: number
  end: number
  /** The candidate name that answered. */
  answeredName: string | null
}

/** A query from a DNS server to its upstream. */
export interface ForwarderTransaction {
  server: string
  upstream: string
  id: number
  qname: string
  qtype: number
  query: DnsMessageEvent
  response: DnsMessageEvent | null
  latencyUs: number | null
}

export interface Correlation {
  transactions: Transaction[]
  lookups: Lookup[]
  forwarder: ForwarderTransaction[]
  /** Addresses recognised as DNS servers (answered queries), used to tell forwarding apart. */
  dnsServers: Set<string>
  /** Service IP -> endpoint addresses, from the manifest or inferred from the data. */
  natPairs: Map<string, string[]>
}
