// Questions several rules (and the verdict) ask of the correlator's transactions: was it answered,
// did it fail, did it reach the DNS server; and the per-second view that relates failures to load.
import type { VantageType } from '../model/bundle.js'
import type { DropEvent, Event } from '../model/event.js'
import type { Lookup, Transaction } from '../correlate/types.js'
import {
  OUTCOMES,
  type LookupKeys,
  lookupColumnsOf,
  lookupKeysOf,
} from '../correlate/group-lookups.js'
import type { RuleContext } from './rule.js'
import { select } from '../metrics/select.js'
import { StringPool } from '../model/dns-table.js'
import { NO_RESPONSE, TxnStore } from '../correlate/txn-store.js'

/** Most events a rule hands on as evidence; the report shows fewer and counts the rest. */
export const EVIDENCE_CAP = 50

/** The rcode the client got, or null when it got nothing (CoreDNS logs `-` as rcode -1). */
export function clientRcode(t: Transaction): number | null {
  const rc = t.rcode
  return rc !== null && rc >= 0 ? rc : null
}

/** No answer at all, SERVFAIL or REFUSED: what a client experiences as DNS failing. */
export function isFailed(t: Transaction): boolean {
  const rc = clientRcode(t)
  return rc === null || rc === 2 || rc === 5
}

export function vantageTypes(ctx: RuleContext): Map<string, VantageType> {
  return new Map(ctx.vantages.map((v) => [v.id, v.type]))
}

/** Some record shows the DNS server got the query: its own vantage, dnstap or its log, or a reply. */
export function reachedServer(t: Transaction, types: Map<string, VantageType>): boolean {
  for (const h of t.hops) {
    const type = types.get(h.vantage)
    if (type === 'dns-server' || type === 'upstream') return true
    if (h.event.source !== 'capture' || h.event.qr) return true
  }
  return false
}

/** The server (or a hop after it) sent a reply that never reached the client. */
export function replyLost(t: Transaction): boolean {
  return !t.answered && t.hops.some((h) => h.event.qr)
}

export function touchesDnsPort(d: DropEvent, dnsAddrs: ReadonlySet<string>): boolean {
  return d.dstPort === 53 || d.srcPort === 53 || dnsAddrs.has(d.dstAddr) || dnsAddrs.has(d.srcAddr)
}

/** Every address that acts as cluster DNS: servers the correlator saw answer, and the manifest's. */
export function dnsAddresses(ctx: RuleContext): Set<string> {
  const s = new Set(ctx.correlation.dnsServers)
  for (const ip of ctx.manifest?.cluster?.dnsServiceIps ?? []) s.add(ip)
  for (const ip of ctx.manifest?.cluster?.dnsEndpoints ?? []) s.add(ip)
  return s
}

/**
 * What the rules ask of every transaction, read in one pass over them (each transaction and its
 * response touched once) into typed arrays, with names and clients numbered: the rules then loop
 * over numbers, and go back to a transaction only for the few they cite. Computed once per
 * analysis and shared (the verdict reads it too).
 */
export interface TxFacts {
  n: number
  qtype: Uint16Array
  /** The client's rcode (clientRcode), or -1 when it got none. */
  rcode: Int16Array
  /** The response's answerAddrs (-1 without a response). */
  answerAddrs: Int32Array
  /** When the first query was sent (µs). */
  firstSent: Float64Array
  /**
   * Whether every first send is a time and none comes before the previous one (the correlator
   * sorts its transactions so): each second's transactions are then a run of rows.
   */
  inTimeOrder: boolean
  /** latencyUs where flags has TIMED, NaN elsewhere. */
  latencyUs: Float64Array
  /** Whether some TIMED latency is NaN (never from the store: it has TIMED only for numbers). */
  timedNaN: boolean
  /** HAS_RESPONSE, and TIMED when it also has a latency (TIMED is left unset without a response). */
  flags: Uint8Array
  /** Index of the qname in `names`. */
  name: Indices
  names: string[]
  /** How many transactions have each name (by index in `names`). */
  nameRows: Int32Array
  /** Index of the client in `clients`. */
  client: Indices
  clients: string[]
  /** Index of each client's first transaction. */
  clientFirst: number[]
  /**
   * The transactions that failed (isFailed: no rcode, SERVFAIL or REFUSED), in order: few, so the
   * rules that look at failures loop over them rather than over every transaction.
   */
  failed: number[]
  /**
   * The transactions whose latency no per-second median counts (no response, no rcode or no
   * latency), in order: few, so the latencies between them are copied a run at a time.
   */
  untimed: number[]
}

