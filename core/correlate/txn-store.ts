// Transactions stored by column, and the Transaction view the rest of the engine reads.
//
// Half a million transactions as objects with a dozen numbers each would be half a million
// objects for the garbage collector to trace on every major GC; here they are one typed array
// per field. The events of a transaction are a linked list through the rows of the DnsTable
// (`next`), each with a code saying what it was (query, retransmit, response...). A TxnView is
// two fields: the store and a number; its getters read the columns and build event objects only
// when asked (`queries`, `response`, `hops`).
import type { DnsMessageEvent, DropEvent } from '../model/event.js'
import { type Column, type DnsTable, SOURCE, TRANSPORTS, resized } from '../model/dns-table.js'
import type { Transaction, TransactionHop } from './types.js'
import { lazyList } from '../model/lazy-list.js'

// What a hop says, as a small code per event row.
const WHAT = [
  'query',
  'retransmit',
  'response',
  'duplicate response',
  'query arrived (log)',
  'answered (log)',
]
export const Q = 0
export const RETX = 1
export const RESP = 2
export const DUP = 3
export const LOG_Q = 4
export const LOG_A = 5
/** The rcode column's mark for a transaction without a response. */
export const NO_RESPONSE = -0x80000000

/** Per-vantage tallies of a transaction seen at more than one vantage. */
interface Tally {
  c: number
  r: number
}

/** The lists handed out by TxnStore.list(), and their stores. */
const listed = new WeakMap<readonly Transaction[], TxnStore>()

export class TxnStore {
  length = 0
  private cap: number
  /** Per event row: the next row of the same transaction, or -1. */
  readonly next: Int32Array
  /** Per event row: its WHAT code. */
  readonly code: Uint8Array
  /**
   * Per event row: 1 + the WHAT code of its second role, or 0. A CoreDNS log line is a query and
   * its answer in one: one row, two hops.
   */
  readonly code2: Uint8Array

  head: Int32Array
  tail: Int32Array
  /** The copy sent from closest to the client: its ports and server address are the ones shown. */
  firstQuery: Int32Array
  /** The response delivered to the client (row), or -1. */
  response: Int32Array
  firstSent: Float64Array
  /**
   * While pairing, the latest arrival of a query copy (-Infinity if none is known), which the
   * retry window is measured from; `finish` makes it the time of the transaction's last event.
   * One column for both: each of ~21 columns costs a page fault per 4 KiB it fills.
   */
  lastTime: Float64Array
  /** NaN when unanswered. */
  latencyUs: Float64Array
  /** Vantage string number of the last place the query was seen. */
  lastSeen: Uint32Array
  lookup: Int32Array
  copies: Int32Array
  /** Query and response counts at the first vantage (that of the `head` row). */
  c0: Int32Array
  r0: Int32Array
  /** The previous transaction with the same key (the application asked again), or -1. */
  prev: Int32Array
  // Filled when pairing ends (`finish`): what later stages read of every transaction, copied
  // from its first row and its response so that they read columns in order, not rows at random.
  /** String numbers (of the DnsTable's pool) of the qname and the client address. */
  qname: Uint32Array
  client: Uint32Array
  qtype: Uint16Array
  /** The response's rcode (-1: a CoreDNS log's `-`), or NO_RESPONSE. */
  rcode: Int32Array
  /** The response's answerAddrs, or -1 without a response. */
  answerAddrs: Int32Array
  /** When the response was seen (µs), NaN without one. */
  responseTime: Float64Array
  /**
   * The second vantage a transaction was seen at (1 + its string number, 0 for none) and its
   * query and response counts there, made when a transaction is first seen at two: most seen at
   * several are seen at two (a pod and its node), and an object per transaction would be half a
   * million for the garbage collector.
   */
  private v1 = new Uint32Array(0)
  private c1 = new Int32Array(0)
  private r1 = new Int32Array(0)
  /** Tallies of a third vantage on, for the few transactions seen at more. */
  private readonly more = new Map<number, Map<number, Tally>>()
  readonly drops = new Map<number, DropEvent>()
  private settled = false

