// Which DNS server handled each transaction: a replica of the cluster DNS (a CoreDNS pod) or a
// server address, as the evidence shows it. A pod asks the Service IP and kube-proxy picks an
// endpoint: the node's capture after DNAT shows the endpoint's address, the replica's own log or
// dnstap shows its vantage. A pod's capture alone (the Service IP only) does not say.
import type { Vantage } from '../model/bundle.js'
import { SOURCE } from '../model/dns-table.js'
import { RANK_OF_TYPE, rankOf } from './roles.js'
import { TxnStore } from './txn-store.js'
import type { Transaction } from './types.js'

export interface DnsServer {
  /** The id of the server's own vantage (its log, dnstap or capture), else its address. */
  label: string
  /** Its address, when a capture or its vantage gives one. */
  address: string | null
}

export interface HandledBy {
  servers: DnsServer[]
  /** Per transaction: its server's index in `servers`, or -1 when no record says. */
  of: Int32Array
}

// How telling a record is, the most telling last: the server's own record of its answer wins,
// a query's destination address (which a reply may yet contradict) counts least.
const QUERY_ADDRESS = 1
const ANSWER_ADDRESS = 2
const SERVER_QUERY = 3
const SERVER_ANSWER = 4

/**
 * The server of every transaction. `serviceIps` are addresses that stand for the Service, not a
 * server (the manifest's dnsServiceIps, the correlator's NAT pairs).
 */
export function handledBy(
  transactions: readonly Transaction[],
  vantages: readonly Vantage[],
  serviceIps: ReadonlySet<string>,
): HandledBy {
  const servers = new Servers(vantages, serviceIps)
  const store = TxnStore.of(transactions)
  const of = store ? ofStore(store, servers) : ofObjects(transactions, servers)
  return { servers: servers.list, of }
}

/** The servers found so far, numbered in order of first sight. */
class Servers {
  readonly list: DnsServer[] = []
  private readonly byLabel = new Map<string, number>()
  /** A server vantage's id by each of its addresses, and its first address by its id. */
  private readonly vantageOfAddress = new Map<string, string>()
  private readonly addressOfVantage = new Map<string, string>()
  private readonly types = new Map<string, Vantage['type']>()

  constructor(
    vantages: readonly Vantage[],
    readonly serviceIps: ReadonlySet<string>,
  ) {
    for (const v of vantages) {
      this.types.set(v.id, v.type)
      if (v.type !== 'dns-server' || v.addresses.length === 0) continue
      for (const a of v.addresses) this.vantageOfAddress.set(a, v.id)
      this.addressOfVantage.set(v.id, v.addresses[0])
    }
  }

  /** Is a record of this source (a SOURCE number) at this vantage the DNS server's own? */
  isServer(vantage: string, source: number): boolean {
    return rankOf(this.types.get(vantage), source) === RANK_OF_TYPE['dns-server']
  }

  /** The server a vantage records. */
  ofVantage(vantage: string): number {
    return this.number(vantage, this.addressOfVantage.get(vantage) ?? null)
  }

  /** The server at an address, or -1 for a Service IP or no address. */
  ofAddress(address: string): number {
    if (address === '' || this.serviceIps.has(address)) return -1
    const vantage = this.vantageOfAddress.get(address)
    return this.number(vantage ?? address, address)
  }

  private number(label: string, address: string | null): number {
    let n = this.byLabel.get(label)
    if (n === undefined) {
      n = this.list.length
      this.byLabel.set(label, n)
      this.list.push({ label, address })
    } else if (address !== null && this.list[n].address === null) this.list[n].address = address
    return n
  }
}

/** The store's columns: a transaction seen at one vantage is read from its first query and answer. */
function ofStore(store: TxnStore, servers: Servers): Int32Array {
  const d = store.dns
  const text = d.strings.text
  const { head, next, response } = store
  const { vantage, source, qr, srcAddr, dstAddr } = d
  // Per string number, computed once: a vantage's server (SERVER_... records) for each source,
  // an address's server; -2 until asked.
  const vantageServer = new Int32Array(text.length * 3).fill(-2)
  const addressServer = new Int32Array(text.length).fill(-2)
  const of = new Int32Array(store.length).fill(-1)
  let best = -1
  let bestScore = 0
  const consider = (row: number): void => {
    const k = vantage[row] * 3 + source[row]
    let s = vantageServer[k]
    if (s === -2) {
      const v = text[vantage[row]]
      s = vantageServer[k] = servers.isServer(v, source[row]) ? servers.ofVantage(v) : -1
    }
    let score: number
    if (s >= 0) score = qr[row] === 1 || source[row] === SOURCE.log ? SERVER_ANSWER : SERVER_QUERY
    else {
      const a = qr[row] === 1 ? srcAddr[row] : dstAddr[row]
      s = addressServer[a]
      if (s === -2) s = addressServer[a] = servers.ofAddress(text[a])
      if (s < 0) return
      score = qr[row] === 1 ? ANSWER_ADDRESS : QUERY_ADDRESS
    }
    if (score >= bestScore) {
      best = s
      bestScore = score
    }
  }
  for (let t = 0; t < store.length; t++) {
    best = -1
    bestScore = 0
    if (store.seenAtSeveral(t)) for (let q = head[t]; q >= 0; q = next[q]) consider(q)
    else {
      consider(head[t])
      if (response[t] >= 0) consider(response[t])
    }
    of[t] = best
  }
  return of
}

/** Transactions as objects (tests, small inputs): their hops. */
function ofObjects(transactions: readonly Transaction[], servers: Servers): Int32Array {
  const of = new Int32Array(transactions.length).fill(-1)
  transactions.forEach((t, i) => {
    let bestScore = 0
    for (const { event: e } of t.hops) {
      let s: number
      let score: number
      if (servers.isServer(e.vantage, SOURCE[e.source])) {
        s = servers.ofVantage(e.vantage)
        score = e.qr || e.source === 'log' ? SERVER_ANSWER : SERVER_QUERY
      } else {
        s = servers.ofAddress(e.qr ? e.srcAddr : e.dstAddr)
        score = e.qr ? ANSWER_ADDRESS : QUERY_ADDRESS
      }
      if (s >= 0 && score >= bestScore) {
        of[i] = s
        bestScore = score
      }
    }
  })
  return of
}