/**
 * Indices into a list, one per transaction, in the narrowest array that holds them all: up to
 * 65536 entries (names and clients mostly number in the thousands), two bytes each rather than
 * four, half the memory the pass that fills them and the loops that read them go through.
 */
export type Indices = Uint16Array | Int32Array

/** A column of n indices into a list of up to `most` entries. */
function indices(n: number, most: number): Indices {
  return most <= 0x10000 ? new Uint16Array(n) : new Int32Array(n)
}

/** `a`, narrowed when its indices are into a list of `count` entries after all. */
function narrowed(a: Indices, count: number): Indices {
  return a instanceof Int32Array && count <= 0x10000 ? Uint16Array.from(a) : a
}

/** flags: the transaction has a response (maybe without an rcode: a CoreDNS log's `-`). */
export const HAS_RESPONSE = 1
/** flags: latencyUs is not null. */
export const TIMED = 2

const factsCache = new WeakMap<readonly Transaction[], TxFacts>()

/** The per-transaction facts of these transactions, computed once per analysis. */
export function txFacts(transactions: readonly Transaction[]): TxFacts {
  let f = factsCache.get(transactions)
  if (!f || f.n !== transactions.length) {
    const store = TxnStore.of(transactions)
    f = store ? factsOfStore(store) : factsOf(transactions)
    factsCache.set(transactions, f)
  }
  return f
}

function factsOf(tx: readonly Transaction[]): TxFacts {
  const n = tx.length
  const qtype = new Uint16Array(n)
  const rcode = new Int16Array(n)
  const answerAddrs = new Int32Array(n)
  const firstSent = new Float64Array(n)
  const latencyUs = new Float64Array(n).fill(NaN)
  const flags = new Uint8Array(n)
  const name = new Int32Array(n)
  const client = new Int32Array(n)
  const names = new StringPool()
  const clients = new StringPool()
  const clientFirst: number[] = []
  const failed: number[] = []
  const untimed: number[] = []
  let lastName: string | undefined
  let lastNameId = -1
  let lastClient: string | undefined
  let lastClientId = -1
  let timedNaN = false
  let ordered = true
  for (let i = 0; i < n; i++) {
    const t = tx[i]
    const rc = t.rcode
    if (rc !== null) {
      rcode[i] = rc >= 0 ? rc : -1
      answerAddrs[i] = t.answerAddrs
      // Latency counts only with a response (buckets, slowest): unread without one.
      const lat = t.latencyUs
      if (lat !== null) {
        flags[i] = HAS_RESPONSE | TIMED
        latencyUs[i] = lat
        if (lat !== lat) timedNaN = true
      } else flags[i] = HAS_RESPONSE
    } else {
      rcode[i] = -1
      answerAddrs[i] = -1
    }
    if (isFailed(t)) failed.push(i)
    if (rcode[i] === -1 || !(flags[i] & TIMED)) untimed.push(i)
    firstSent[i] = t.firstSent
    if (i > 0 && !(firstSent[i] >= firstSent[i - 1])) ordered = false
    qtype[i] = t.qtype
    // Neighbours often share a name and a client: the last number is reused without a lookup.
    const q = t.qname
    if (q !== lastName || lastNameId < 0) {
      lastName = q
      lastNameId = names.id(q)
    }
    name[i] = lastNameId
    const c = t.client
    if (c !== lastClient || lastClientId < 0) {
      const known = clients.size
      lastClient = c
      lastClientId = clients.id(c)
      if (lastClientId === known) clientFirst.push(i)
    }
    client[i] = lastClientId
  }
  return {
    n,
    qtype,
    rcode,
    answerAddrs,
    firstSent,
    inTimeOrder: finiteAndOrdered(ordered, firstSent),
    latencyUs,
    timedNaN,
    flags,
    name: narrowed(name, names.size),
    names: names.text,
    nameRows: rowsPerName(name, names.size),
    client: narrowed(client, clients.size),
    clients: clients.text,
    clientFirst,
    failed,
    untimed,
  }
}

