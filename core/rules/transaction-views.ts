// Questions several rules (and the verdict) ask of the correlator's transactions: was it answered,
// did it fail, did it reach the DNS server; and the per-second view that relates failures to load.
import type { VantageType } from '../model/bundle.js'
import type { DropEvent, Event } from '../model/event.js'
import type { Transaction } from '../correlate/types.js'
import type { RuleContext } from './rule.js'

/** Most events a rule hands on as evidence; the report shows fewer and counts the rest. */
export const EVIDENCE_CAP = 50

/** The rcode the client got, or null when it got nothing (CoreDNS logs `-` as rcode -1). */
export function clientRcode(t: Transaction): number | null {
  return t.response && t.response.rcode >= 0 ? t.response.rcode : null
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
  return t.response === null && t.hops.some((h) => h.event.qr)
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

export interface SecondBucket {
  second: number
  load: number
  failed: number
  latenciesUs: number[]
}

/** Client transactions per second of their first send (timed transactions only), in time order. */
const perSecondCache = new WeakMap<readonly Transaction[], SecondBucket[]>()

/** Per-second buckets of the transactions; computed once per analysis, shared by the rules. */
export function perSecond(transactions: readonly Transaction[]): SecondBucket[] {
  let cached = perSecondCache.get(transactions)
  if (!cached) perSecondCache.set(transactions, (cached = bucketsOf(transactions)))
  return cached
}

function bucketsOf(transactions: readonly Transaction[]): SecondBucket[] {
  const buckets = new Map<number, SecondBucket>()
  for (const t of transactions) {
    if (!Number.isFinite(t.firstSent)) continue
    const second = Math.floor(t.firstSent / 1e6)
    let b = buckets.get(second)
    if (!b) buckets.set(second, (b = { second, load: 0, failed: 0, latenciesUs: [] }))
    b.load++
    if (isFailed(t)) b.failed++
    if (t.latencyUs !== null && clientRcode(t) !== null) b.latenciesUs.push(t.latencyUs)
  }
  return [...buckets.values()].sort((a, b) => a.second - b.second)
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = Float64Array.from(xs).sort()
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
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
  return [...m.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    .slice(0, limit)
}

/** Distinct events in order, at most EVIDENCE_CAP. */
export function evidenceList(...groups: (readonly (Event | null | undefined)[])[]): Event[] {
  const out: Event[] = []
  const seen = new Set<Event>()
  for (const g of groups)
    for (const e of g) {
      if (!e || seen.has(e)) continue
      seen.add(e)
      out.push(e)
      if (out.length >= EVIDENCE_CAP) return out
    }
  return out
}

/**
 * Distinct events taking one from each group in turn, so the first few shown (the report shows
 * ten) cover every kind of evidence a finding rests on. At most EVIDENCE_CAP.
 */
export function evidenceMix(...groups: (readonly (Event | null | undefined)[])[]): Event[] {
  const out: Event[] = []
  const seen = new Set<Event>()
  const at = groups.map(() => 0)
  for (let progressed = true; progressed && out.length < EVIDENCE_CAP;) {
    progressed = false
    groups.forEach((g, i) => {
      while (at[i] < g.length) {
        const e = g[at[i]++]
        if (!e || seen.has(e)) continue
        seen.add(e)
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
