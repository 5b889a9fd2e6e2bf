// The correlator: normalized events in; transactions, lookups, forwarder hops and drop points out.
// Everything here is linear in the number of events apart from one sort by time.
import type { Manifest, Vantage } from '../model/bundle.js'
import type { DnsMessageEvent, DropEvent, FactEvent } from '../model/event.js'
import { DnsTable, SOURCE } from '../model/dns-table.js'
import type { Correlation, ForwarderTransaction, Transaction } from './types.js'
import { RANK_OF_TYPE, rowsByRole, vantageRanker } from './roles.js'
import { pairQueries } from './pair-queries.js'
import { namedReplicas, replicaServers } from './replicas.js'
import { resolverConfig, type ResolverConfig } from './search-list.js'
import { groupLookups } from './group-lookups.js'
import { TransactionColumns } from './transaction-columns.js'
import type { TxnStore } from './txn-store.js'
import { attachDrops } from './drop-points.js'

export interface CorrelateInput {
  /** The DNS messages: a DnsTable, or event objects (tests, small inputs). */
  dns: DnsTable | readonly DnsMessageEvent[]
  drops: DropEvent[]
  facts: FactEvent[]
  manifest?: Manifest
  vantages: Map<string, Vantage>
}

export interface CorrelationStats {
  clientQueries: number
  responses: number
  orphanResponses: number
  resolver: ResolverConfig
}

export function correlate(input: CorrelateInput): Correlation & { stats: CorrelationStats } {
  const dns = input.dns instanceof DnsTable ? input.dns : tableOf(input.dns)
  const cluster = input.manifest?.cluster
  const roles = rowsByRole(dns, input.vantages, [
    ...(cluster?.dnsServiceIps ?? []),
    ...(cluster?.dnsEndpoints ?? []),
  ])
  const rank = vantageRanker(input.vantages, dns)
  const client = sortByArrival(dns, roles.client, roles.logRows, roles.unsorted)
  // Log lines are all clients' (responses).
  const forwarder = sortByArrival(dns, roles.forwarder, false)

  // Replicas of the DNS server (CoreDNS pods' logs): see replicas.ts. The collector names each
  // pod's vantage and addresses; files of unknown place are told apart by what they saw, which
  // takes a first pairing. A capture or two (the benchmark's) has nothing to tell apart.
  const named = namedReplicas(input.vantages, dns.strings)
  let paired = pairQueries(dns, client, { rank, byFirstSent: true, servers: named ?? undefined })
  if (!named && serverCandidates(input.vantages) > 1) {
    const servers = replicaServers(paired.store, rank)
    if (servers) paired = pairQueries(dns, client, { rank, byFirstSent: true, servers })
  }
  const store = paired.store
  const transactions = store.list()

  // The fields lookups are built from, for the search list and the grouping: the store's own.
  const columns = new TransactionColumns(transactions, store)
  const resolver = resolverConfig(input.facts, transactions, columns)
  const lookups = groupLookups(transactions, resolver, columns)
  attachDrops(store, input.drops)

  const fwd = pairQueries(dns, forwarder, { rank })
  const forwarderTxns: ForwarderTransaction[] = fwd.store.views().map((t) => ({
    server: t.client,
    upstream: t.server,
    id: t.id,
    qname: t.qname,
    qtype: t.qtype,
    query: t.queries[0],
    response: t.response,
    latencyUs: t.latencyUs,
  }))

  return {
    transactions,
    lookups,
    forwarder: forwarderTxns,
    dnsServers: roles.dnsServers,
    natPairs: natPairs(store, input.manifest, input.vantages),
    stats: {
      clientQueries: paired.queries,
      responses: paired.responses,
      orphanResponses: paired.orphanResponses,
      resolver,
    },
  }
}

/** Vantages that may be at the DNS server: its own, and those of unknown place (a loose log). */
function serverCandidates(vantages: ReadonlyMap<string, Vantage>): number {
  let n = 0
  for (const v of vantages.values()) if (v.type === 'dns-server' || v.type === 'unknown') n++
  return n
}

function tableOf(events: readonly DnsMessageEvent[]): DnsTable {
  const t = new DnsTable()
  for (const e of events) t.push(e)
  return t
}

/**
 * Sorts rows by the time their query was sent, then by record number: a stable sort, in place
 * when the rows are close to that order already (one capture, one dnstap file). Only
 * `rows[unsorted.from, unsorted.to)` may be out of order: the rows after are in order after
 * all before them (see rowsByRole). `logRows` says whether CoreDNS log rows are among them:
 * only theirs were sent before their time.
 */