/**
 * factsOf, read from the store's columns: what its views' getters would say, without a call per
 * field. One pass numbers each row's rcode, name and client, counts the rows of each name, lists
 * the failed and untimed ones and checks the time order.
 */
function factsOfStore(s: TxnStore): TxFacts {
  const n = s.length
  const text = s.dns.strings.text
  const { rcode: rc, latencyUs: lat, qname, client: clientCol } = s
  const firstSent = s.firstSent.subarray(0, n)
  const rcode = new Int16Array(n)
  const flags = new Uint8Array(n)
  const failed: number[] = []
  const untimed: number[] = []
  // Names and clients are string numbers into `text`: numbered anew from 0 in order of first
  // sight, as a StringPool would number the strings themselves (distinct numbers are distinct
  // strings). There are no more names than strings: rows are counted per name as they come.
  const nameOf = new Int32Array(text.length).fill(-1)
  const name = indices(n, text.length)
  const names: string[] = []
  const nameRows = new Int32Array(text.length)
  const clientOf = new Int32Array(text.length).fill(-1)
  const client = indices(n, text.length)
  const clients: string[] = []
  const clientFirst: number[] = []
  let ordered = true
  for (let i = 0; i < n; i++) {
    if (i > 0 && !(firstSent[i] >= firstSent[i - 1])) ordered = false
    const r = rc[i]
    // Read once: until this loop is optimized, every read is a call.
    const latency = lat[i]
    let code = -1
    if (r !== NO_RESPONSE) {
      if (r >= 0) code = r
      flags[i] = latency === latency ? HAS_RESPONSE | TIMED : HAS_RESPONSE
    }
    rcode[i] = code
    // isFailed: no rcode, SERVFAIL or REFUSED.
    if (code === -1 || code === 2 || code === 5) failed.push(i)
    if (code === -1 || latency !== latency) untimed.push(i)
    const q = qname[i]
    let k = nameOf[q]
    if (k < 0) {
      nameOf[q] = k = names.length
      names.push(text[q])
    }
    name[i] = k
    nameRows[k]++
    const c = clientCol[i]
    let m = clientOf[c]
    if (m < 0) {
      clientOf[c] = m = clients.length
      clients.push(text[c])
      clientFirst.push(i)
    }
    client[i] = m
  }
  // The store is settled (its columns no longer change): the columns that need no translation
  // are views of its own, not copies.
  return {
    n,
    qtype: s.qtype.subarray(0, n),
    rcode,
    // -1 without a response, as factsOf has it.
    answerAddrs: s.answerAddrs.subarray(0, n),
    firstSent,
    inTimeOrder: finiteAndOrdered(ordered, firstSent),
    // NaN without a response, as without a latency (the correlator measures one only then).
    latencyUs: lat.subarray(0, n),
    timedNaN: false,
    flags,
    name: narrowed(name, names.length),
    names,
    nameRows: nameRows.subarray(0, names.length),
    client: narrowed(client, clients.length),
    clients,
    clientFirst,
    failed,
    untimed,
  }
}

/**
 * Whether every first send is a finite time, given whether none came before the previous one
 * (which a NaN breaks: comparisons with it are false): then both ends are finite.
 */
function finiteAndOrdered(ordered: boolean, firstSent: Float64Array): boolean {
  const n = firstSent.length
  return (
    ordered && (n === 0 || (Number.isFinite(firstSent[0]) && Number.isFinite(firstSent[n - 1])))
  )
}

