// The resolver's search list, from resolv.conf when the bundle has it, otherwise inferred from
// the queries: search-list candidates of one name share their leading labels and differ only in
// the suffix (www.aliyun.com.default.svc.cluster.local. then www.aliyun.com.svc.cluster.local.).
import type { FactEvent } from '../model/event.js'
import type { Transaction } from './types.js'
import { TransactionColumns } from './transaction-columns.js'
import { factsOf } from '../model/facts.js'

export interface ResolverConfig {
  /** Search domains, lower-case with trailing dot, in resolv.conf order. */
  search: string[]
  ndots: number
  timeoutSec: number
  attempts: number
  /** Where it came from: 'resolv.conf' or 'inferred'. */
  source: 'resolv.conf' | 'inferred' | 'default'
}

/** glibc defaults (resolv.conf(5)): ndots 1, timeout 5 s, attempts 2. */
export const GLIBC_DEFAULTS = { ndots: 1, timeoutSec: 5, attempts: 2 }
/** What kubelet writes for ClusterFirst pods. */
export const KUBERNETES_NDOTS = 5

/** Builds the resolver config: the bundle's resolv.conf files, else inference from the queries. */
export function resolverConfig(
  facts: readonly FactEvent[],
  txns: readonly Transaction[],
  columns?: TransactionColumns,
): ResolverConfig {
  const confs = factsOf(facts, 'resolv-conf').map((e) => e.fact)
  if (confs.length > 0) {
    const search: string[] = []
    for (const c of confs) for (const s of c.search) addDomain(search, s)
    return {
      search,
      ndots: Math.max(...confs.map((c) => c.ndots)),
      timeoutSec: Math.max(...confs.map((c) => c.timeout)),
      attempts: Math.max(...confs.map((c) => c.attempts)),
      source: 'resolv.conf',
    }
  }
  const search = inferSearchList(txns, columns)
  const kube = search.some((s) => /(^|\.)svc\./.test(s))
  return {
    search,
    ndots: kube ? KUBERNETES_NDOTS : GLIBC_DEFAULTS.ndots,
    timeoutSec: GLIBC_DEFAULTS.timeoutSec,
    attempts: GLIBC_DEFAULTS.attempts,
    source: search.length ? 'inferred' : 'default',
  }
}

function addDomain(list: string[], domain: string): void {
  const d = domain.toLowerCase().replace(/\.?$/, '.')
  if (d !== '.' && !list.includes(d)) list.push(d)
}

/**
 * Votes for suffixes that differ between consecutive queries of one client which share their
 * leading labels. A Kubernetes-shaped suffix (ns.svc.D, svc.D, D) needs one vote; any other
 * needs two different names behind it. `columns`: the transactions already read (the lookup
 * grouping reads them too).
 */