  constructor(
    readonly dns: DnsTable,
    capacity: number,
  ) {
    this.next = new Int32Array(dns.length)
    this.code = new Uint8Array(dns.length)
    this.code2 = new Uint8Array(dns.length)
    const cap = (this.cap = Math.max(16, Math.ceil(capacity)))
    this.head = new Int32Array(cap)
    this.tail = new Int32Array(cap)
    this.firstQuery = new Int32Array(cap)
    this.response = new Int32Array(cap)
    this.firstSent = new Float64Array(cap)
    this.lastTime = new Float64Array(cap)
    this.latencyUs = new Float64Array(cap)
    this.lastSeen = new Uint32Array(cap)
    this.lookup = new Int32Array(cap)
    this.copies = new Int32Array(cap)
    this.c0 = new Int32Array(cap)
    this.r0 = new Int32Array(cap)
    this.prev = new Int32Array(cap)
    this.qname = new Uint32Array(cap)
    this.client = new Uint32Array(cap)
    this.qtype = new Uint16Array(cap)
    this.rcode = new Int32Array(cap)
    this.answerAddrs = new Int32Array(cap)
    this.responseTime = new Float64Array(cap)
  }

  /**
   * A new transaction started by row `e`, which the caller adds next as its first query; `prev`
   * is the earlier one of the same key or -1. Only what pairing reads is set here: `finish`
   * writes the rest, and the counts start at the zeros of a fresh column.
   */
  open(e: number, prev: number): number {
    if (this.settled) throw new Error('TxnStore: no transactions can be added once settled')
    if (this.length === this.cap) this.resize(this.cap + (this.cap >> 1))
    const t = this.length++
    const d = this.dns
    // Read here, not passed in: a number passed to a call that is not inlined is boxed.
    const arrival = d.source[e] === SOURCE.log ? d.arrival(e) : d.time[e]
    // The head is `e` already (`link` sets it again): the first vantage is read from it.
    this.head[t] = e
    this.tail[t] = -1
    this.firstQuery[t] = e
    this.response[t] = -1
    this.lastTime[t] = Number.isNaN(arrival) ? -Infinity : arrival
    this.lookup[t] = -1
    this.prev[t] = prev
    return t
  }

  private link(t: number, e: number, code: number): void {
    this.next[e] = -1
    this.code[e] = code
    if (this.tail[t] < 0) this.head[t] = e
    else this.next[this.tail[t]] = e
    this.tail[t] = e
  }

  /** The first vantage: that of the row that opened the transaction. */
  private v0(t: number): number {
    return this.dns.vantage[this.head[t]]
  }

  /**
   * Adds one to t's count of queries (or of `responses`) seen at vantage v, or with `copy` only
   * reads it (a second copy of a packet already counted); returns the count.
   */
  private count(t: number, v: number, responses: boolean, copy: boolean): number {
    if (v === this.v0(t)) {
      const at = responses ? this.r0 : this.c0
      return copy ? at[t] : ++at[t]
    }
    if (this.isSecond(t, v)) {
      const at = responses ? this.r1 : this.c1
      return copy ? at[t] : ++at[t]
    }
    let m = this.more.get(t)
    if (!m) this.more.set(t, (m = new Map()))
    let x = m.get(v)
    if (!x) m.set(v, (x = { c: 0, r: 0 }))
    if (responses) return copy ? x.r : ++x.r
    return copy ? x.c : ++x.c
  }

  /** Whether v (not the first vantage) is t's second vantage; it becomes so if t has none yet. */
  private isSecond(t: number, v: number): boolean {
    if (this.v1.length === 0) {
      this.v1 = new Uint32Array(this.cap)
      this.c1 = new Int32Array(this.cap)
      this.r1 = new Int32Array(this.cap)
    }
    if (this.v1[t] === 0) this.v1[t] = v + 1
    return this.v1[t] === v + 1
  }