/** How many rows have each of `count` names. */
function rowsPerName(name: Indices, count: number): Int32Array {
  const rows = new Int32Array(count)
  for (let i = 0; i < name.length; i++) rows[name[i]]++
  return rows
}

/** LookupFacts outcomes: indices in the correlator's OUTCOMES. */
export const OUTCOME_ADDRESS = OUTCOMES.indexOf('address')
export const OUTCOME_NXDOMAIN = OUTCOMES.indexOf('nxdomain')

/** What the rules ask of every lookup. */
export interface LookupFacts {
  n: number
  /** Index of the lookup's outcome in OUTCOMES. */
  outcome: Uint8Array
  wasted: Int32Array | Float64Array
  /** How many lookups ended with each outcome (by index in OUTCOMES). */
  outcomes: Int32Array
  /** How many lookups wasted queries (wasted > 0). */
  wasting: number
}

const lookupCache = new WeakMap<readonly Lookup[], LookupFacts>()

export function lookupFacts(lookups: readonly Lookup[]): LookupFacts {
  let f = lookupCache.get(lookups)
  if (!f || f.n !== lookups.length) {
    const n = lookups.length
    const columns = lookupColumnsOf(lookups)
    let outcome: Uint8Array
    let wasted: Int32Array | Float64Array
    if (columns) {
      // The correlator's lookups are settled: their own columns, without making a lookup object.
      outcome = columns.outcome.subarray(0, n)
      wasted = columns.wasted.subarray(0, n)
    } else {
      outcome = new Uint8Array(n)
      wasted = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const l = lookups[i]
        outcome[i] = OUTCOMES.indexOf(l.outcome)
        wasted[i] = l.wasted
      }
    }
    // Counted once, in one pass, for the rules that ask how many (most ask no more). A counter
    // for each byte value: an outcome OUTCOMES does not know is 255 (indexOf's -1 as a byte).
    const outcomes = new Int32Array(256)
    let wasting = 0
    for (let i = 0; i < n; i++) {
      outcomes[outcome[i]]++
      if (wasted[i] > 0) wasting++
    }
    f = { n, outcome, wasted, outcomes, wasting }
    lookupCache.set(lookups, f)
  }
  return f
}

/**
 * Each lookup's name and client as numbers (the same for the same string) and the strings of the
 * numbers: the correlator's own, or pools made from the lookups' fields for any other list.
 */
export function lookupKeys(lookups: readonly Lookup[]): LookupKeys {
  const own = lookupKeysOf(lookups)
  if (own) return own
  const names = new StringPool()
  const clients = new StringPool()
  const name = Int32Array.from(lookups, (l) => names.id(l.name))
  const client = Int32Array.from(lookups, (l) => clients.id(l.client))
  return {
    name: (i) => name[i],
    nameText: (id) => names.text[id],
    client: (i) => client[i],
    clientText: (id) => clients.text[id],
  }
}

/**
 * Counts of numbered keys, in order of first sight, as counts by the keys' strings (numbers that
 * stand for one string add up), still in order of first sight.
 */
export function countsByText(
  counts: ReadonlyMap<number, number>,
  text: (id: number) => string,
): Map<string, number> {
  const out = new Map<string, number>()
  for (const [id, n] of counts) {
    const key = text(id)
    out.set(key, (out.get(key) ?? 0) + n)
  }
  return out
}

/** Adds one to the count of `key`. */
export function bump(counts: Map<number, number>, key: number): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/** Per numbered name, memoized: `fn(name)` for the facts' names, computed on first ask. */
export function perName(f: TxFacts, fn: (name: string) => boolean): (id: number) => boolean {
  const memo = new Int8Array(f.names.length).fill(-1)
  return (id) => {
    let v = memo[id]
    if (v < 0) memo[id] = v = fn(f.names[id]) ? 1 : 0
    return v === 1
  }
}

export interface SecondBucket {
  second: number
  load: number
  failed: number
  /** Transactions with a latency and an rcode: those whose latency the median is taken of. */
  timed: number
}

