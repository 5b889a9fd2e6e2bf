// Pairs queries with responses and folds retransmits and cross-vantage copies into transactions.
//
// A transaction is one query (client address, DNS id, qname, qtype, transport) with its
// retransmits, as seen from every vantage point. Retransmits may come from another source port
// (glibc's single-request-reopen; conntrack rewriting ports), so the port is not in the key. The
// server address is not either: the pod sends to the Service IP, the node forwards to a CoreDNS
// endpoint after DNAT, and both copies are the same query. A copy sent at a vantage that has already
// seen this transaction's response starts a new transaction (the application asked again).
//
// This runs once per DNS message of the bundle, so it works on rows of the DnsTable and keeps
// transactions in a TxnStore (one typed array per field); see txn-store.ts.
import { type DnsTable, SOURCE } from '../model/dns-table.js'
import { TxnStore, Q, RETX, RESP, LOG_Q, LOG_A, NO_RESPONSE } from './txn-store.js'

/** glibc's longest retry schedule (RES_MAXRETRANS × attempts) stays well inside this. */
export const RETRY_WINDOW_US = 30_000_000

export interface PairOptions {
  /** Rank of the vantage of a row: lower is closer to the client. */
  rank: (row: number) => number
  /** Number the transactions in order of first send (a stable sort), not of first sight. */
  byFirstSent?: boolean
}

export interface PairResult {
  store: TxnStore
  /** Query sends counted once across vantages (max copies of any vantage per transaction). */
  queries: number
  /** Response copies delivered at the most client-side vantage that saw one. */
  responses: number
  /** Responses whose query was never seen. */
  orphanResponses: number
}

/** Pairs rows sorted by time. Linear in the number of rows (one hash probe each). */
export function pairQueries(dns: DnsTable, rows: ArrayLike<number>, opts: PairOptions): PairResult {
  const s = new TxnStore(dns, rows.length / 2)
  const open = new OpenTransactions(s, rows.length / 2)
  const { source, qr, srcAddr, dstAddr, vantage } = dns
  let orphanResponses = 0

  for (let k = 0; k < rows.length; k++) {
    const e = rows[k]
    const isLog = source[e] === SOURCE.log
    const isResponse = !isLog && qr[e] === 1
    const client = isResponse ? dstAddr[e] : srcAddr[e]
    let p = open.find(e, client)
    const v = vantage[e]

    if (isResponse) {
      if (p >= 0) s.addResponse(answered(s, p, v), e, RESP, opts.rank)
      else orphanResponses++
      continue
    }
    const arrival = dns.arrival(e)
    if (
      p < 0 ||
      s.responded(p, v) > 0 ||
      (!Number.isNaN(arrival) && arrival - s.lastQuery[p] > RETRY_WINDOW_US)
    ) {
      const prev = p
      p = s.open(e, arrival, prev)
      open.put(e, client, p, prev)
    }
    if (!Number.isNaN(arrival) && arrival > s.lastQuery[p]) s.lastQuery[p] = arrival
    if (isLog) {
      // A CoreDNS log line is written on reply: the query arrived `duration` earlier.
      s.addQuery(p, e, LOG_Q)
      s.addResponse(p, e, LOG_A, opts.rank, true)
    } else s.addQuery(p, e, Q)
  }

  let queries = 0
  let responses = 0
  for (let t = 0; t < s.length; t++) {
    finish(s, t, opts)
    queries += s.copies[t]
    const r = s.response[t]
    if (r >= 0) responses += Math.max(1, s.responded(t, vantage[r]))
  }
  s.settle(opts.byFirstSent ? firstSentOrder(s.firstSent, s.length) : undefined)
  return { store: s, queries, responses, orphanResponses }
}

/**
 * Store numbers in order of first send, or undefined when that is their order already (one
 * capture: checking is cheaper than sorting). The sort is stable.
 */
function firstSentOrder(firstSent: Float64Array, n: number): number[] | undefined {
  let i = 1
  while (i < n && !(firstSent[i - 1] - firstSent[i] > 0)) i++
  if (i >= n) return undefined
  return Array.from({ length: n }, (_, t) => t).sort((a, b) => firstSent[a] - firstSent[b])
}

/**
 * The newest transaction of each key (qname, qtype, transport, client, DNS id): an open-addressing
 * table of transaction numbers only. The key is not stored; it is read from the transaction's
 * first row when a probe has to compare.
 */
class OpenTransactions {
  private slots: Int32Array
  private mask: number
  private size = 0

  constructor(
    private readonly s: TxnStore,
    expected: number,
  ) {
    let cap = 1024
    while (cap < expected * 2) cap *= 2
    this.slots = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
  }

  /** The newest transaction with the key of row `e` (whose client is `client`), or -1. */
  find(e: number, client: number): number {
    const slots = this.slots
    for (let i = this.hash(e, client) & this.mask; ; i = (i + 1) & this.mask) {
      const t = slots[i]
      if (t < 0 || this.same(t, e, client)) return t
    }
  }

