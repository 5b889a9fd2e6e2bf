// build-report's one-pass summaries of the correlator's columns checked against the plain
// definitions they stand for, read through the Transaction and Lookup interfaces: the messages and
// time window of the stored DNS messages, the summary's counts, and the worst lookups (every
// candidate scored, then stably sorted). Plain objects give the same report (store-path.test.ts).
import { describe, expect, it } from 'vitest'
import { correlate } from '../../core/correlate/index.js'
import { DnsTable } from '../../core/model/dns-table.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import { WORST_LOOKUPS, buildReport, highestScores } from '../../core/report/build-report.js'
import { qtypeName, rcodeName } from '../../core/codec/dns-constants.js'
import { query, response, vantages } from '../correlate/events.js'

/** A fixed pseudo-random sequence (LCG), so failures reproduce. */
function lcg(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const SVC = '10.96.0.10:53'
const NAMES = ['api.default.svc.cluster.local', 'db.prod.svc.cluster.local', 'example.com']

/**
 * Client lookups with every outcome, resent and unanswered queries and ties in duration (`failing`
 * false: every query answered NOERROR, some after being resent); then messages the correlator does
 * not pair: dnstap messages with and without an id, CoreDNS log lines, and a message without a
 * time.
 */
function messages(failing = true): DnsMessageEvent[] {
  const rnd = lcg(11)
  const out: DnsMessageEvent[] = []
  let id = 1
  for (let k = 0; k < 400; k++) {
    const t = k * 30 + Math.floor(rnd() * 20)
    // A client of its own: one lookup each, whose few possible durations tie.
    const from = `10.244.${1 + (k >> 8)}.${k & 0xff}:${40000 + k}`
    const q = NAMES[Math.floor(rnd() * NAMES.length)]
    const rcode = failing ? [0, 0, 0, 0, 3, 2, 5][Math.floor(rnd() * 7)] : 0
    // Few distinct latencies: lookups tie on duration.
    const slow = [2, 2, 5, 300][Math.floor(rnd() * 4)]
    for (const type of ['A', 'AAAA'] as const) {
      const qid = id++
      out.push(query({ t, from, to: SVC, id: qid, q, type }))
      const fate = rnd()
      if (fate < 0.1 && failing) continue // never answered
      if (fate < 0.2) out.push(query({ t: t + 1, from, to: SVC, id: qid, q, type })) // resent
      const addrs = rcode === 0 && type === 'A' ? 1 : 0
      out.push(response({ t: t + slow, from: SVC, to: from, id: qid, q, type, rcode, addrs }))
    }
  }
  const server = '10.244.0.9:53'
  const upstream = '8.8.8.8:53'
  const tap = { vantage: 'coredns', source: 'dnstap' as const, q: 'example.com' }
  out.push(
    query({ ...tap, t: -5, from: server, to: upstream, id: 7, dnstapType: 'FORWARDER_QUERY' }),
  )
  out.push({ ...query({ ...tap, t: 50, from: server, to: '', id: 0 }), id: -1 })
  out.push({ ...response({ ...tap, t: 60, from: server, to: '', id: 0 }), id: -1 })
  const log = { vantage: 'coredns', source: 'log' as const, to: server, q: 'example.com' }
  out.push(response({ ...log, t: 20_000, from: '10.244.1.2:5353', id: 9, durationMs: 1 }))
  out.push({ ...response({ ...log, t: 0, from: '10.244.1.3:5353', id: 10 }), time: NaN })
  return out
}

function analyze(failing = true) {
  const dns = new DnsTable()
  for (const e of messages(failing)) dns.push(e)
  return reportOf(dns, vantages(['pod', 'pod'], ['coredns', 'dns-server']))
}

/** The correlation of `dns` and its report, as pod.pcap's, without rules. */
function reportOf(dns: DnsTable, vs: ReturnType<typeof vantages>) {
  const correlation = correlate({ dns, drops: [], facts: [], vantages: vs })
  const report = buildReport({
    version: '0',
    inputs: [{ path: 'pod.pcap', kind: 'pcap', vantage: 'pod', events: dns.length, problems: [] }],
    skipped: [],
    vantages: [...vs.values()],
    dns,
    correlation,
    findings: [],
    ruleProblems: [],
    detail: false,
  })
  return { dns, correlation, report }
}

describe('buildReport summaries', () => {
  const { correlation, report } = analyze()

  it('counts captured messages and dnstap messages with an id, over the span of every time', () => {
    const events = messages()
    const counted = events.filter(
      (e) => e.source === 'capture' || (e.source === 'dnstap' && e.id >= 0),
    )
    const times = events.map((e) => e.time).filter((t) => !Number.isNaN(t))
    expect(events.some((e) => e.source === 'dnstap' && e.id < 0)).toBe(true)
    expect(report.summary.messages).toBe(counted.length)
    expect(report.window).toEqual({ start: Math.min(...times), end: Math.max(...times) })
  })

  it('counts transactions as read one by one', () => {
    const txns = correlation.transactions
    const answered = txns.filter((t) => t.rcode !== null)
    const byName = (names: string[]) => {
      const counts: Record<string, number> = {}
      for (const k of names) counts[k] = (counts[k] ?? 0) + 1
      return counts
    }
    const s = report.summary
    expect(s.unanswered).toBe(txns.length - answered.length)
    expect(s.unanswered).toBeGreaterThan(0)
    expect(s.aaaaQueries).toBe(txns.filter((t) => t.qtype === 28).length)
    expect(s.aaaaNoData).toBe(
      answered.filter((t) => t.qtype === 28 && t.rcode === 0 && t.answerAddrs === 0).length,
    )
    expect(JSON.stringify(s.qtypes)).toBe(
      JSON.stringify(byName(txns.map((t) => qtypeName(t.qtype)))),
    )
    expect(JSON.stringify(s.rcodes)).toBe(
      JSON.stringify(byName(answered.map((t) => rcodeName(t.rcode as number)))),
    )
    expect(s.failedLookups).toBe(correlation.lookups.filter((l) => l.outcome !== 'address').length)
    // Nearest rank, in ms rounded to µs, of the answered transactions' latencies.
    const latencies = answered.flatMap((t) => (t.latencyUs === null ? [] : [t.latencyUs]))
    const sorted = Float64Array.from(latencies).sort()
    const at = (q: number) => Math.round(sorted[Math.ceil(q * sorted.length) - 1]) / 1000
    expect(s.latencyMs).toEqual({ p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) })
  })

  it('shows the worst lookups a stable sort of every candidate puts first', () => {
    for (const failing of [true, false]) {
      const { correlation, report } = analyze(failing)
      const { transactions: txns, lookups } = correlation
      const candidates = lookups
        .map((l, i) => ({ l, i }))
        .filter(
          ({ l }) =>
            l.outcome !== 'address' ||
            l.wasted !== 0 ||
            l.transactions.some((t) => txns[t].copies > 1),
        )
        .map(({ l, i }) => ({
          i,
          score: (l.outcome === 'address' ? 0 : 1e15) + (l.end - l.start) + l.transactions.length,
        }))
        .sort((a, b) => b.score - a.score)
      // More candidates than are shown, some of them tied among those shown.
      const shown = candidates.slice(0, WORST_LOOKUPS)
      expect(candidates.length).toBeGreaterThan(WORST_LOOKUPS)
      expect(new Set(shown.map((c) => c.score)).size).toBeLessThan(WORST_LOOKUPS)
      expect(report.worstLookups?.map((l) => ({ name: l.name, start: l.start }))).toEqual(
        shown.map(({ i }) => ({ name: lookups[i].name, start: lookups[i].start })),
      )
    }
  })
})

