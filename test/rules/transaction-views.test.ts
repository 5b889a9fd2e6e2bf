// The shared per-transaction facts and the selections that replace sorts: each must give what the
// straightforward computation (sort, filter, string keys) gives.
import { describe, expect, it } from 'vitest'
import {
  clientRcode,
  evidenceList,
  evidenceMix,
  isFailed,
  lazyEvents,
  median,
  medianInPlace,
  perSecond,
  bucketMedianLatencies,
  topCounts,
  topCountsOf,
  txFacts,
  HAS_RESPONSE,
  TIMED,
} from '../../core/rules/transaction-views.js'
import type { Transaction } from '../../core/correlate/types.js'
import { T0, log, tx } from './context.js'

/** A fixed pseudo-random sequence (LCG), so failures reproduce. */
function lcg(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

describe('medianInPlace', () => {
  const rnd = lcg(7)
  const cases: number[][] = [
    [],
    [5],
    [2, 1],
    [3, 3, 3, 3],
    [1, 2, 3, 4, 5, 6],
    [-0, 0, -0],
    [NaN, 1, 2],
    [NaN, NaN, 4, 1],
    [Infinity, -Infinity, 3],
  ]
  for (let k = 0; k < 200; k++) {
    const len = 1 + Math.floor(rnd() * 60)
    // Few distinct values half the time: many ties.
    const spread = rnd() < 0.5 ? 4 : 1e6
    cases.push(Array.from({ length: len }, () => Math.floor(rnd() * spread) / 8))
  }
  it('equals median (a full sort) on ties, NaN, infinities and random data', () => {
    for (const xs of cases) {
      const a = new Float64Array([9, ...xs, 9])
      const got = medianInPlace(a, 1, 1 + xs.length)
      expect(Object.is(got, median(xs)) || got === median(xs)).toBe(true)
      // Reorders only its range, keeping the values (a typed array's sort puts -0 before 0).
      expect(a.slice(1, 1 + xs.length).sort()).toEqual(Float64Array.from(xs).sort())
      expect([a[0], a[a.length - 1]]).toEqual([9, 9])
    }
  })
  it('equals median without searching for NaN when told there is none', () => {
    for (const xs of cases.filter((xs) => !xs.some(Number.isNaN))) {
      const got = medianInPlace(Float64Array.from(xs), 0, xs.length, false)
      expect(Object.is(got, median(xs)) || got === median(xs)).toBe(true)
    }
  })
})

describe('topCounts', () => {
  it('keeps the order of a full sort: count, then key', () => {
    const rnd = lcg(3)
    const keys = Array.from({ length: 500 }, () => `k${Math.floor(rnd() * 40)}`)
    const m = new Map<string, number>()
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1)
    const sorted = [...m]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    for (const limit of [0, 1, 5, 10, 39, 40, 100]) {
      expect(topCounts(keys, limit)).toEqual(sorted.slice(0, limit))
      const names = [...m.keys()]
      expect(
        topCountsOf(
          names,
          Int32Array.from(names, (k) => m.get(k)!),
          limit,
        ),
      ).toEqual(sorted.slice(0, limit))
    }
  })
})

