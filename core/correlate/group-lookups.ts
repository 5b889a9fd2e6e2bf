// Groups wire transactions into the application lookups that caused them (glibc and musl):
// one getaddrinfo() walks the search-list candidates of a name, asking A and AAAA for each
// (in parallel on one socket, or one after the other with single-request), retrying on timeout,
// until a candidate yields an address or the list runs out.
import type { Lookup, LookupOutcome, Transaction } from './types.js'
import { RCODE } from '../codec/dns-constants.js'
import { type ResolverConfig, candidatesOf, possibleBases } from './search-list.js'
import { Interner, PairTable } from './pair-table.js'

const A = 1
const AAAA = 28

/** A lookup and, while grouping, what it takes to decide whether the next question is its own. */
class GroupedLookup implements Lookup {
  name = ''
  transactions: number[] = []
  outcome: LookupOutcome = 'other'
  wasted = 0
  start: number
  end: number
  answeredName: string | null = null
  /** Ids of the names the application may have asked, narrowed by every question added. */
  bases: number[]
  lastActivity: number

  constructor(
    readonly client: string,
    readonly index: number,
    bases: number[],
    time: number,
  ) {
    this.bases = bases
    this.start = this.end = this.lastActivity = time
  }
}

/** Transactions must be sorted by firstSent. Sets each transaction's `lookup` index. */
export function groupLookups(txns: readonly Transaction[], cfg: ResolverConfig): Lookup[] {
  // A lookup goes quiet for at most one full retry round between candidates.
  const gapUs = (cfg.timeoutSec * cfg.attempts + 1) * 1_000_000
  // The open lookup of each (client, possible application name): lookups are found by name.
  // Clients and names are numbered so the index is a flat table, not a million key strings.
  const openByBase = new PairTable(txns.length)
  const clients = new Interner()
  const names = new Interner()
  const lookups: GroupedLookup[] = []
  const basesOf = memo((qname: string) => possibleBases(qname, cfg.search))
  const baseIdsOf = memo((qname: string) => basesOf(qname).map((b) => names.id(b)))

  for (let i = 0; i < txns.length; i++) {
    const t = txns[i]
    if (t.qtype !== A && t.qtype !== AAAA) continue
    const bases = baseIdsOf(t.qname)
    const client = clients.id(t.client)
    let target: GroupedLookup | null = null
    for (const b of bases) {
      const at = openByBase.get(client, b)
      if (at < 0) continue
      const o = lookups[at]
      if (t.firstSent - o.lastActivity > gapUs || !o.bases.includes(b)) continue
      if ((!target || o.lastActivity > target.lastActivity) && accepts(o, t, txns)) target = o
    }
    if (!target) {
      target = new GroupedLookup(t.client, lookups.length, bases, t.firstSent)
      lookups.push(target)
      for (const b of bases) openByBase.set(client, b, target.index)
    } else if (target.bases !== bases) {
      // Keep only the names every question of the lookup agrees on.
      const narrowed = target.bases.filter((b) => bases.includes(b))
      if (narrowed.length !== target.bases.length) target.bases = narrowed
    }
    t.lookup = target.index
    target.transactions.push(i)
    target.lastActivity = Math.max(target.lastActivity, lastTime(t))
  }

  const firstCandidate = memo((name: string) => candidatesOf(name, cfg)[0])
  for (const l of lookups) settle(l, txns, basesOf, firstCandidate)
  return lookups
}

function memo<T>(fn: (k: string) => T): (k: string) => T {
  const cache = new Map<string, T>()
  return (k) => {
    let v = cache.get(k)
    if (v === undefined) cache.set(k, (v = fn(k)))
    return v
  }
}

/** Is `t` the next question of lookup `o`, or a new call by the application? */
function accepts(o: GroupedLookup, t: Transaction, txns: readonly Transaction[]): boolean {
  let prev: Transaction | undefined
  let resend = false
  for (let i = o.transactions.length - 1; i >= 0; i--) {
    const a = txns[o.transactions[i]]
    if (a.qname === t.qname) {
      if (a.qtype === t.qtype) prev ??= a
      else if (a.copies > 1) resend = true
    }
  }
  if (!prev) {
    // A new question. After the address arrived only the sibling question of the answering
    // name may follow (single-request sends AAAA after A's answer).
    return mayFollow(o, t, txns)
  }
  // The same question again. After a final answer (NOERROR, NXDOMAIN) that is the application
  // asking again, unless the resolver is still busy with this lookup: another of its questions is
  // unanswered (glibc re-sends the pair when one half timed out), or the sibling question timed
  // out (after a timeout glibc falls back to single-request and asks both again, the answered one
  // included, with the same ids). After SERVFAIL or REFUSED the resolver itself retries.
  const r = prev.response
  if (!r || r.time > t.firstSent || !isFinal(r.rcode)) return mayFollow(o, t, txns)
  if (resend) return true
  for (const i of o.transactions) {
    const a = txns[i]
    if (a !== prev && (!a.response || a.response.time > t.firstSent)) return true
  }
  return false
}

/**
 * Before the lookup has its address anything may follow; after it, only a question of the name
 * that answered (single-request asks AAAA after A's answer).
 */
function mayFollow(o: GroupedLookup, t: Transaction, txns: readonly Transaction[]): boolean {
  const done = completion(o.transactions, txns, t.firstSent)
  return !done || done.name === t.qname
}

/**
 * The candidate name that completed the lookup by time `at`: the first whose questions all got a
 * final answer by then, one of them with an address. glibc waits for both answers of a pair; an
 * address in the A answer is not used while the AAAA is still out, and if the AAAA times out it
 * moves on to the next candidate.
 */