describe('highestScores', () => {
  it('picks what a stable sort by score, highest first, puts first', () => {
    const rnd = lcg(5)
    for (const n of [0, 1, 3, 10, 600])
      for (const distinct of [1, 2, 5, 1000]) {
        const scores = Float64Array.from({ length: 500 }, () => {
          const x = Math.floor(rnd() * (distinct + 1))
          return x === distinct ? -Infinity : x - distinct / 2
        })
        const sorted = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b)
        expect(highestScores(scores, n)).toEqual(sorted.slice(0, n))
      }
  })
})

describe('the DNS servers of the summary', () => {
  /** One query from the pod to each of `n` nameservers, each answered (or not, every third). */
  function servers(n: number) {
    const dns = new DnsTable()
    for (let i = 0; i < n; i++) {
      const server = `10.1.${i >> 8}.${i & 255}`
      const q = `h-${i}.example.com`
      dns.push(query({ t: i, from: '10.244.1.7:5000', to: `${server}:53`, id: i, q }))
      for (let k = 0; k < i % 7; k++)
        dns.push(
          query({
            t: i + 0.1 + k,
            from: '10.244.1.7:5000',
            to: `${server}:53`,
            id: 70000 + i * 8 + k,
            q: `k${k}.${q}`,
          }),
        )
      if (i % 3)
        dns.push(
          response({ t: i + 0.5, from: `${server}:53`, to: '10.244.1.7:5000', id: i, q, addrs: 1 }),
        )
    }
    return reportOf(dns, vantages(['pod', 'pod'])).report
  }

  it('lists each nameserver with its queries, failures and median latency', () => {
    const r = servers(3)
    // Server 0 is unanswered (and has no other query); 1 and 2 answer their first query in 0.5 ms.
    expect(r.summary.servers).toEqual([
      {
        server: '10.1.0.2',
        address: '10.1.0.2',
        transactions: 3,
        failed: 2,
        unanswered: 2,
        servfail: 0,
        refused: 0,
        failureRate: 0.6667,
        medianMs: 0.5,
      },
      {
        server: '10.1.0.1',
        address: '10.1.0.1',
        transactions: 2,
        failed: 1,
        unanswered: 1,
        servfail: 0,
        refused: 0,
        failureRate: 0.5,
        medianMs: 0.5,
      },
      {
        server: '10.1.0.0',
        address: '10.1.0.0',
        transactions: 1,
        failed: 1,
        unanswered: 1,
        servfail: 0,
        refused: 0,
        failureRate: 1,
        medianMs: null,
      },
    ])
  })

  it('keeps the 64 busiest of thousands (a hostile capture), and is not asked of one server', () => {
    const r = servers(3000)
    expect(r.summary.servers).toHaveLength(64)
    expect(r.summary.servers!.every((s) => s.transactions === 7)).toBe(true)
    expect(servers(1).summary.servers).toBeUndefined()
  })
})