describe('txFacts and perSecond', () => {
  const rnd = lcg(11)
  const transactions = Array.from({ length: 400 }, () =>
    tx({
      qname: `n${Math.floor(rnd() * 30)}.example.com.`,
      qtype: rnd() < 0.5 ? 1 : 28,
      client: `10.0.0.${Math.floor(rnd() * 5)}`,
      // Out of time order, over 8 seconds.
      at: Math.floor(rnd() * 8e6),
      latencyMs: rnd() < 0.2 ? null : Math.floor(rnd() * 50),
      // -1: a response without an rcode (a CoreDNS log's `-`).
      rcode: [0, 0, 0, 2, 3, 5, -1][Math.floor(rnd() * 7)],
    }),
  )
  const inOrder = [...transactions].sort((a, b) => a.firstSent - b.firstSent)
  it('reads what the Transaction says', () => {
    const f = txFacts(transactions)
    expect(f.n).toBe(transactions.length)
    transactions.forEach((t, i) => {
      expect(f.names[f.name[i]]).toBe(t.qname)
      expect(f.clients[f.client[i]]).toBe(t.client)
      expect(f.qtype[i]).toBe(t.qtype)
      expect(f.rcode[i]).toBe(clientRcode(t) ?? -1)
      expect(f.firstSent[i]).toBe(t.firstSent)
      expect(Boolean(f.flags[i] & HAS_RESPONSE)).toBe(t.response !== null)
      expect(Boolean(f.flags[i] & TIMED)).toBe(t.response !== null && t.latencyUs !== null)
    })
    expect(new Set(f.names).size).toBe(f.names.length)
    f.clientFirst.forEach((i, c) =>
      expect(transactions.findIndex((t) => t.client === f.clients[c])).toBe(i),
    )
    const rows = (keep: (t: Transaction) => boolean) =>
      transactions.flatMap((t, i) => (keep(t) ? [i] : []))
    expect(f.failed).toEqual(rows(isFailed))
    expect(f.untimed).toEqual(rows((t) => t.latencyUs === null || clientRcode(t) === null))
    expect(f.inTimeOrder).toBe(false)
    expect(txFacts(inOrder).inTimeOrder).toBe(true)
  })
  // Out of time order: numbered per row; in time order, as the correlator's: runs of rows.
  it('buckets per second as a Map of arrays and a sort would', () =>
    bucketsAsReference(transactions))
  it('buckets per second by search for transactions in time order', () =>
    bucketsAsReference(inOrder))
  it('buckets seconds of one transaction and long seconds alike', () => {
    // A second of its own for each of the first 100, then 300 in three seconds.
    const spread = inOrder.map((t, i) =>
      tx({ qname: t.qname, at: i < 100 ? i * 1e6 : 100e6 + (i % 3) * 1e6, rcode: t.rcode ?? 0 }),
    )
    bucketsAsReference(spread.sort((a, b) => a.firstSent - b.firstSent))
  })
  it('leaves out transactions without a time', () => {
    const untimed = inOrder.map((t, i) => (i % 50 === 7 ? tx({ qname: t.qname, at: NaN }) : t))
    expect(txFacts(untimed).inTimeOrder).toBe(false)
    bucketsAsReference(untimed)
  })
})

function bucketsAsReference(transactions: Transaction[]): void {
  const ref = new Map<number, { load: number; failed: number; lat: number[] }>()
  for (const t of transactions) {
    if (!Number.isFinite(t.firstSent)) continue
    const s = Math.floor(t.firstSent / 1e6)
    const b = ref.get(s) ?? { load: 0, failed: 0, lat: [] }
    ref.set(s, b)
    b.load++
    if (isFailed(t)) b.failed++
    if (t.latencyUs !== null && clientRcode(t) !== null) b.lat.push(t.latencyUs)
  }
  const want = [...ref].sort((a, b) => a[0] - b[0])
  const got = perSecond(transactions)
  expect(got.map((b) => [b.second, b.load, b.failed, b.timed])).toEqual(
    want.map(([s, b]) => [s, b.load, b.failed, b.lat.length]),
  )
  const medians = bucketMedianLatencies(transactions)
  want.forEach(([, b], i) =>
    expect(Number.isNaN(medians[i]) ? NaN : medians[i]).toEqual(median(b.lat)),
  )
  expect(got[0].second).toBe(Math.floor(T0 / 1e6))
}

describe('lazy evidence', () => {
  it('gives what the materialized list gives', () => {
    const events = ['a', 'b', 'c', 'd'].map((m) => log(m))
    const picked: number[] = []
    const lazy = {
      length: 200,
      at: (i: number) => {
        picked.push(i)
        return i % 2 ? null : log(`x${i}`)
      },
    }
    const list = evidenceList(events, lazy)
    expect(list.length).toBe(50)
    // Stops reading once the cap is reached.
    expect(Math.max(...picked)).toBeLessThan(100)
    const ts = [tx({ qname: 'a.' }), tx({ qname: 'b.', latencyMs: null }), tx({ qname: 'c.' })]
    const group = lazyEvents(ts, [2, 1, 0], (t) => t.response)
    expect(evidenceMix(events.slice(0, 1), group)).toEqual(
      evidenceMix(events.slice(0, 1), [ts[2].response, ts[1].response, ts[0].response]),
    )
  })
})
