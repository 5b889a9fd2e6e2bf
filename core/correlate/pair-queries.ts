// Pairs queries with responses and folds retransmits and cross-vantage copies into transactions.
//
// A transaction is one query (client address, DNS id, qname, qtype, transport) with its
// retransmits, as seen from every vantage point. Retransmits may come from another source port
// (glibc's single-request-reopen; conntrack rewriting ports), so the port is not in the key. The
// server address is not either: the pod sends to the Service IP, the node forwards to a CoreDNS
// endpoint after DNAT, and both copies are the same query. A copy sent at a vantage that has already
// seen this transaction's response starts a new transaction (the application asked again).
//
// This runs once per DNS message of the bundle, so it allocates as little as it can: one key string
// and one transaction per query, per-vantage counts inline for the common one-vantage case, and
// the hop list built only when someone reads it.
import type { DnsMessageEvent, DropEvent, Transport } from '../model/event.js'
import type { Transaction, TransactionHop } from './types.js'
import { Interner, PairTable } from './pair-table.js'

/** Transports as small numbers, for the numeric pairing key. */
const TRANSPORT_CODE: Record<Transport, number> = {
  udp: 0,
  tcp: 1,
  tls: 2,
  https: 3,
  quic: 4,
  unknown: 5,
}

/** glibc's longest retry schedule (RES_MAXRETRANS × attempts) stays well inside this. */
export const RETRY_WINDOW_US = 30_000_000

export type Direction = 'query' | 'response' | 'log'

export interface PairOptions {
  /** Rank of a vantage: lower is closer to the client. */
  rank: (vantage: string, e: DnsMessageEvent) => number
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

/** How an event is read: a CoreDNS log line is a query and its answer in one. */
export function directionOf(e: DnsMessageEvent): Direction {
  return e.source === 'log' ? 'log' : e.qr ? 'response' : 'query'
}

// What a hop says, kept as a small code per event until someone asks for the hops.
const WHAT = [
  'query',
  'retransmit',
  'response',
  'duplicate response',
  'query arrived (log)',
  'answered (log)',
]
const Q = 0
const RETX = 1
const RESP = 2
const DUP = 3
const LOG_Q = 4
const LOG_A = 5

/** One transaction under construction; also the Transaction handed out (hops are lazy). */
class PairedTransaction implements Transaction {
  response: DnsMessageEvent | null = null
  firstSent: number
  latencyUs: number | null = null
  lastSeen: string
  drop: DropEvent | null = null
  lookup = -1
  copies = 0
  lastTime: number

  // Every event of the transaction with a WHAT code each (log lines appear twice). Most
  // transactions have two (a query and its answer): those live in fields, codes in one number,
  // and only longer ones spill into arrays. Half a million transactions must not mean a million
  // small arrays.
  count = 0
  private e0: DnsMessageEvent | null = null
  private e1: DnsMessageEvent | null = null
  private spill: DnsMessageEvent[] | null = null
  private codeBits = 0
  private spillCodes: number[] | null = null
  private hopList: TransactionHop[] | null = null

  // Per-vantage tallies: inline for the first vantage, a Map once a second one appears.
  v0: string
  c0 = 0
  r0 = 0
  more: Map<string, { c: number; r: number }> | null = null
  lastQuery: number
  /** The previous transaction with the same key (the application asked again). */
  prev: PairedTransaction | null = null
  /** The copy sent from closest to the client: its ports and server address are the ones shown. */
  private firstQuery: DnsMessageEvent

  // The key fields are read from the events rather than copied into every transaction.
  get client(): string {
    return this.e0!.srcAddr
  }
  get transport(): string {
    return this.e0!.transport
  }
  get id(): number {
    return this.e0!.id
  }
  get qname(): string {
    return this.e0!.qname
  }
  get qtype(): number {
    return this.e0!.qtype
  }
  get clientPort(): number {
    return this.firstQuery.srcPort
  }
  get server(): string {
    return this.firstQuery.dstAddr || this.e0!.dstAddr
  }
  get serverPort(): number {
    return this.firstQuery.dstAddr ? this.firstQuery.dstPort : this.e0!.dstPort
  }

  /** Called by finish() once the client-most copy is known. */
  setFirstQuery(e: DnsMessageEvent): void {
    this.firstQuery = e
  }

