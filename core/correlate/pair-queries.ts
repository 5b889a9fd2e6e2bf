// Pairs queries with responses and folds retransmits and cross-vantage copies into transactions.
//
// A transaction is one query (client address, DNS id, qname, qtype, transport) with its
// retransmits, as seen from every vantage point. Retransmits may come from another source port
// (glibc's single-request-reopen; conntrack rewriting ports), so the port is not in the key. The
// server address is not either: the pod sends to the Service IP, the node forwards to a CoreDNS
// endpoint after DNAT, and both copies are the same query. A copy sent at a vantage that has already
// seen this transaction's response starts a new transaction (the application asked again).
import type { DnsMessageEvent } from '../model/event.js'
import type { Transaction, TransactionHop } from './types.js'

/** glibc's longest retry schedule (RES_MAXRETRANS × attempts) stays well inside this. */
export const RETRY_WINDOW_US = 30_000_000

interface Pending {
  txn: Transaction
  /** Vantages that saw the response, and how many response copies. */
  responded: Map<string, number>
  /** Query copies per vantage. */
  copies: Map<string, number>
  lastQuery: number
}

export interface PairOptions {
  /** Rank of a vantage: lower is closer to the client. */
  rank: (vantage: string, e: DnsMessageEvent) => number
  /** 'query' | 'response' for each event, or null to ignore it. */
  direction: (e: DnsMessageEvent) => 'query' | 'response' | 'log' | null
}

export interface PairResult {
  transactions: Transaction[]
  /** Query sends counted once across vantages (max copies of any vantage per transaction). */
  queries: number
  /** Response copies delivered at the most client-side vantage that saw one. */
  responses: number
  /** Responses whose query was never seen. */
  orphanResponses: DnsMessageEvent[]
}

/** Pairs time-sorted events. Linear in the number of events (one Map lookup each). */
export function pairQueries(events: readonly DnsMessageEvent[], opts: PairOptions): PairResult {
  const open = new Map<string, Pending>()
  const all: Pending[] = []
  const orphanResponses: DnsMessageEvent[] = []

  for (const e of events) {
    const dir = opts.direction(e)
    if (!dir) continue
    const client = dir === 'response' ? e.dstAddr : e.srcAddr
    const key = `${e.transport}|${client}|${e.id}|${e.qname}|${e.qtype}`
    let p = open.get(key)
    const v = e.vantage

    if (dir === 'response') {
      if (!p) {
        orphanResponses.push(e)
        continue
      }
      addResponse(p, e, v, opts)
      continue
    }
    const arrival = dir === 'log' && e.durationUs !== undefined && !Number.isNaN(e.time) ? e.time - e.durationUs : e.time
    if (!p || p.responded.has(v) || (!Number.isNaN(arrival) && arrival - p.lastQuery > RETRY_WINDOW_US)) {
      p = newPending(e, client, arrival)
      open.set(key, p)
      all.push(p)
    }
    p.copies.set(v, (p.copies.get(v) ?? 0) + 1)
    if (!Number.isNaN(arrival)) p.lastQuery = Math.max(p.lastQuery, arrival)
    if (dir === 'log') {
      // A CoreDNS log line is written on reply: the query arrived `duration` earlier.
      p.txn.hops.push(hop(v, arrival, 'query arrived (log)', e))
      p.txn.queries.push(e)
      addResponse(p, e, v, opts, 'answered (log)')
    } else {
      p.txn.hops.push(hop(v, e.time, p.copies.get(v)! > 1 ? 'retransmit' : 'query', e))
      p.txn.queries.push(e)
    }
  }

  let queries = 0
  let responses = 0
  const transactions: Transaction[] = []
  for (const p of all) {
    finish(p, opts)
    let max = 0
    for (const n of p.copies.values()) if (n > max) max = n
    queries += max
    if (p.txn.response) responses += p.responded.get(p.txn.response.vantage) ?? 1
    transactions.push(p.txn)
  }
  return { transactions, queries, responses, orphanResponses }
}

function newPending(e: DnsMessageEvent, client: string, arrival: number): Pending {
  const txn: Transaction = {
    client,
    clientPort: e.srcPort,
    server: e.dstAddr,
    serverPort: e.dstPort,
    transport: e.transport,
    id: e.id,
    qname: e.qname,
    qtype: e.qtype,
    queries: [],
    response: null,
    firstSent: arrival,
    latencyUs: null,
    hops: [],
    lastSeen: e.vantage,
    drop: null,
    lookup: -1,
    copies: 0,
  }
  return { txn, responded: new Map(), copies: new Map(), lastQuery: Number.isNaN(arrival) ? -Infinity : arrival }
}

function addResponse(p: Pending, e: DnsMessageEvent, v: string, opts: PairOptions, what = 'response'): void {
  const n = (p.responded.get(v) ?? 0) + 1
  p.responded.set(v, n)
  p.txn.hops.push(hop(v, e.time, n > 1 ? 'duplicate response' : what, e))
  const cur = p.txn.response
  if (!cur || opts.rank(v, e) < opts.rank(cur.vantage, cur)) p.txn.response = e
}

function hop(vantage: string, time: number, what: string, event: DnsMessageEvent): TransactionHop {
  return { vantage, time, what, event }
}

/** Settles the derived fields once every copy has been seen. */
function finish(p: Pending, opts: PairOptions): void {
  const t = p.txn
  t.hops.sort((a, b) => a.time - b.time || opts.rank(a.vantage, a.event) - opts.rank(b.vantage, b.event))
  let max = 0
  for (const n of p.copies.values()) if (n > max) max = n
  t.copies = max
  // The client-most vantage that saw a query defines when it was first sent and from where.
  let first: TransactionHop | null = null
  let farthest: TransactionHop | null = null
  for (const h of t.hops) {
    if (h.event.qr && h.event.source !== 'log') continue
    const r = opts.rank(h.vantage, h.event)
    if (!first || r < opts.rank(first.vantage, first.event)) first = h
    if (!farthest || r >= opts.rank(farthest.vantage, farthest.event)) farthest = h
  }
  if (first) {
    t.firstSent = first.time
    t.clientPort = first.event.source === 'log' ? first.event.srcPort : first.event.srcPort
    if (first.event.dstAddr) {
      t.server = first.event.dstAddr
      t.serverPort = first.event.dstPort
    }
  }
  const resp = t.response
  if (resp) {
    t.lastSeen = resp.vantage
    if (resp.source === 'log' && resp.durationUs !== undefined) t.latencyUs = resp.durationUs
    else {
      // Latency is measured at one vantage so clocks of different hosts never mix.
      let sent = Infinity
      for (const h of t.hops) if (h.vantage === resp.vantage && !h.event.qr && h.time < sent) sent = h.time
      const base = sent !== Infinity ? sent : t.firstSent
      t.latencyUs = Number.isNaN(base) || Number.isNaN(resp.time) ? null : Math.max(0, resp.time - base)
    }
  } else if (farthest) t.lastSeen = farthest.vantage
}