  /** t's tally at vantage v when that is neither its first nor its second, or undefined. */
  private other(t: number, v: number): Tally | undefined {
    return this.more.size > 0 ? this.more.get(t)?.get(v) : undefined
  }

  addQuery(t: number, e: number, code: number): void {
    // A second copy of one packet in the same capture (`tcpdump -i any` sees a query on the
    // pod's veth and again after DNAT on the way to CoreDNS) is a hop, not another send.
    const copy = this.dns.copyOf(e) !== 0
    const n = this.count(t, this.dns.vantage[e], false, copy)
    this.link(t, e, code === Q && n > 1 && !copy ? RETX : code)
  }

  /** `linked`: the row is in the transaction already, as its query (a CoreDNS log line). */
  addResponse(
    t: number,
    e: number,
    code: number,
    rank: (row: number) => number,
    linked = false,
  ): void {
    const copy = this.dns.copyOf(e) !== 0
    const n = this.count(t, this.dns.vantage[e], true, copy)
    const what = n > 1 && !copy ? DUP : code
    if (linked) this.code2[e] = what + 1
    else this.link(t, e, what)
    const cur = this.response[t]
    if (cur < 0 || rank(e) < rank(cur)) this.response[t] = e
  }

  /** How many query sends vantage `v` saw of t (copies of one packet once). */
  sent(t: number, v: number): number {
    if (v === this.v0(t)) return this.c0[t]
    if (this.v1.length > 0 && this.v1[t] === v + 1) return this.c1[t]
    return this.other(t, v)?.c ?? 0
  }

  responded(t: number, v: number): number {
    if (v === this.v0(t)) return this.r0[t]
    if (this.v1.length > 0 && this.v1[t] === v + 1) return this.r1[t]
    return this.other(t, v)?.r ?? 0
  }

  /** Did vantage `v` see this query asked and not yet answered? */
  awaits(t: number, v: number): boolean {
    if (v === this.v0(t)) return this.c0[t] > 0 && this.r0[t] === 0
    if (this.v1.length > 0 && this.v1[t] === v + 1) return this.c1[t] > 0 && this.r1[t] === 0
    const x = this.other(t, v)
    return x !== undefined && x.c > 0 && x.r === 0
  }

  maxCopies(t: number): number {
    let max = this.c0[t]
    if (this.v1.length > 0 && this.c1[t] > max) max = this.c1[t]
    const m = this.more.size > 0 ? this.more.get(t) : undefined
    if (m) for (const x of m.values()) if (x.c > max) max = x.c
    return max
  }

  /** The vantages (string numbers) that saw transaction t: its first, second, then any others. */
  vantagesOf(t: number): number[] {
    const out = [this.v0(t)]
    if (this.v1.length === 0 || this.v1[t] === 0) return out
    out.push(this.v1[t] - 1)
    const m = this.more.size > 0 ? this.more.get(t) : undefined
    if (m) for (const v of m.keys()) out.push(v)
    return out
  }

  vantageCount(t: number): number {
    if (this.v1.length === 0 || this.v1[t] === 0) return 1
    return 2 + (this.more.size > 0 ? (this.more.get(t)?.size ?? 0) : 0)
  }

  /** How many transactions fit before the columns grow. */
  capacity(): number {
    return this.cap
  }

  /** Was transaction t seen at more than one vantage? */
  seenAtSeveral(t: number): boolean {
    return this.v1.length > 0 && this.v1[t] !== 0
  }

  /** Is row `q` (of a transaction) a query copy: sent, resent, or a log line's query? */
  isQuery(q: number): boolean {
    return this.code[q] <= RETX || this.code[q] === LOG_Q
  }

