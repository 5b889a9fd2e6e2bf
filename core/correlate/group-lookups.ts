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
  /** qname|qtype → the transaction that asked it last. */
  asked: Map<string, Transaction>
  /** Time the lookup got its address (µs), or Infinity. */
  doneAt: number
  lastActivity: number
}

/** Transactions must be sorted by firstSent. Sets each transaction's `lookup` index. */
export function groupLookups(txns: readonly Transaction[], cfg: ResolverConfig): Lookup[] {
  // A lookup goes quiet for at most one full retry round between candidates.
  const gapUs = (cfg.timeoutSec * cfg.attempts + 1) * 1_000_000
  const openByClient = new Map<string, OpenLookup[]>()
  const lookups: Lookup[] = []

  for (let i = 0; i < txns.length; i++) {
    const t = txns[i]
    if (t.qtype !== A && t.qtype !== AAAA) continue
    const bases = possibleBases(t.qname, cfg.search)
    const open = openByClient.get(t.client) ?? []
    openByClient.set(t.client, open)
    let target: OpenLookup | null = null
    for (let j = open.length - 1; j >= 0; j--) {
      const o = open[j]
      if (t.firstSent - o.lastActivity > gapUs) {
        open.splice(j, 1)
        continue
      }
      if (!accepts(o, t, bases)) continue
      target = o
      break
    }
    if (!target) {
      target = {
        lookup: { client: t.client, name: '', transactions: [], outcome: 'other', wasted: 0, start: t.firstSent, end: t.firstSent, answeredName: null },
        index: lookups.length,
        bases,
        asked: new Map(),
        doneAt: Infinity,
        lastActivity: t.firstSent,
      }
      open.push(target)
      lookups.push(target.lookup)
      if (open.length > 64) open.shift()
    } else {
      target.bases = target.bases.filter((b) => bases.includes(b))
    }
    t.lookup = target.index
    target.lookup.transactions.push(i)
    target.asked.set(`${t.qname}|${t.qtype}`, t)
    target.lastActivity = Math.max(target.lastActivity, lastTime(t))
    if (hasAddress(t) && t.response) target.doneAt = Math.min(target.doneAt, t.response.time)
  }

  for (const l of lookups) settle(l, txns, cfg)
  return lookups
}

function accepts(o: OpenLookup, t: Transaction, bases: string[]): boolean {
  if (!o.bases.some((b) => bases.includes(b))) return false
  const prev = o.asked.get(`${t.qname}|${t.qtype}`)
  // The same question again after it was answered: the application asked again.
  if (prev && prev.response && prev.response.time <= t.firstSent) return false
  if (t.firstSent > o.doneAt) {
    // After the address arrived only the sibling question of the answering name may follow
    // (single-request sends AAAA after A's answer).
    return o.lookup.answeredName === t.qname && !prev
  }
  return true
}

function hasAddress(t: Transaction): boolean {
  const r = t.response
  if (!r || r.rcode !== RCODE.NOERROR) return false
  // A CoreDNS log line does not say how many records it answered: NOERROR to A counts.
  return r.answerAddrs > 0 || (r.answerAddrs < 0 && t.qtype === A)
}

function lastTime(t: Transaction): number {
  let last = t.firstSent
  for (const h of t.hops) if (h.time > last) last = h.time
  return last
}

function settle(l: Lookup, txns: readonly Transaction[], cfg: ResolverConfig): void {
  const ts = l.transactions.map((i) => txns[i])
  const answering = ts.find(hasAddress)
  l.answeredName = answering ? answering.qname : null
  l.outcome = outcomeOf(ts, answering)
  l.wasted = answering ? ts.filter((t) => t.qname !== answering.qname).length : 0
  l.start = Math.min(...ts.map((t) => t.firstSent))
  l.end = Math.max(...ts.map(lastTime))
  l.name = nameOf(ts, cfg)
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
function nameOf(ts: Transaction[], cfg: ResolverConfig): string {
  const first = ts[0].qname
  let bases = possibleBases(first, cfg.search)
  for (const t of ts) {
    const b = possibleBases(t.qname, cfg.search)
    const common = bases.filter((x) => b.includes(x))
    if (common.length) bases = common
  }
  const fitting = bases.filter((b) => candidatesOf(b, cfg)[0] === first)
  const pool = fitting.length ? fitting : bases
  return pool.reduce((a, b) => (b.length < a.length ? b : a))
}