  constructor(e: DnsMessageEvent, arrival: number) {
    this.firstQuery = e
    this.firstSent = arrival
    this.lastSeen = e.vantage
    this.v0 = e.vantage
    this.lastQuery = Number.isNaN(arrival) ? -Infinity : arrival
    this.lastTime = arrival
  }

  at(i: number): DnsMessageEvent {
    return i === 0 ? this.e0! : i === 1 ? this.e1! : this.spill![i - 2]
  }

  code(i: number): number {
    return i < 16 ? Math.floor(this.codeBits / 8 ** i) % 8 : this.spillCodes![i - 16]
  }

  private add(e: DnsMessageEvent, code: number): void {
    const i = this.count++
    if (i === 0) this.e0 = e
    else if (i === 1) this.e1 = e
    else (this.spill ??= []).push(e)
    if (i < 16) this.codeBits += code * 8 ** i
    else (this.spillCodes ??= []).push(code)
  }

  /** Every query copy seen, at every vantage (a CoreDNS log line counts as one). */
  get queries(): DnsMessageEvent[] {
    const out: DnsMessageEvent[] = []
    for (let i = 0; i < this.count; i++)
      if (this.code(i) <= RETX || this.code(i) === LOG_Q) out.push(this.at(i))
    return out
  }

  get hops(): TransactionHop[] {
    if (!this.hopList) {
      const hops: TransactionHop[] = []
      for (let i = 0; i < this.count; i++) {
        const e = this.at(i)
        const code = this.code(i)
        const time =
          code === LOG_Q && e.durationUs !== undefined ? e.time - Math.round(e.durationUs) : e.time
        hops.push({ vantage: e.vantage, time, what: WHAT[code], event: e })
      }
      this.hopList = hops.sort((a, b) => a.time - b.time)
    }
    return this.hopList
  }

  tally(v: string): { c: number; r: number } | null {
    if (v === this.v0) return null
    if (!this.more) this.more = new Map()
    let t = this.more.get(v)
    if (!t) this.more.set(v, (t = { c: 0, r: 0 }))
    return t
  }

  responded(v: string): number {
    if (v === this.v0) return this.r0
    return this.more?.get(v)?.r ?? 0
  }

  get vantageCount(): number {
    return 1 + (this.more?.size ?? 0)
  }

  /** Did vantage `v` see this query asked and not yet answered? */
  awaits(v: string): boolean {
    if (v === this.v0) return this.c0 > 0 && this.r0 === 0
    const t = this.more?.get(v)
    return t !== undefined && t.c > 0 && t.r === 0
  }

  addQuery(e: DnsMessageEvent, code: number): number {
    const t = this.tally(e.vantage)
    // A second copy of one packet in the same capture (`tcpdump -i any` sees a query on the
    // pod's veth and again after DNAT on the way to CoreDNS) is a hop, not another send.
    const n = e.copyOf !== undefined ? (t ? t.c : this.c0) : t ? ++t.c : ++this.c0
    this.add(e, code === Q && n > 1 && e.copyOf === undefined ? RETX : code)
    return n
  }

  addResponse(e: DnsMessageEvent, code: number, rank: PairOptions['rank']): void {
    const t = this.tally(e.vantage)
    const n = e.copyOf !== undefined ? (t ? t.r : this.r0) : t ? ++t.r : ++this.r0
    this.add(e, n > 1 && e.copyOf === undefined ? DUP : code)
    const cur = this.response
    if (!cur || rank(e.vantage, e) < rank(cur.vantage, cur)) this.response = e
  }