export function sortByArrival(
  dns: DnsTable,
  rows: Int32Array,
  logRows: boolean,
  unsorted = { from: 0, to: rows.length },
): Int32Array {
  const { from, to } = unsorted
  if (from === to) return rows
  const ref = dns.ref
  // A capture is in time order but for packets a few µs apart handed over by different CPUs:
  // insertion sort puts those back in a few moves each. Input far from order (files merged
  // without regard to time; CoreDNS log lines, written in order of their replies, at thousands of
  // queries a second) gives up after a budget and takes the general stable sort. Both are
  // stable, so the order is the same either way.
  const budget = 8 * rows.length + 1024
  // Files of several inputs one after another (a pod's capture, then a node's), each in time
  // order on its own: insertion sort would give up at the second, so sort each input's rows
  // and merge them instead, in linear time.
  const inputs = to - from > MANY_UNSORTED ? inputRuns(dns.input, rows) : null
  let keys: Float64Array | null = null
  if (inputs) {
    keys = arrivalKeys(dns, rows)
    const merged = sortAndMerge(keys, ref, rows, inputs, budget)
    if (merged) return merged
  }
  // Without log rows arrival is time: sort on the time column itself, no keys to compute.
  if (!logRows && insertionSort(dns.time, ref, rows, from, to, budget)) return rows
  keys ??= arrivalKeys(dns, rows)
  if (logRows && insertionSort(keys, ref, rows, from, to, budget)) return rows
  return mergeSort(keys, ref, rows)
}

/**
 * Rows sorted by key then record number, stably: a bottom-up merge sort over typed arrays, with
 * runs of MERGE_RUN sorted by insertion first. Its comparisons are inline code, where
 * Array.prototype.sort calls a comparison function each time (2-3× the time on a million rows).
 */
function mergeSort(key: Float64Array, ref: Uint32Array, rows: Int32Array): Int32Array {
  const n = rows.length
  let a = Int32Array.from(rows)
  let b = new Int32Array(n)
  for (let lo = 0; lo < n; lo += MERGE_RUN) {
    const hi = Math.min(lo + MERGE_RUN, n)
    for (let i = lo + 1; i < hi; i++) sink(key, ref, a, i, lo)
  }
  for (let width = MERGE_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n)
      const hi = Math.min(lo + 2 * width, n)
      let i = lo
      let j = mid
      let k = lo
      while (i < mid && j < hi) {
        const x = a[i]
        const y = a[j]
        // The right one goes first only when it is strictly less: equal rows keep their order.
        if (key[y] < key[x] || (key[y] === key[x] && ref[y] < ref[x])) {
          b[k++] = y
          j++
        } else {
          b[k++] = x
          i++
        }
      }
      while (i < mid) b[k++] = a[i++]
      while (j < hi) b[k++] = a[j++]
    }
    const t = a
    a = b
    b = t
  }
  return a
}

/** Rows a merge sort's first pass sorts by insertion. */
const MERGE_RUN = 32

/** Rows out of order beyond which they may be several inputs one after another. */
const MANY_UNSORTED = 4096
/** Inputs merged at most: more take the general sort. */
const MAX_MERGED = 16

/** Keys by row for the sort: arrival (earlier than the time for log rows), NaN times last. */
function arrivalKeys(dns: DnsTable, rows: Int32Array): Float64Array {
  const keys = new Float64Array(dns.length)
  for (let i = 0; i < rows.length; i++) {
    const t = dns.arrival(rows[i])
    keys[rows[i]] = Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t
  }
  return keys
}

/**
 * Where each run of rows of one input starts, and `rows.length` last; null for one input, or
 * more than MAX_MERGED runs.
 */
function inputRuns(input: Uint32Array, rows: Int32Array): number[] | null {
  const starts = [0]
  for (let i = 1; i < rows.length; i++)
    if (input[rows[i]] !== input[rows[i - 1]] && starts.push(i) > MAX_MERGED) return null
  if (starts.length < 2) return null
  starts.push(rows.length)
  return starts
}

/**
 * The stable sort of `rows` by key then record number, made by sorting each run
 * (`starts`) in place by insertion and merging the runs, a tie going to the earlier run; null
 * when a run is too far from order for the budget. Either way `rows` holds the same rows, equal
 * ones still in their first order.
 */
