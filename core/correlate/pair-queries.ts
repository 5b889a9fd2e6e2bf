// Pairs queries with responses and folds retransmits and cross-vantage copies into transactions.
//
// A transaction is one query (client address, DNS id, qname, qtype, transport) with its
// retransmits, as seen from every vantage point. Retransmits may come from another source port
// (glibc's single-request-reopen; conntrack rewriting ports), so the port is not in the key. The
// server address is not either: the pod sends to the Service IP, the node forwards to a CoreDNS
// endpoint after DNAT, and both copies are the same query. A copy sent at a vantage that has already
// seen this transaction's response starts a new transaction (the application asked again), unless
// a vantage closer to the client still waits for an answer to a copy it sent: then it is that
// resend on its way (the first answer was lost between the two).
//
// Replicas of the DNS server (two CoreDNS pods behind one Service) are not points on one path but
// parallel ones: each copy reaches one of them. A copy at one replica after another has answered
// is asked again, as after an answer at the same vantage, and the sends of a transaction at the
// server are those of all its replicas together.
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
  /** Settle every transaction the general way, without finish's fast path (tests compare). */
  noFastPath?: boolean
  /**
   * Per vantage string number: which replica of the DNS server a vantage at the server's rank
   * records (0, 1, ...), or -1 (see replicas.ts). Without it every vantage is a point on the one
   * path a query takes.
   */
  servers?: Int32Array
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
  const s = new TxnStore(dns, expectedTransactions(dns, rows))
  // Each loop is a function of its own: code after a loop that the optimizer compiled while it
  // ran has no type feedback, so the optimized code is dropped there, and the next loop is then
  // compiled again together with everything around it. Apart, each compiles alone and quickly.
  const orphanResponses = pairRows(s, rows, opts)
  const { queries, responses } = finishAll(s, opts)
  s.settle(opts.byFirstSent ? firstSentOrder(s.firstSent, s.length) : undefined)
  return { store: s, queries, responses, orphanResponses }
}

/** Adds every row to its transaction in `s`; returns the number of orphan responses. */
function pairRows(s: TxnStore, rows: ArrayLike<number>, opts: PairOptions): number {
  const dns = s.dns
  const open = new OpenTransactions(s, s.capacity())
  const { source, qr, srcAddr, dstAddr, vantage, time } = dns
  const servers = opts.servers
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
    // Only a log line's query arrived before its time (and a call would box the number).
    const arrival = isLog ? dns.arrival(e) : time[e]
    // What other replicas of the server did with p: see `atOtherReplicas`.
    let elsewhere = servers !== undefined && p >= 0 ? atOtherReplicas(s, p, v, servers) : 0
    if (
      p < 0 ||
      ((s.responded(p, v) > 0 || (elsewhere & ANSWERED) !== 0) &&
        !awaitsCloser(s, p, opts.rank(e), opts.rank)) ||
      (!Number.isNaN(arrival) && arrival - s.lastTime[p] > RETRY_WINDOW_US)
    ) {
      const prev = p
      p = s.open(e, prev)
      open.put(p)
      elsewhere = 0
    }
    // Until `finish`, lastTime is the latest arrival of a query copy.
    if (!Number.isNaN(arrival) && arrival > s.lastTime[p]) s.lastTime[p] = arrival
    if (isLog) {
      // A CoreDNS log line is written on reply: the query arrived `duration` earlier.
      s.addQuery(p, e, LOG_Q)
      s.addResponse(p, e, LOG_A, opts.rank, true)
    } else s.addQuery(p, e, (elsewhere & SENT) !== 0 && s.sent(p, v) === 0 ? RETX : Q)
  }
  return orphanResponses
}

// What `atOtherReplicas` says, as bits.
const SENT = 1
const ANSWERED = 2

/**
 * Whether a replica of the DNS server other than that of vantage `v` saw transaction p sent
 * (SENT), and answered it (ANSWERED); 0 when `v` is not at a replica.
 */
function atOtherReplicas(s: TxnStore, p: number, v: number, servers: Int32Array): number {
  const mine = v < servers.length ? servers[v] : -1
  if (mine < 0) return 0
  let seen = 0
  // By vantage, not by row: a key resent thousands of times has thousands of rows.
  for (const w of s.vantagesOf(p)) {
    const theirs = w < servers.length ? servers[w] : -1
    if (theirs < 0 || theirs === mine) continue
    if (s.sent(p, w) > 0) seen |= SENT
    if (s.responded(p, w) > 0) seen |= ANSWERED
  }
  return seen
}

/**
 * The sends of transaction t: the most that any point on its path saw, the replicas of the
 * server taken together as one point (each saw those sends that reached it).
 */