interface SecondView {
  buckets: SecondBucket[]
  /** Latencies grouped by bucket: bucket b's are latencies[start[b] .. start[b + 1]). */
  latencies: Float64Array
  start: Int32Array
  /** False when no latency is NaN (the store's facts: TIMED is set only where it is a number). */
  mayHoldNaN: boolean
  medians: Float64Array | null
}

const perSecondCache = new WeakMap<TxFacts, SecondView>()

function secondView(transactions: readonly Transaction[]): SecondView {
  const f = txFacts(transactions)
  let v = perSecondCache.get(f)
  if (!v) perSecondCache.set(f, (v = bucketsOf(f)))
  return v
}

/**
 * Client transactions per second of their first send (timed transactions only), in time order;
 * computed once per analysis, shared by the rules.
 */
export function perSecond(transactions: readonly Transaction[]): SecondBucket[] {
  return secondView(transactions).buckets
}

/** Median latency (µs) of each perSecond bucket's answered transactions; NaN where none. */
export function bucketMedianLatencies(transactions: readonly Transaction[]): Float64Array {
  const v = secondView(transactions)
  if (!v.medians) {
    const m = new Float64Array(v.buckets.length)
    for (let b = 0; b < m.length; b++)
      m[b] = medianInPlace(v.latencies, v.start[b], v.start[b + 1], v.mayHoldNaN)
    v.medians = m
  }
  return v.medians
}

/**
 * The latencies the per-second buckets hold, for the caller to reorder as it likes, once nothing
 * reads them by bucket any more: after the buckets' medians are taken (kept, not taken again).
 * Null before then, and when some may be NaN (an order-dependent percentile).
 */
export function spareBucketLatencies(transactions: readonly Transaction[]): Float64Array | null {
  const v = perSecondCache.get(txFacts(transactions))
  return v?.medians && !v.mayHoldNaN ? v.latencies : null
}

function bucketsOf(f: TxFacts): SecondView {
  return f.inTimeOrder ? bucketsInTimeOrder(f) : bucketsByNumber(f)
}

/**
 * bucketsOf for transactions in time order: each second's transactions are a run of rows, found
 * by a search and counted from the lists of failed and untimed ones; no pass over every row.
 */
function bucketsInTimeOrder(f: TxFacts): SecondView {
  const { n, firstSent, latencyUs, failed, untimed } = f
  // The latencies between untimed rows, grouped by bucket in bucket order as the rows are.
  const latencies = new Float64Array(n - untimed.length)
  let copied = 0
  let from = 0
  for (const u of untimed) {
    latencies.set(latencyUs.subarray(from, u), copied)
    copied += u - from
    from = u + 1
  }
  latencies.set(latencyUs.subarray(from, n), copied)
  const buckets: SecondBucket[] = []
  const start = [0]
  let failedBefore = 0
  let untimedBefore = 0
  for (let lo = 0; lo < n;) {
    const second = Math.floor(firstSent[lo] / 1e6)
    const hi = endOfSecond(firstSent, lo, second)
    const failedFrom = failedBefore
    while (failedBefore < failed.length && failed[failedBefore] < hi) failedBefore++
    const untimedFrom = untimedBefore
    while (untimedBefore < untimed.length && untimed[untimedBefore] < hi) untimedBefore++
    const timed = hi - lo - (untimedBefore - untimedFrom)
    buckets.push({ second, load: hi - lo, failed: failedBefore - failedFrom, timed })
    start.push(start[start.length - 1] + timed)
    lo = hi
  }
  return {
    buckets,
    latencies,
    start: Int32Array.from(start),
    mayHoldNaN: f.timedNaN,
    medians: null,
  }
}

/**
 * The row after the run of `second`'s rows that starts at `lo` (rows in time order). The run is
 * crossed in steps that double, then halve: many short seconds cost no more than one pass.
 */
function endOfSecond(firstSent: Float64Array, lo: number, second: number): number {
  const n = firstSent.length
  let inside = lo
  let step = 1
  while (inside + step < n && Math.floor(firstSent[inside + step] / 1e6) === second) {
    inside += step
    step *= 2
  }
  let past = Math.min(inside + step, n)
  while (past - inside > 1) {
    const mid = (inside + past) >>> 1
    if (Math.floor(firstSent[mid] / 1e6) === second) inside = mid
    else past = mid
  }
  return past
}