function sortAndMerge(
  key: Float64Array,
  ref: Uint32Array,
  rows: Int32Array,
  starts: number[],
  budget: number,
): Int32Array | null {
  const runs = starts.length - 1
  for (let r = 0; r < runs; r++)
    if (!insertionSort(key, ref, rows, starts[r], starts[r + 1], budget, starts[r])) return null
  const next = starts.slice(0, runs)
  const out = new Int32Array(rows.length)
  for (let o = 0; o < out.length; o++) {
    let best = -1
    for (let r = 0; r < runs; r++) {
      if (next[r] === starts[r + 1]) continue
      if (best < 0) best = r
      else {
        const a = rows[next[r]]
        const b = rows[next[best]]
        if (key[a] < key[b] || (key[a] === key[b] && ref[a] < ref[b])) best = r
      }
    }
    out[o] = rows[next[best]++]
  }
  return out
}

/**
 * Sorts `rows` by `key[row]`, then by record number, stably, when only `rows[from, to)` may be
 * out of order (those after are in order after all before them); stops once it has moved more
 * than `budget` rows, or at a NaN key, and says whether it finished. Either way `rows` holds
 * the same rows, equal ones still in their first order.
 */
function insertionSort(
  key: Float64Array,
  ref: Uint32Array,
  rows: Int32Array,
  from: number,
  to: number,
  budget: number,
  lo = 0,
): boolean {
  // The largest key so far: a row in order (nearly all of them) costs one read and one
  // comparison.
  let last = from > lo ? key[rows[from - 1]] : -Infinity
  let moves = 0
  for (let i = from; i < to; i++) {
    const k = key[rows[i]]
    if (k > last) last = k
    else if (Number.isNaN(k)) return false
    else if ((moves += sink(key, ref, rows, i, lo)) > budget) return false
  }
  return true
}

/**
 * Moves `rows[i]` back to its place among `rows[lo, i)`, sorted by `key[row]` then record
 * number: after those with a smaller key, or the same key and a record number not greater (so
 * equal rows keep their order). Returns how many rows it moved.
 */
function sink(
  key: Float64Array,
  ref: Uint32Array,
  rows: Int32Array,
  i: number,
  lo: number,
): number {
  const row = rows[i]
  const k = key[row]
  const r = ref[row]
  let j = i - 1
  while (j >= lo && (key[rows[j]] > k || (key[rows[j]] === k && ref[rows[j]] > r))) {
    rows[j + 1] = rows[j]
    j--
  }
  rows[j + 1] = row
  return i - 1 - j
}

/**
 * Service IP → endpoints: from the manifest, else from one query seen before and after DNAT.
 * Every transaction seen at several vantages is read here (a pod's and a node's capture: all of
 * them), so its rows are read from the columns, not made into events.
 */
function natPairs(
  store: TxnStore,
  manifest: Manifest | undefined,
  vantages: ReadonlyMap<string, Vantage>,
): Map<string, string[]> {
  const pairs = new Map<string, Set<string>>()
  const add = (svc: string, ep: string) => {
    let s = pairs.get(svc)
    if (!s) pairs.set(svc, (s = new Set()))
    s.add(ep)
  }
  for (const svc of manifest?.cluster?.dnsServiceIps ?? [])
    for (const ep of manifest?.cluster?.dnsEndpoints ?? []) add(svc, ep)
  const { head, next } = store
  const { source, vantage, dstAddr, strings } = store.dns
  const text = strings.text
  // Per string number (of a vantage): its rank, or -1 until first asked.
  const ranks = new Int8Array(store.length > 0 ? text.length : 0).fill(-1)
  const rank = (v: number): number => {
    let r = ranks[v]
    if (r < 0) r = ranks[v] = RANK_OF_TYPE[vantages.get(text[v])?.type ?? 'unknown']
    return r
  }
  // The pair last added (string numbers): most transactions repeat it.
  let lastSvc = -1
  let lastEp = -1
  for (let t = 0; t < store.length; t++) {
    if (!store.seenAtSeveral(t)) continue
    // The query copy captured closest to the client.
    let first = -1
    for (let q = head[t]; q >= 0; q = next[q])
      if (
        store.isQuery(q) &&
        source[q] === SOURCE.capture &&
        (first < 0 || rank(vantage[q]) < rank(vantage[first]))
      )
        first = q
    if (first < 0) continue
    const svc = dstAddr[first]
    for (let q = head[t]; q >= 0; q = next[q]) {
      const ep = dstAddr[q]
      if (!store.isQuery(q) || text[ep] === '' || vantage[q] === vantage[first] || ep === svc)
        continue
      if (svc === lastSvc && ep === lastEp) continue
      add(text[svc], text[ep])
      lastSvc = svc
      lastEp = ep
    }
  }
  return new Map([...pairs].map(([k, v]) => [k, [...v]]))
}

export type { Transaction }