function copiesOf(
  s: TxnStore,
  t: number,
  servers: Int32Array | undefined,
  most: Int32Array,
): number {
  const max = s.maxCopies(t)
  if (servers === undefined || !s.seenAtSeveral(t)) return max
  const vantages = s.vantagesOf(t)
  let total = 0
  for (const w of vantages) {
    const id = w < servers.length ? servers[w] : -1
    if (id < 0) continue
    const n = s.sent(t, w)
    if (n > most[id]) {
      total += n - most[id]
      most[id] = n
    }
  }
  for (const w of vantages) if (w < servers.length && servers[w] >= 0) most[servers[w]] = 0
  return total > max ? total : max
}

/**
 * About how many transactions the rows make, so that the store and the key table are made large
 * enough at once (growing copies them): a query and its response make one, but a CoreDNS log line
 * is both.
 */
function expectedTransactions(dns: DnsTable, rows: ArrayLike<number>): number {
  let logs = 0
  for (let k = 0; k < rows.length; k++) if (dns.source[rows[k]] === SOURCE.log) logs++
  return logs + (rows.length - logs) / 2
}

/**
 * Does transaction p have, at some vantage closer to the client than rank `r`, more query sends
 * than answers? A pod that resent after its answer was lost, say, while the server answered the
 * first send. The store counts both by vantage; p's rows say which vantages are closer (a
 * transaction has a few rows, and this is asked only of a resend after an answer).
 */
function awaitsCloser(s: TxnStore, p: number, r: number, rank: (row: number) => number): boolean {
  // Seen at one vantage, the one that answered (one capture, one log): none is closer.
  if (!s.seenAtSeveral(p)) return false
  for (let q = s.head[p]; q >= 0; q = s.next[q]) {
    const v = s.dns.vantage[q]
    if (rank(q) < r && s.sent(p, v) > s.responded(p, v)) return true
  }
  return false
}

