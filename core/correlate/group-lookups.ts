// Groups wire transactions into the application lookups that caused them (glibc and musl):
// one getaddrinfo() walks the search-list candidates of a name, asking A and AAAA for each
// (in parallel on one socket, or one after the other with single-request), retrying on timeout,
// until a candidate yields an address or the list runs out.
import type { Lookup, LookupOutcome, Transaction } from './types.js'
import { RCODE } from '../codec/dns-constants.js'
import { type ResolverConfig, candidatesOf, possibleBases } from './search-list.js'

const A = 1
const AAAA = 28

interface OpenLookup {
  lookup: Lookup
  index: number
  bases: string[]
  /** The transactions so far (lookups are small: a linear scan beats a Map per lookup). */
  asked: Transaction[]
  /** Time the lookup got its address (µs), or Infinity, and the name that had it. */
  doneAt: number
  answeredName: string | null
  lastActivity: number
}

/** Transactions must be sorted by firstSent. Sets each transaction's `lookup` index. */
export function groupLookups(txns: readonly Transaction[], cfg: ResolverConfig): Lookup[] {
  // A lookup goes quiet for at most one full retry round between candidates.
  const gapUs = (cfg.timeoutSec * cfg.attempts + 1) * 1_000_000
  // The open lookup of each (client, possible application name): lookups are found by name.
  const openByBase = new Map<string, OpenLookup>()
  const lookups: Lookup[] = []
  const basesOf = memo((qname: string) => possibleBases(qname, cfg.search))

  for (let i = 0; i < txns.length; i++) {
    const t = txns[i]
    if (t.qtype !== A && t.qtype !== AAAA) continue
    const bases = basesOf(t.qname)
    let target: OpenLookup | null = null
    for (const b of bases) {
      const o = openByBase.get(t.client + '|' + b)
      if (!o || t.firstSent - o.lastActivity > gapUs || !o.bases.includes(b)) continue
      if ((!target || o.lastActivity > target.lastActivity) && accepts(o, t)) target = o
    }
    if (!target) {
      target = {
        lookup: { client: t.client, name: '', transactions: [], outcome: 'other', wasted: 0, start: t.firstSent, end: t.firstSent, answeredName: null },
        index: lookups.length,
        bases,
        asked: [],
        doneAt: Infinity,
        answeredName: null,
        lastActivity: t.firstSent,
      }
      lookups.push(target.lookup)
    } else {
      target.bases = target.bases.filter((b) => bases.includes(b))
    }
    for (const b of target.bases) openByBase.set(t.client + '|' + b, target)
    t.lookup = target.index
    target.lookup.transactions.push(i)
    target.asked.push(t)
    target.lastActivity = Math.max(target.lastActivity, lastTime(t))
    if (hasAddress(t) && t.response && t.response.time < target.doneAt) {
      target.doneAt = t.response.time
      target.answeredName = t.qname
    }
  }

  const candidatesFirst = memo((name: string) => candidatesOf(name, cfg)[0])
  for (const l of lookups) settle(l, txns, basesOf, candidatesFirst)
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

function accepts(o: OpenLookup, t: Transaction): boolean {
  let prev: Transaction | undefined
  for (let i = o.asked.length - 1; i >= 0; i--) {
    const a = o.asked[i]
    if (a.qtype === t.qtype && a.qname === t.qname) {
      prev = a
      break
    }
  }
  // After a timeout glibc falls back to single-request: it asks the pair's questions again one
  // after the other, the answered one included, with the same ids.
  const resend = prev !== undefined && o.asked.some((a) => a.qname === t.qname && a.qtype !== t.qtype && a.copies > 1)
  if (t.firstSent > o.doneAt) {
    // After the address arrived only the sibling question of the answering name may follow
    // (single-request sends AAAA after A's answer).
    return o.answeredName === t.qname && (!prev || resend)
  }
  // The same question again after a final answer (NOERROR, NXDOMAIN) is the application asking
  // again, unless the lookup still waits for another answer (glibc re-sends both questions of a
  // pair when one timed out) or re-asks after a timeout. After SERVFAIL or REFUSED the resolver
  // itself retries.
  if (prev && prev.response && prev.response.time <= t.firstSent && isFinal(prev.response.rcode)) {
    const waiting = o.asked.some((a) => a !== prev && (!a.response || a.response.time > t.firstSent))
    if (!waiting && !resend) return false
  }
  return true
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
  l: Lookup,
  txns: readonly Transaction[],
  basesOf: (q: string) => string[],
  firstCandidate: (name: string) => string,
): void {
  const ts = l.transactions.map((i) => txns[i])
  const answering = ts.find(hasAddress)
  l.answeredName = answering ? answering.qname : null
  l.outcome = outcomeOf(ts, answering)
  let wasted = 0
  let start = Infinity
  let end = -Infinity
  for (const t of ts) {
    if (answering && t.qname !== answering.qname) wasted++
    if (t.firstSent < start) start = t.firstSent
    const last = lastTime(t)
    if (last > end) end = last
  }
  l.wasted = wasted
  l.start = start
  l.end = end
  l.name = nameOf(ts, basesOf, firstCandidate)
}

function outcomeOf(ts: Transaction[], answering: Transaction | undefined): LookupOutcome {
  if (answering) return 'address'
  const rcodes = ts.map((t) => (t.response ? t.response.rcode : null))
  if (rcodes.some((r) => r === RCODE.NOERROR)) return 'nodata'
  if (rcodes.some((r) => r === RCODE.SERVFAIL)) return 'servfail'
  if (rcodes.some((r) => r === null)) return 'timeout'
  if (rcodes.every((r) => r === RCODE.NXDOMAIN)) return 'nxdomain'
  return 'other'
}

/** The name the application asked: the base whose first glibc candidate was sent first. */
function nameOf(ts: Transaction[], basesOf: (q: string) => string[], firstCandidate: (name: string) => string): string {
  const first = ts[0].qname
  let bases = basesOf(first)
  for (const t of ts) {
    if (t.qname === first) continue
    const b = basesOf(t.qname)
    const common = bases.filter((x) => b.includes(x))
    if (common.length) bases = common
  }
  const fitting = bases.filter((b) => firstCandidate(b) === first)
  const pool = fitting.length ? fitting : bases
  return pool.reduce((a, b) => (b.length < a.length ? b : a))
}