  /**
   * Every transaction as a lazy list of views (made when first read), in store order; the store
   * of such a list is `TxnStore.of(list)`. Its readers that loop over every transaction read the
   * columns instead, so half a million views need not be made.
   */
  list(): Transaction[] {
    const list = lazyList<Transaction>(this.length, (t) => new TxnView(this, t))
    listed.set(list, this)
    return list
  }

  /** The store whose `list()` this is, or null (for any other list of transactions). */
  static of(list: readonly Transaction[]): TxnStore | null {
    return listed.get(list) ?? null
  }

  /** Views of every transaction, in store order. */
  views(): TxnView[] {
    const out: TxnView[] = new Array(this.length)
    for (let t = 0; t < this.length; t++) out[t] = new TxnView(this, t)
    return out
  }

  /** Gives back the slack left by growth (when it is worth a copy). */
  trim(): void {
    if (this.cap - this.length > this.cap >> 3) this.resize(Math.max(16, this.length))
  }

  /**
   * Pairing is over: lets go of what only pairing reads (tails, per-vantage counts, the chain of
   * same-key transactions) and of the growth slack. With `order` (store numbers in their new
   * order), transaction i becomes the one numbered order[i].
   */
  settle(order?: ArrayLike<number>): void {
    if (order) this.permute(order)
    this.trim()
    const none = new Int32Array(0)
    this.tail = none
    this.prev = none
    this.c0 = none
    this.r0 = none
    this.c1 = none
    this.r1 = none
    this.settled = true
  }

  private permute(order: ArrayLike<number>): void {
    const n = this.length
    const by = <T extends Column>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(this.cap)
      for (let i = 0; i < n; i++) b[i] = a[order[i]]
      return b
    }
    this.head = by(this.head)
    this.firstQuery = by(this.firstQuery)
    this.response = by(this.response)
    this.firstSent = by(this.firstSent)
    this.lastTime = by(this.lastTime)
    this.latencyUs = by(this.latencyUs)
    this.lastSeen = by(this.lastSeen)
    this.lookup = by(this.lookup)
    this.copies = by(this.copies)
    this.qname = by(this.qname)
    this.client = by(this.client)
    this.qtype = by(this.qtype)
    this.rcode = by(this.rcode)
    this.answerAddrs = by(this.answerAddrs)
    this.responseTime = by(this.responseTime)
    if (this.v1.length > 0) this.v1 = by(this.v1)
    const newIndex = new Int32Array(n)
    for (let i = 0; i < n; i++) newIndex[order[i]] = i
    const more = [...this.more]
    this.more.clear()
    for (const [t, m] of more) this.more.set(newIndex[t], m)
    const drops = [...this.drops]
    this.drops.clear()
    for (const [t, d] of drops) this.drops.set(newIndex[t], d)
  }

  private resize(cap: number): void {
    const n = this.length
    const grow = <T extends Column>(a: T): T => resized(a, n, cap)
    this.head = grow(this.head)
    this.tail = grow(this.tail)
    this.firstQuery = grow(this.firstQuery)
    this.response = grow(this.response)
    this.firstSent = grow(this.firstSent)
    this.lastTime = grow(this.lastTime)
    this.latencyUs = grow(this.latencyUs)
    this.lastSeen = grow(this.lastSeen)
    this.lookup = grow(this.lookup)
    this.copies = grow(this.copies)
    this.c0 = grow(this.c0)
    this.r0 = grow(this.r0)
    if (this.v1.length > 0) {
      this.v1 = grow(this.v1)
      this.c1 = grow(this.c1)
      this.r1 = grow(this.r1)
    }
    this.prev = grow(this.prev)
    this.qname = grow(this.qname)
    this.client = grow(this.client)
    this.qtype = grow(this.qtype)
    this.rcode = grow(this.rcode)
    this.answerAddrs = grow(this.answerAddrs)
    this.responseTime = grow(this.responseTime)
    this.cap = cap
  }
}

