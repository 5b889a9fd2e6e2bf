import { describe, expect, it } from 'vitest'
import { pairQueries } from '../../core/correlate/pair-queries.js'
import { vantageRanker } from '../../core/correlate/roles.js'
import { DnsTable } from '../../core/model/dns-table.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import { query, response, vantages } from './events.js'

const C = '10.0.0.5:40000'
const S = '10.96.0.10:53'
const net = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])

/** Every column pairing fills, per transaction, with or without finish's fast path. */
function paired(events: DnsMessageEvent[], noFastPath: boolean): Record<string, number[]> {
  const dns = new DnsTable()
  for (const e of events) dns.push(e)
  const rows = Array.from({ length: dns.length }, (_, i) => i)
  const { store: s } = pairQueries(dns, rows, {
    rank: vantageRanker(net, dns),
    byFirstSent: true,
    noFastPath,
  })
  const columns = [
    s.head,
    s.firstQuery,
    s.response,
    s.firstSent,
    s.lastTime,
    s.latencyUs,
    s.lastSeen,
    s.copies,
    s.qname,
    s.client,
    s.qtype,
    s.rcode,
    s.answerAddrs,
    s.responseTime,
  ]
  const out: Record<string, number[]> = {}
  for (const [i, c] of columns.entries()) out[i] = Array.from(c.subarray(0, s.length))
  out.code = Array.from(s.code)
  return out
}

describe("finish's fast path", () => {
  it('settles transactions exactly as the general way', () => {
    const events = [
      // The common case: one query and its response at one vantage.
      query({ t: 0, from: C, to: S, id: 1, q: 'a.example' }),
      response({ t: 2, from: S, to: C, id: 1, q: 'a.example', addrs: 1 }),
      // A response stamped before its query (clock steps): latency is 0, lastTime the query's.
      query({ t: 10, from: C, to: S, id: 2, q: 'b.example' }),
      response({ t: 9, from: S, to: C, id: 2, q: 'b.example' }),
      // Seen at two vantages.
      query({ t: 20, from: C, to: S, id: 3, q: 'c.example' }),
      query({ t: 20.1, from: C, to: S, id: 3, q: 'c.example', vantage: 'node' }),
      response({ t: 21, from: S, to: C, id: 3, q: 'c.example', vantage: 'node' }),
      response({ t: 21.1, from: S, to: C, id: 3, q: 'c.example' }),
      // Query at one vantage, response at another.
      query({ t: 30, from: C, to: S, id: 4, q: 'd.example', vantage: 'node' }),
      response({ t: 31, from: S, to: C, id: 4, q: 'd.example' }),
      // A retransmit, then the answer.
      query({ t: 40, from: C, to: S, id: 5, q: 'e.example' }),
      query({ t: 45, from: C, to: S, id: 5, q: 'e.example' }),
      response({ t: 46, from: S, to: C, id: 5, q: 'e.example', rcode: 2 }),
      // A duplicate response.
      query({ t: 50, from: C, to: S, id: 6, q: 'f.example' }),
      response({ t: 51, from: S, to: C, id: 6, q: 'f.example' }),
      response({ t: 51.5, from: S, to: C, id: 6, q: 'f.example' }),
      // Unanswered.
      query({ t: 60, from: C, to: S, id: 7, q: 'g.example' }),
      // A CoreDNS log line: query and answer in one row, with the server's duration.
      query({
        t: 70,
        from: C,
        to: S,
        id: 8,
        q: 'h.example',
        vantage: 'coredns',
        source: 'log',
        durationMs: 3,
      }),
      // A log line and the packets of the same query.
      query({ t: 80, from: C, to: S, id: 9, q: 'i.example' }),
      query({
        t: 81,
        from: C,
        to: S,
        id: 9,
        q: 'i.example',
        vantage: 'coredns',
        source: 'log',
        durationMs: 0.5,
      }),
      response({ t: 82, from: S, to: C, id: 9, q: 'i.example' }),
    ]
    const fast = paired(events, false)
    expect(fast).toEqual(paired(events, true))
    // Every case above made its own transaction.
    expect(fast[0]).toHaveLength(9)
  })
})