  /** Records `t` as the newest transaction of its key, in place of `prev` (or -1 for a new key). */
  put(e: number, client: number, t: number, prev: number): void {
    if (prev < 0 && (this.size + 1) * 2 > this.slots.length) this.grow()
    const slots = this.slots
    for (let i = this.hash(e, client) & this.mask; ; i = (i + 1) & this.mask) {
      const at = slots[i]
      if (at < 0 || at === prev) {
        if (at < 0) this.size++
        slots[i] = t
        return
      }
    }
  }

  private same(t: number, e: number, client: number): boolean {
    const d = this.s.dns
    const h = this.s.firstQuery[t]
    return (
      d.qname[h] === d.qname[e] &&
      d.qtype[h] === d.qtype[e] &&
      d.srcAddr[h] === client &&
      ((d.id[h] ^ d.id[e]) & 0xffff) === 0 &&
      d.transport[h] === d.transport[e]
    )
  }

  private hash(e: number, client: number): number {
    const d = this.s.dns
    let h = Math.imul(d.qname[e] ^ (d.qtype[e] << 16), 0x9e3779b1)
    h = Math.imul(h ^ client ^ (d.transport[e] << 28), 0x85ebca6b)
    h = Math.imul(h ^ (d.id[e] & 0xffff), 0xc2b2ae35)
    return (h ^ (h >>> 15)) >>> 0
  }

  private grow(): void {
    const old = this.slots
    this.slots = new Int32Array(old.length * 2).fill(-1)
    this.mask = this.slots.length - 1
    const d = this.s.dns
    for (const t of old) {
      if (t < 0) continue
      const h = this.s.firstQuery[t]
      for (let i = this.hash(h, d.srcAddr[h]) & this.mask; ; i = (i + 1) & this.mask)
        if (this.slots[i] < 0) {
          this.slots[i] = t
          break
        }
    }
  }
}

/** How far back a response may reach for its query among same-key transactions. */
const MAX_REACH = 8

/**
 * The transaction a response at vantage `v` answers: the oldest one of the key that `v` saw asked
 * and not yet answered. Clocks of different hosts disagree by more than the gap between a SERVFAIL
 * and glibc's immediate re-ask, so a server's late-stamped answer to the first ask must not be
 * taken for the answer to the second.
 */
function answered(s: TxnStore, latest: number, v: number): number {
  let target = -1
  let t = latest
  for (let steps = 0; t >= 0 && steps < MAX_REACH; steps++, t = s.prev[t])
    if (s.awaits(t, v)) target = t
  return target >= 0 ? target : latest
}

/** Settles the derived fields once every copy has been seen. */
function finish(s: TxnStore, t: number, opts: PairOptions): void {
  const dns = s.dns
  const { time, vantage } = dns
  s.copies[t] = s.maxCopies(t)
  // The client-most vantage that saw a query defines when it was first sent and from where.
  let first = -1
  let firstTime = NaN
  let firstRank = Infinity
  let farthest = -1
  let farthestRank = -Infinity
  let last = -Infinity
  for (let q = s.head[t]; q >= 0; q = s.next[q]) {
    if (time[q] > last) last = time[q]
    const code = s.code[q]
    if (code > RETX && code !== LOG_Q) continue
    const r = opts.rank(q)
    const at = dns.arrival(q)
    if (r < firstRank || (r === firstRank && at < firstTime)) {
      first = q
      firstRank = r
      firstTime = at
    }
    if (r >= farthestRank) {
      farthest = q
      farthestRank = r
    }
  }
  if (last > s.lastTime[t] || Number.isNaN(s.lastTime[t])) s.lastTime[t] = last
  if (first >= 0) {
    s.firstSent[t] = firstTime
    s.firstQuery[t] = first
  }
  const head = s.head[t]
  s.qname[t] = dns.qname[head]
  s.client[t] = dns.srcAddr[head]
  s.qtype[t] = dns.qtype[head]
  const resp = s.response[t]
  if (resp < 0) {
    s.rcode[t] = NO_RESPONSE
    s.answerAddrs[t] = -1
    s.responseTime[t] = NaN
  } else {
    s.rcode[t] = dns.rcode[resp]
    s.answerAddrs[t] = dns.answerAddrs[resp]
    s.responseTime[t] = time[resp]
  }
  if (resp >= 0) {
    s.lastSeen[t] = vantage[resp]
    const d = dns.durationUs(resp)
    if (dns.source[resp] === SOURCE.log && !Number.isNaN(d)) s.latencyUs[t] = d
    else {
      // Latency is measured at one vantage so clocks of different hosts never mix.
      let sent = Infinity
      for (let q = s.head[t]; q >= 0; q = s.next[q])
        if (s.code[q] <= RETX && vantage[q] === vantage[resp] && time[q] < sent) sent = time[q]
      const base = sent !== Infinity ? sent : s.firstSent[t]
      s.latencyUs[t] =
        Number.isNaN(base) || Number.isNaN(time[resp]) ? NaN : Math.max(0, time[resp] - base)
    }
  } else if (farthest >= 0) s.lastSeen[t] = vantage[farthest]
}