/**
 * bucketsOf in any order: seconds numbered in order of first sight and counted by number, then
 * put in time order, and the latencies grouped by bucket.
 */
function bucketsByNumber(f: TxFacts): SecondView {
  const { n, firstSent, flags, rcode, latencyUs } = f
  const ids = new Map<number, number>()
  const seconds: number[] = []
  const load: number[] = []
  const failed: number[] = []
  const timed: number[] = []
  // Each row's second by number; -1 when its first send is not a finite time.
  const second = new Int32Array(n).fill(-1)
  for (let i = 0; i < n; i++) {
    const fs = firstSent[i]
    if (!Number.isFinite(fs)) continue
    const sec = Math.floor(fs / 1e6)
    let s = ids.get(sec)
    if (s === undefined) {
      ids.set(sec, (s = seconds.length))
      seconds.push(sec)
      load.push(0)
      failed.push(0)
      timed.push(0)
    }
    second[i] = s
    const rc = rcode[i]
    load[s]++
    if (rc === -1 || rc === 2 || rc === 5) failed[s]++
    if (flags[i] & TIMED && rc !== -1) timed[s]++
  }
  const nb = seconds.length
  const order = seconds.map((_, s) => s).sort((a, b) => seconds[a] - seconds[b])
  const start = new Int32Array(nb + 1)
  // Where the next latency of each second number goes.
  const at = new Int32Array(nb)
  for (let b = 0; b < nb; b++) {
    at[order[b]] = start[b]
    start[b + 1] = start[b] + timed[order[b]]
  }
  const latencies = new Float64Array(start[nb])
  for (let i = 0; i < n; i++) {
    const s = second[i]
    if (s >= 0 && flags[i] & TIMED && rcode[i] !== -1) latencies[at[s]++] = latencyUs[i]
  }
  const buckets: SecondBucket[] = order.map((s) => ({
    second: seconds[s],
    load: load[s],
    failed: failed[s],
    timed: timed[s],
  }))
  return { buckets, latencies, start, mayHoldNaN: f.timedNaN, medians: null }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = Float64Array.from(xs).sort()
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * The median of a[lo..hi), as `median` computes it (sorted order), by selection: reorders that
 * range of `a`. Falls back to sorting when the range holds NaN (sorted last); `mayHoldNaN` false
 * says it holds none, sparing the search.
 */
export function medianInPlace(a: Float64Array, lo: number, hi: number, mayHoldNaN = true): number {
  const len = hi - lo
  if (len <= 0) return NaN
  for (let i = lo; mayHoldNaN && i < hi; i++)
    if (a[i] !== a[i]) {
      const s = a.subarray(lo, hi).sort()
      const m = len >> 1
      return len % 2 ? s[m] : (s[m - 1] + s[m]) / 2
    }
  const k = lo + (len >> 1)
  select(a, lo, hi - 1, k)
  if (len % 2) return a[k]
  // After selection everything before k is ≤ a[k]: the largest of them is the lower middle,
  // selected there too. A loop for the largest would be a second loop for a cold run to optimize.
  select(a, lo, k - 1, k - 1)
  return (a[k - 1] + a[k]) / 2
}

/** Spearman rank correlation, -1..1; NaN with fewer than 3 points or no variation. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length)
  if (n < 3) return NaN
  const rx = ranks(xs.slice(0, n))
  const ry = ranks(ys.slice(0, n))
  const mx = rx.reduce((a, b) => a + b, 0) / n
  const my = ry.reduce((a, b) => a + b, 0) / n
  let num = 0
  let dx = 0
  let dy = 0
  for (let i = 0; i < n; i++) {
    num += (rx[i] - mx) * (ry[i] - my)
    dx += (rx[i] - mx) ** 2
    dy += (ry[i] - my) ** 2
  }
  return dx === 0 || dy === 0 ? NaN : num / Math.sqrt(dx * dy)
}

function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0])
  const r = new Array<number>(xs.length)
  for (let i = 0; i < idx.length;) {
    let j = i
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++
    for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2
    i = j + 1
  }
  return r
}

/** Counts by key, largest first, at most `limit` entries. */
export function topCounts(keys: Iterable<string>, limit = 10): { key: string; count: number }[] {
  const m = new Map<string, number>()
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1)
  return topOfCounts(m, limit)
}

