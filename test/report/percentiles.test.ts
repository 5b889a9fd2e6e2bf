// Latency percentiles by selection, checked against nearest rank read off a full sort.
import { describe, expect, it } from 'vitest'
import { percentiles } from '../../core/report/build-report.js'
import { select } from '../../core/metrics/select.js'

/** Nearest-rank percentile from a sorted copy: the definition the report documents. */
function bySort(values: number[]) {
  const s = Float64Array.from(values).sort()
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]
  const r = (x: number) => Math.round(x * 1000) / 1000
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1]) }
}

/** A small deterministic generator (xorshift), so a failure can be replayed. */
function numbers(seed: number, n: number, spread: number): number[] {
  let x = seed
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.push(((x >>> 0) % spread) / 7)
  }
  return out
}

describe('percentiles', () => {
  it('is null for no values', () => {
    expect(percentiles([])).toEqual({ p50: null, p90: null, p99: null, max: null })
  })

  it('equals nearest rank from a sort, for sizes 1..300 and many duplicates', () => {
    for (let n = 1; n <= 300; n++)
      for (const spread of [3, 1000, 1e9])
        expect(percentiles(numbers(n * 7919 + spread, n, spread))).toEqual(
          bySort(numbers(n * 7919 + spread, n, spread)),
        )
  })

  it('handles sorted, reversed and constant input of 100,000 values', () => {
    const up = Array.from({ length: 100_000 }, (_, i) => i / 10)
    for (const v of [up, [...up].reverse(), up.map(() => 4.5)])
      expect(percentiles(v)).toEqual(bySort(v))
  })

  it('select puts the k-th smallest at k, smaller before, larger after', () => {
    // Sizes either side of 600, where the selection first narrows the range on a sample; a
    // subrange (left > 0) and both ends for k.
    for (const [n, spread, left] of [
      [1001, 50, 0],
      [599, 1e9, 0],
      [5000, 3, 17],
      [20_000, 1e6, 1000],
    ])
      for (const k of [left, left + 1, (left + n - 1) >> 1, n - 2, n - 1]) {
        const v = Float64Array.from(numbers(42 + n + k, n, spread))
        const sorted = v.subarray(left).slice().sort()
        select(v, left, n - 1, k)
        const x = v[k]
        expect(x).toBe(sorted[k - left])
        for (let i = left; i < k; i++) expect(v[i]).toBeLessThanOrEqual(x)
        for (let i = k + 1; i < n; i++) expect(v[i]).toBeGreaterThanOrEqual(x)
      }
  })
})