/** Finishes every transaction; returns the query sends and responses, added up. */
function finishAll(s: TxnStore, opts: PairOptions): { queries: number; responses: number } {
  const vantage = s.dns.vantage
  // Per replica: the most sends one of its vantages saw, while copiesOf adds them up.
  const most = new Int32Array(opts.servers ? replicaCount(opts.servers) : 0)
  let queries = 0
  let responses = 0
  for (let t = 0; t < s.length; t++) {
    finish(s, t, opts, most)
    queries += s.copies[t]
    const r = s.response[t]
    if (r >= 0) responses += Math.max(1, s.responded(t, vantage[r]))
  }
  return { queries, responses }
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
 * The newest transaction of each key (qname, qtype, transport, client, DNS id), as transaction
 * numbers in open-addressing tables. The key is not stored: each slot keeps the key's hash, and
 * a probe reads the transaction's first row only when the hashes agree.
 *
 * Half a million keys fill a table of megabytes, and a probe at random in it is a cache miss:
 * per message that was most of the pairing. So keys live first in a small young table that
 * stays in cache, where the response (a few packets after its query) finds them; a bitmap of
 * every hash ever put says when the big old table cannot hold a key (most new queries); and
 * the young table is moved into the old one in batches, whose independent misses the CPU
 * overlaps.
 */
class OpenTransactions {
  private readonly young = new KeyTable(YOUNG_SLOTS)
  private readonly old: KeyTable
  /** One bit per hash value (mod its size): set for every key ever put. */
  private readonly seen = new Int32Array(SEEN_BITS >>> 5)
  /** The hash of the row last passed to `find`, for the `put` that follows it. */
  private hash = 0
  /**
   * How many keys the young table holds before it is moved: a few the first time. Then every
   * branch of the pairing loop (the move, the old table's probes) has run before the optimizer
   * compiles the loop. Code it has not seen run has no type feedback, and reaching such code
   * throws the optimized loop away (a deoptimization) to be compiled again, the loop run by the
   * interpreter meanwhile: twice mid-loop on the 1M capture, 5-10 ms in all.
   */
  private moveAt = FIRST_MOVE

  constructor(
    private readonly s: TxnStore,
    expected: number,
  ) {
    // Half full at most: `expected` keys then fit without the table growing.
    this.old = new KeyTable(2 * expected)
  }

  /** The newest transaction with the key of row `e` (whose client is `client`), or -1. */
  find(e: number, client: number): number {
    const h = (this.hash = this.hashOf(e, client))
    const t = this.young.find(h, this.s, e, client)
    if (t >= 0) return t
    const bit = h & (SEEN_BITS - 1)
    if ((this.seen[bit >>> 5] & (1 << (bit & 31))) === 0) return -1
    return this.old.find(h, this.s, e, client)
  }

  /**
   * Records `t` as the newest transaction of the key of the row last passed to `find`. The old
   * table may keep an older transaction of the key until the move: `find` asks the young first.
   */
  put(t: number): void {
    const h = this.hash
    const bit = h & (SEEN_BITS - 1)
    this.seen[bit >>> 5] |= 1 << (bit & 31)
    if (this.young.put(h, t, this.s) && this.young.size >= this.moveAt) {
      this.young.moveInto(this.old, this.s)
      this.moveAt = YOUNG_SLOTS / 2
    }
  }

  private hashOf(e: number, client: number): number {
    const d = this.s.dns
    let h = Math.imul(d.qname[e] ^ (d.qtype[e] << 16), 0x9e3779b1)
    h = Math.imul(h ^ client ^ (d.transport[e] << 28), 0x85ebca6b)
    h = Math.imul(h ^ (d.id[e] & 0xffff), 0xc2b2ae35)
    return h ^ (h >>> 15)
  }
}

/** 32K slots (256 KiB with their hashes) and a 512 KiB bitmap: together they fit in an L2 cache. */
const YOUNG_SLOTS = 1 << 15
const SEEN_BITS = 1 << 22
const FIRST_MOVE = 64

/**
 * Open addressing from a key's hash to the key's newest transaction: (transaction, hash) pairs.
 * A key's first slot is the top bits of its hash, so that the young table, read in slot order,
 * is moved into the old one in slot order too: memory is then walked forward, not at random.
 */
class KeyTable {
  /** Slot i: transaction at 2i (-1 when empty), the key's hash at 2i + 1. */
  private slots: Int32Array
  private mask: number
  /** 32 - log2(slots): a hash shifted right by it is its first slot. */
  private shift: number
  /** Keys held: at most half the slots (the table grows then). */
  size = 0

  constructor(slots: number) {
    let cap = 1024
    while (cap < slots) cap *= 2
    this.slots = new Int32Array(2 * cap).fill(-1)
    this.mask = cap - 1
    this.shift = 32 - Math.log2(cap)
  }

  /** The transaction with row e's key (hash h), or -1. */
  find(h: number, s: TxnStore, e: number, client: number): number {
    const slots = this.slots
    for (let i = h >>> this.shift; ; i = (i + 1) & this.mask) {
      const t = slots[2 * i]
      if (t < 0 || (slots[2 * i + 1] === h && sameKey(s, s.firstQuery[t], e, client))) return t
    }
  }

  /** Puts t for its key (hash h), in place of an older transaction of the key; true if added. */
  put(h: number, t: number, s: TxnStore): boolean {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow()
    const slots = this.slots
    for (let i = h >>> this.shift; ; i = (i + 1) & this.mask) {
      const at = slots[2 * i]
      if (at < 0) {
        slots[2 * i] = t
        slots[2 * i + 1] = h
        this.size++
        return true
      }
      if (slots[2 * i + 1] !== h) continue
      // The rows are read only when the hashes agree (where t's key was put before).
      const row = s.firstQuery[t]
      if (sameKey(s, s.firstQuery[at], row, s.dns.srcAddr[row])) {
        slots[2 * i] = t
        return false
      }
    }
  }

  /** Moves every entry into `to` (newer than any there of the same key) and empties this table. */
  moveInto(to: KeyTable, s: TxnStore): void {
    const slots = this.slots
    for (let i = 0; i < slots.length; i += 2) if (slots[i] >= 0) to.put(slots[i + 1], slots[i], s)
    slots.fill(-1)
    this.size = 0
  }

  private grow(): void {
    const old = this.slots
    const cap = old.length
    this.slots = new Int32Array(2 * cap).fill(-1)
    this.mask = cap - 1
    this.shift--
    this.size = 0
    // Keys are distinct already: place them without comparing.
    for (let j = 0; j < old.length; j += 2) {
      if (old[j] < 0) continue
      const h = old[j + 1]
      let i = h >>> this.shift
      while (this.slots[2 * i] >= 0) i = (i + 1) & this.mask
      this.slots[2 * i] = old[j]
      this.slots[2 * i + 1] = h
      this.size++
    }
  }
}

/** Does row `e` (whose client is `client`) have the key of row `h`? */
function sameKey(s: TxnStore, h: number, e: number, client: number): boolean {
  const d = s.dns
  return (
    d.qname[h] === d.qname[e] &&
    d.qtype[h] === d.qtype[e] &&
    d.srcAddr[h] === client &&
    ((d.id[h] ^ d.id[e]) & 0xffff) === 0 &&
    d.transport[h] === d.transport[e]
  )
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
function finish(s: TxnStore, t: number, opts: PairOptions, most: Int32Array): void {
  const dns = s.dns
  const head = s.head[t]
  s.qname[t] = dns.qname[head]
  s.client[t] = dns.srcAddr[head]
  s.qtype[t] = dns.qtype[head]
  if (opts.noFastPath || !finishPair(s, t, opts)) finishAny(s, t, opts, most)
}

/** How many replicas `servers` numbers. */
function replicaCount(servers: Int32Array): number {
  let n = 0
  for (let v = 0; v < servers.length; v++) if (servers[v] >= n) n = servers[v] + 1
  return n
}

/**
 * `finish` of most transactions: one query packet and its response, at one vantage. Then the
 * query is the first and the farthest copy and the latency's base, so the walks of `finishAny`
 * are not needed. Returns false, having written nothing, for any other transaction.
 */
function finishPair(s: TxnStore, t: number, opts: PairOptions): boolean {
  const dns = s.dns
  const { time, vantage } = dns
  const q = s.head[t]
  const resp = s.next[q]
  if (resp < 0 || s.next[resp] >= 0) return false
  // RESP (not LOG_A, not DUP) is a packet, not a log line, and as the only response row it is
  // the transaction's response; its latency is measured, not logged.
  if (s.code[q] !== Q || s.code[resp] !== RESP || vantage[q] !== vantage[resp]) return false
  const r = opts.rank(q)
  if (!(r < Infinity)) return false
  const tq = time[q]
  const tr = time[resp]
  s.copies[t] = s.maxCopies(t)
  s.firstSent[t] = tq
  s.firstQuery[t] = q
  // As in finishAny, where the query's arrival is its time: the latest time that is not NaN.
  let last = -Infinity
  if (tq > last) last = tq
  if (tr > last) last = tr
  s.lastTime[t] = last
  s.rcode[t] = dns.rcode[resp]
  s.answerAddrs[t] = dns.answerAddrs[resp]
  s.responseTime[t] = tr
  s.lastSeen[t] = vantage[resp]
  // NaN if either time is (Math.max passes NaN on).
  s.latencyUs[t] = Math.max(0, tr - tq)
  return true
}

/** `finish` of any transaction: walks its rows for the first copy, the last time, the latency. */
function finishAny(s: TxnStore, t: number, opts: PairOptions, most: Int32Array): void {
  const dns = s.dns
  const { time, vantage } = dns
  const head = s.head[t]
  s.copies[t] = copiesOf(s, t, opts.servers, most)
  // The client-most vantage that saw a query defines when it was first sent and from where.
  let first = -1
  let firstTime = NaN
  let firstRank = Infinity
  let farthest = -1
  let farthestRank = -Infinity
  let last = -Infinity
  for (let q = head; q >= 0; q = s.next[q]) {
    if (time[q] > last) last = time[q]
    const code = s.code[q]
    if (code > RETX && code !== LOG_Q) continue
    const r = opts.rank(q)
    const at = code === LOG_Q ? dns.arrival(q) : time[q]
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
  // The head opened the transaction: its arrival counts as an event time, even when later.
  const opened = dns.arrival(head)
  s.lastTime[t] = last > opened || Number.isNaN(opened) ? last : opened
  // Without a ranked query copy, the opening row stands (firstQuery is still the head).
  s.firstSent[t] = first >= 0 ? firstTime : opened
  if (first >= 0) s.firstQuery[t] = first
  let resp = s.response[t]
  // An answer counts when it reached the vantage closest to the client that saw the query. One
  // seen only farther on (the server's, the node's) was lost on its way back: the client was
  // never answered, and the hops still show where the answer was last seen.
  let lostReply = -1
  if (resp >= 0 && first >= 0 && opts.rank(resp) > firstRank) {
    lostReply = resp
    resp = s.response[t] = -1
  }
  if (resp < 0) {
    s.rcode[t] = NO_RESPONSE
    s.answerAddrs[t] = -1
    s.responseTime[t] = NaN
    s.latencyUs[t] = NaN
    s.lastSeen[t] = vantage[lostReply >= 0 ? lostReply : farthest >= 0 ? farthest : head]
    return
  }
  s.rcode[t] = dns.rcode[resp]
  s.answerAddrs[t] = dns.answerAddrs[resp]
  s.responseTime[t] = time[resp]
  s.lastSeen[t] = vantage[resp]
  const d = dns.durationUs(resp)
  if (dns.source[resp] === SOURCE.log && !Number.isNaN(d)) s.latencyUs[t] = d
  else {
    // Latency is measured at one vantage so clocks of different hosts never mix.
    let sent = Infinity
    for (let q = head; q >= 0; q = s.next[q])
      if (s.code[q] <= RETX && vantage[q] === vantage[resp] && time[q] < sent) sent = time[q]
    const base = sent !== Infinity ? sent : s.firstSent[t]
    s.latencyUs[t] =
      Number.isNaN(base) || Number.isNaN(time[resp]) ? NaN : Math.max(0, time[resp] - base)
  }
}