/** topCounts of keys counted already, in order of first sight. */
export function topOfCounts(
  counts: ReadonlyMap<string, number>,
  limit = 10,
): { key: string; count: number }[] {
  const top: { key: string; count: number }[] = []
  for (const [key, count] of counts) pushTop(top, key, count, limit)
  return top
}

/**
 * topCounts over numbered keys: `counts[i]` occurrences of `keys[i]` (zeros left out). Keys must be
 * distinct.
 */
export function topCountsOf(
  keys: readonly string[],
  counts: ArrayLike<number>,
  limit = 10,
): { key: string; count: number }[] {
  const top: { key: string; count: number }[] = []
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) pushTop(top, keys[i], counts[i], limit)
  return top
}

/** Keeps `top` the `limit` largest counts, ties by key (distinct keys: a total order). */
function pushTop(
  top: { key: string; count: number }[],
  key: string,
  count: number,
  limit: number,
): void {
  if (limit <= 0) return
  const before = (a: { key: string; count: number }) =>
    count > a.count || (count === a.count && key < a.key)
  if (top.length >= limit && !before(top[top.length - 1])) return
  let at = top.length
  while (at > 0 && before(top[at - 1])) at--
  top.splice(at, 0, { key, count })
  if (top.length > limit) top.pop()
}

/**
 * A list of evidence candidates: an array, or events made on demand (`lazyEvents`), so a rule can
 * offer thousands of transactions without reading each one's events.
 */
export interface EvidenceGroup {
  readonly length: number
  at(i: number): Event | null | undefined
}

/** The events `pick` gives for the transactions at `indices`, read only when asked for. */
export function lazyEvents(
  transactions: readonly Transaction[],
  indices: ArrayLike<number>,
  pick: (t: Transaction) => Event | null | undefined,
): EvidenceGroup {
  return { length: indices.length, at: (i) => pick(transactions[indices[i]]) }
}

/** Distinct events in order, at most EVIDENCE_CAP. */
export function evidenceList(...groups: EvidenceGroup[]): Event[] {
  const out: Event[] = []
  const seen = new Set<Event | string>()
  for (const g of groups)
    for (let i = 0; i < g.length; i++) {
      const e = g.at(i)
      if (!e || seen.has(identity(e))) continue
      seen.add(identity(e))
      out.push(e)
      if (out.length >= EVIDENCE_CAP) return out
    }
  return out
}

/**
 * Distinct events taking one from each group in turn, so the first few shown (the report shows
 * ten) cover every kind of evidence a finding rests on. At most EVIDENCE_CAP.
 */
export function evidenceMix(...groups: EvidenceGroup[]): Event[] {
  const out: Event[] = []
  const seen = new Set<Event | string>()
  const at = groups.map(() => 0)
  for (let progressed = true; progressed && out.length < EVIDENCE_CAP;) {
    progressed = false
    groups.forEach((g, i) => {
      while (at[i] < g.length) {
        const e = g.at(at[i]++)
        if (!e || seen.has(identity(e))) continue
        seen.add(identity(e))
        if (out.length < EVIDENCE_CAP) out.push(e)
        progressed = true
        break
      }
    })
  }
  return out
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/**
 * What makes two evidence events the same: a DNS message is built anew from its row each time it
 * is read, so it is known by where it came from; other events by the object itself.
 */
function identity(e: Event): Event | string {
  return e.kind === 'dns'
    ? `${e.input}|${e.ref}|${e.offset}|${e.id}|${e.qr ? 1 : 0}|${e.qname}|${e.qtype}|${e.dnstapType ?? ''}`
    : e
}