function completion(
  indexes: readonly number[],
  txns: readonly Transaction[],
  at: number,
): { name: string; time: number } | null {
  let best: { name: string; time: number } | null = null
  for (const ti of indexes) {
    const t = txns[ti]
    if (!hasAddress(t) || t.response!.time > at) continue
    if (best && best.name === t.qname) continue
    let time = t.response!.time
    let complete = true
    // The latest ask of each question of this name must be finally answered by `at`.
    for (let i = 0; i < indexes.length && complete; i++) {
      const u = txns[indexes[i]]
      if (u.qname !== t.qname) continue
      let later = false
      for (let j = i + 1; j < indexes.length && !later; j++) {
        const v = txns[indexes[j]]
        later = v.qname === u.qname && v.qtype === u.qtype
      }
      if (later) continue
      const r = u.response
      if (!r || r.time > at || !isFinal(r.rcode)) complete = false
      else if (r.time > time) time = r.time
    }
    if (complete && (!best || time < best.time)) best = { name: t.qname, time }
  }
  return best
}

/**
 * The ask whose address the resolver returned: the first candidate whose last ask of A or AAAA
 * was answered with an address. An address answered early and asked again later (because its
 * sibling timed out) counts only if the last ask was answered too: glibc keeps the answers of
 * its final attempt.
 */
function answeringAsk(
  indexes: readonly number[],
  txns: readonly Transaction[],
): Transaction | undefined {
  for (let i = 0; i < indexes.length; i++) {
    const t = txns[indexes[i]]
    if (!hasAddress(t)) continue
    let superseded = false
    for (let j = i + 1; j < indexes.length && !superseded; j++) {
      const u = txns[indexes[j]]
      superseded = u.qname === t.qname && u.qtype === t.qtype
    }
    if (!superseded) return t
  }
  return undefined
}

function isFinal(rcode: number): boolean {
  return rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN
}

function hasAddress(t: Transaction): boolean {
  const r = t.response
  if (!r || r.rcode !== RCODE.NOERROR) return false
  // A CoreDNS log line does not say how many records it answered: NOERROR to A counts.
  return r.answerAddrs > 0 || (r.answerAddrs < 0 && t.qtype === A)
}

function lastTime(t: Transaction): number {
  return Number.isNaN(t.lastTime) ? t.firstSent : Math.max(t.firstSent, t.lastTime)
}

function settle(
  l: GroupedLookup,
  txns: readonly Transaction[],
  basesOf: (q: string) => string[],
  firstCandidate: (name: string) => string,
): void {
  const answering = answeringAsk(l.transactions, txns)
  l.answeredName = answering ? answering.qname : null
  l.outcome = outcomeOf(l, txns, answering)
  let wasted = 0
  let start = Infinity
  let end = -Infinity
  let oneName = true
  const first = txns[l.transactions[0]]
  for (const i of l.transactions) {
    const t = txns[i]
    if (answering && t.qname !== answering.qname) wasted++
    if (t.firstSent < start) start = t.firstSent
    const last = lastTime(t)
    if (last > end) end = last
    if (t.qname !== first.qname) oneName = false
  }
  l.wasted = wasted
  l.start = start
  l.end = end
  // A growing array keeps room for 16; the settled lookup keeps exactly what it has.
  if (l.transactions.length < 8) l.transactions = l.transactions.slice()
  l.name = oneName
    ? nameOfOne(first.qname, basesOf, firstCandidate)
    : nameOf(
        l.transactions.map((i) => txns[i]),
        basesOf,
        firstCandidate,
      )
}

function outcomeOf(
  l: GroupedLookup,
  txns: readonly Transaction[],
  answering: Transaction | undefined,
): LookupOutcome {
  if (answering) return 'address'
  let nodata = false
  let servfail = false
  let timeout = false
  let allNx = true
  for (const i of l.transactions) {
    const r = txns[i].response
    const rc = r ? r.rcode : null
    if (rc === RCODE.NOERROR) nodata = true
    else if (rc === RCODE.SERVFAIL) servfail = true
    else if (rc === null) timeout = true
    if (rc !== RCODE.NXDOMAIN) allNx = false
  }
  // A question that was never answered ends the resolver's patience first: glibc stops the
  // search list there (EAI_AGAIN) or, after its last candidate, reports what it has.
  if (timeout) return 'timeout'
  if (servfail) return 'servfail'
  if (nodata) return 'nodata'
  return allNx ? 'nxdomain' : 'other'
}

/** The name the application asked: the base whose first glibc candidate was sent first. */
function nameOf(
  ts: Transaction[],
  basesOf: (q: string) => string[],
  firstCandidate: (name: string) => string,
): string {
  const first = ts[0].qname
  let bases = basesOf(first)
  for (const t of ts) {
    if (t.qname === first) continue
    const b = basesOf(t.qname)
    const common = bases.filter((x) => b.includes(x))
    if (common.length) bases = common
  }
  return pick(bases, first, firstCandidate)
}

function nameOfOne(
  qname: string,
  basesOf: (q: string) => string[],
  firstCandidate: (name: string) => string,
): string {
  return pick(basesOf(qname), qname, firstCandidate)
}

function pick(bases: string[], first: string, firstCandidate: (name: string) => string): string {
  let best: string | null = null
  for (const b of bases)
    if (firstCandidate(b) === first && (best === null || b.length < best.length)) best = b
  if (best !== null) return best
  return bases.reduce((a, b) => (b.length < a.length ? b : a))
}