export function inferSearchList(
  txns: readonly Transaction[],
  columns = new TransactionColumns(txns),
): string[] {
  const votes = new Map<string, Set<string>>()
  // The search list shows in the first lookups of any capture; a million more add nothing.
  const n = Math.min(txns.length, INFER_SAMPLE)
  // The columns from locals, not `columns` each time round: this loop runs once per analysis,
  // mostly before it is optimized.
  const { text: names, client, qname, sent } = columns
  // The previous query of each client: its name and send time, by client number.
  const prev = new Int32Array(names.length).fill(-1)
  const prevSent = new Float64Array(prev.length)
  // The pairs of names that voted (a * names.length + b): a pair votes the same each time, and
  // a capture asks the same names in turn over and over.
  const voted = new Set<number>()
  for (let i = 0; i < n; i++) {
    const c = client[i]
    const a = prev[c]
    const b = qname[i]
    const bSent = sent[i]
    const aSent = prevSent[c]
    prev[c] = b
    prevSent[c] = bSent
    if (a < 0 || a === b || Math.abs(bSent - aSent) > 10_000_000) continue
    // The leading labels both names share, compared in place, here rather than in a call: most
    // consecutive names (a load generator's) share none, and this loop runs for most queries.
    const x = names[a]
    const y = names[b]
    const length = Math.min(x.length, y.length)
    let cut = -1
    for (let k = 0; k < length; k++) {
      const ch = x.charCodeAt(k)
      if (ch !== y.charCodeAt(k)) break
      if (ch === 46 && k > 0 && x.charCodeAt(k - 1) !== 92) cut = k
    }
    if (cut > 0 && !voted.has(a * names.length + b)) {
      voted.add(a * names.length + b)
      vote(votes, x, y, cut)
    }
  }
  const clusterDomains = new Set<string>()
  for (const s of votes.keys()) {
    const m = /(?:^|\.)svc\.(.+)$/.exec(s)
    if (m) clusterDomains.add(m[1])
  }
  // A cluster name expanded once more (svc-a.ns.svc.cluster.local.svc.cluster.local.) shows a
  // search domain by itself: the application asked for a cluster name with fewer than ndots dots.
  // Each distinct name is read once, in order of first sight; most captures have no cluster
  // name at all, and then the distinct names need not be listed.
  if (names.some((name) => name.indexOf('.svc.', 1) >= 0))
    for (const id of columns.qnames) expandedOnce(votes, clusterDomains, names[id])
  const accepted: { suffix: string; order: number }[] = []
  for (const [suffix, bases] of votes) {
    const m = /^(?:([^.]+)\.)?svc\.(.+)$/.exec(suffix)
    const kube = (m && clusterDomains.has(m[2])) || clusterDomains.has(suffix)
    if (bases.size >= 2 || kube) accepted.push({ suffix, order: -suffix.split('.').length })
  }
  // Kubernetes order: the longest (namespace) domain first, as kubelet writes it.
  return accepted.sort((x, y) => x.order - y.order).map((a) => a.suffix)
}

/**
 * One client asked `a`, then `b`, which share their labels up to `cut` (a dot): a vote for each
 * one's suffix after them.
 */
function vote(votes: Map<string, Set<string>>, a: string, b: string, cut: number): void {
  const base = a.slice(0, cut)
  for (const name of [a, b]) {
    const suffix = name.slice(cut + 1)
    if (suffix === '') continue
    let set = votes.get(suffix)
    if (!set) votes.set(suffix, (set = new Set()))
    set.add(base)
  }
}

/** A qname that is a cluster name with a search domain appended: a vote for that domain. */
function expandedOnce(
  votes: Map<string, Set<string>>,
  clusterDomains: Set<string>,
  qname: string,
): void {
  // Only a name with ".svc." past its first character can match.
  if (qname.indexOf('.svc.', 1) < 0) return
  const m = /^(.+?\.svc\.([^.]+(?:\.[^.]+)*?)\.)((?:[^.]+\.)?svc\.\2\.|\2\.)$/.exec(qname)
  if (!m) return
  clusterDomains.add(m[2] + '.')
  let set = votes.get(m[3])
  if (!set) votes.set(m[3], (set = new Set()))
  set.add(m[1])
}

/** How many transactions (from the start) the search-list inference reads. */
export const INFER_SAMPLE = 100_000

/** glibc's candidate order for `name` (no trailing dot) under a search list and ndots. */
export function candidatesOf(name: string, cfg: ResolverConfig): string[] {
  const abs = name + '.'
  const dots = name.split('.').length - 1
  const expanded = cfg.search.map((s) => `${name}.${s}`)
  return dots >= cfg.ndots ? [abs, ...expanded] : [...expanded, abs]
}

/** `name` without its trailing dot, if it has one. */
export function withoutRoot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name
}

/** Every name an application could have asked for that would produce `qname` as a candidate. */
export function possibleBases(qname: string, search: readonly string[]): string[] {
  const bases = [withoutRoot(qname)]
  for (const s of search) {
    if (qname.length > s.length + 1 && qname.endsWith('.' + s))
      bases.push(qname.slice(0, qname.length - s.length - 1))
  }
  return bases
}