/** One transaction of a TxnStore, read through the Transaction interface. */
export class TxnView implements Transaction {
  // Declared and assigned rather than parameter properties: class fields would be defined
  // (Object.defineProperty) on each of half a million views, costing more than the view.
  declare readonly store: TxnStore
  declare readonly index: number

  constructor(store: TxnStore, index: number) {
    this.store = store
    this.index = index
  }

  get client(): string {
    const s = this.store
    return s.dns.strings.text[s.client[this.index]]
  }
  get clientPort(): number {
    const s = this.store
    return s.dns.srcPort[s.firstQuery[this.index]]
  }
  get server(): string {
    const s = this.store
    const d = s.dns
    const fq = s.firstQuery[this.index]
    return d.strings.text[d.dstAddr[fq] !== 0 ? d.dstAddr[fq] : d.dstAddr[s.head[this.index]]]
  }
  get serverPort(): number {
    const s = this.store
    const d = s.dns
    const fq = s.firstQuery[this.index]
    return d.dstAddr[fq] !== 0 ? d.dstPort[fq] : d.dstPort[s.head[this.index]]
  }
  get transport(): string {
    const s = this.store
    return TRANSPORTS[s.dns.transport[s.head[this.index]]]
  }
  get id(): number {
    const s = this.store
    return s.dns.id[s.head[this.index]]
  }
  get qname(): string {
    const s = this.store
    return s.dns.strings.text[s.qname[this.index]]
  }
  get qtype(): number {
    return this.store.qtype[this.index]
  }
  get copies(): number {
    return this.store.copies[this.index]
  }
  get vantageCount(): number {
    return this.store.vantageCount(this.index)
  }
  get answered(): boolean {
    return this.store.response[this.index] >= 0
  }
  get rcode(): number | null {
    const rc = this.store.rcode[this.index]
    return rc === NO_RESPONSE ? null : rc
  }
  get responseTime(): number {
    return this.store.responseTime[this.index]
  }
  get answerAddrs(): number {
    return this.store.answerAddrs[this.index]
  }
  get response(): DnsMessageEvent | null {
    const r = this.store.response[this.index]
    return r >= 0 ? this.store.dns.get(r) : null
  }
  get firstSent(): number {
    return this.store.firstSent[this.index]
  }
  get lastTime(): number {
    return this.store.lastTime[this.index]
  }
  get latencyUs(): number | null {
    const l = this.store.latencyUs[this.index]
    return Number.isNaN(l) ? null : l
  }
  get lastSeen(): string {
    return this.store.dns.strings.text[this.store.lastSeen[this.index]]
  }
  get lookup(): number {
    return this.store.lookup[this.index]
  }
  set lookup(l: number) {
    this.store.lookup[this.index] = l
  }
  get drop(): DropEvent | null {
    return this.store.drops.get(this.index) ?? null
  }
  set drop(d: DropEvent | null) {
    if (d) this.store.drops.set(this.index, d)
    else this.store.drops.delete(this.index)
  }

  /** Every query copy seen, at every vantage (a CoreDNS log line counts as one). */
  get queries(): DnsMessageEvent[] {
    const s = this.store
    const out: DnsMessageEvent[] = []
    for (let q = s.head[this.index]; q >= 0; q = s.next[q]) if (s.isQuery(q)) out.push(s.dns.get(q))
    return out
  }

  /** Every event of the transaction in time order, each with what it was. */
  get hops(): TransactionHop[] {
    const s = this.store
    const d = s.dns
    const hops: TransactionHop[] = []
    for (let q = s.head[this.index]; q >= 0; q = s.next[q]) {
      const e = d.get(q)
      for (let code = s.code[q], more = s.code2[q]; ; code = more - 1, more = 0) {
        // A log line's query arrived its duration before the line was written.
        const time = code === LOG_Q ? d.arrival(q) : e.time
        hops.push({ vantage: e.vantage, time, what: WHAT[code], event: e })
        if (more === 0) break
      }
    }
    return hops.sort((a, b) => a.time - b.time)
  }
}