  maxCopies(): number {
    let max = this.c0
    if (this.more) for (const t of this.more.values()) if (t.c > max) max = t.c
    return max
  }
}

/** Pairs time-sorted events. Linear in the number of events (one Map lookup each). */
export function pairQueries(events: readonly DnsMessageEvent[], opts: PairOptions): PairResult {
  // Key: (qname, qtype, transport) and (client, id) as two numbers; the value indexes `all`.
  const open = new PairTable(events.length / 2)
  const names = new Interner()
  const clients = new Interner()
  const all: PairedTransaction[] = []
  const orphanResponses: DnsMessageEvent[] = []

  for (const e of events) {
    const dir = directionOf(e)
    const client = dir === 'response' ? e.dstAddr : e.srcAddr
    const k1 = (names.id(e.qname) * 65536 + e.qtype) * 8 + (TRANSPORT_CODE[e.transport] ?? 5)
    const k2 = clients.id(client) * 65536 + (e.id & 0xffff)
    const at = open.get(k1, k2)
    let p = at >= 0 ? all[at] : undefined
    const v = e.vantage

    if (dir === 'response') {
      if (p) answered(p, v).addResponse(e, RESP, opts.rank)
      else orphanResponses.push(e)
      continue
    }
    const arrival =
      dir === 'log' && e.durationUs !== undefined && !Number.isNaN(e.time)
        ? e.time - Math.round(e.durationUs)
        : e.time
    if (
      !p ||
      p.responded(v) > 0 ||
      (!Number.isNaN(arrival) && arrival - p.lastQuery > RETRY_WINDOW_US)
    ) {
      const prev = p ?? null
      p = new PairedTransaction(e, arrival)
      p.prev = prev
      open.set(k1, k2, all.length)
      all.push(p)
    }
    if (!Number.isNaN(arrival) && arrival > p.lastQuery) p.lastQuery = arrival
    if (dir === 'log') {
      // A CoreDNS log line is written on reply: the query arrived `duration` earlier.
      p.addQuery(e, LOG_Q)
      p.addResponse(e, LOG_A, opts.rank)
    } else p.addQuery(e, Q)
  }

  let queries = 0
  let responses = 0
  for (const p of all) {
    finish(p, opts)
    queries += p.copies
    if (p.response) responses += Math.max(1, p.responded(p.response.vantage))
  }
  return { transactions: all, queries, responses, orphanResponses }
}

/** How far back a response may reach for its query among same-key transactions. */
const MAX_REACH = 8

/**
 * The transaction a response at vantage `v` answers: the oldest one of the key that `v` saw asked
 * and not yet answered. Clocks of different hosts disagree by more than the gap between a SERVFAIL
 * and glibc's immediate re-ask, so a server's late-stamped answer to the first ask must not be
 * taken for the answer to the second.
 */
function answered(latest: PairedTransaction, v: string): PairedTransaction {
  let target: PairedTransaction | null = null
  let t: PairedTransaction | null = latest
  for (let steps = 0; t && steps < MAX_REACH; steps++, t = t.prev) if (t.awaits(v)) target = t
  return target ?? latest
}

/** Settles the derived fields once every copy has been seen. */
function finish(t: PairedTransaction, opts: PairOptions): void {
  t.copies = t.maxCopies()
  // The client-most vantage that saw a query defines when it was first sent and from where.
  let first: DnsMessageEvent | null = null
  let firstTime = NaN
  let firstRank = Infinity
  let farthest: DnsMessageEvent | null = null
  let farthestRank = -Infinity
  let last = -Infinity
  for (let i = 0; i < t.count; i++) {
    const q = t.at(i)
    if (q.time > last) last = q.time
    const code = t.code(i)
    if (code > RETX && code !== LOG_Q) continue
    const r = opts.rank(q.vantage, q)
    const time =
      q.source === 'log' && q.durationUs !== undefined ? q.time - Math.round(q.durationUs) : q.time
    if (r < firstRank || (r === firstRank && time < firstTime)) {
      first = q
      firstRank = r
      firstTime = time
    }
    if (r >= farthestRank) {
      farthest = q
      farthestRank = r
    }
  }
  if (last > t.lastTime || Number.isNaN(t.lastTime)) t.lastTime = last
  if (first) {
    t.firstSent = firstTime
    t.setFirstQuery(first)
  }
  const resp = t.response
  if (resp) {
    t.lastSeen = resp.vantage
    if (resp.source === 'log' && resp.durationUs !== undefined) t.latencyUs = resp.durationUs
    else {
      // Latency is measured at one vantage so clocks of different hosts never mix.
      let sent = Infinity
      for (let i = 0; i < t.count; i++) {
        const q = t.at(i)
        if (t.code(i) <= RETX && q.vantage === resp.vantage && q.time < sent) sent = q.time
      }
      const base = sent !== Infinity ? sent : t.firstSent
      t.latencyUs =
        Number.isNaN(base) || Number.isNaN(resp.time) ? null : Math.max(0, resp.time - base)
    }
  } else if (farthest) t.lastSeen = farthest.vantage
}
