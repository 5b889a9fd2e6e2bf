// Order statistics without a sort: the k-th smallest of a range, in linear time on average.

/**
 * Puts the k-th smallest of a[left..right] (inclusive) at k, smaller ones before it and larger
 * ones after (Floyd-Rivest). The input must hold no NaN.
 *
 * A large range is first narrowed by selecting on a sample around k, so the pivot is close to
 * the answer whatever the layout: median-of-three pivots chose badly on the per-second latency
 * runs the rules and the report select from (runs ordered by time, not at random).
 */
export function select(a: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1
      const m = k - left + 1
      const z = Math.log(n)
      const s = 0.5 * Math.exp((2 * z) / 3)
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1)
      select(
        a,
        Math.max(left, Math.floor(k - (m * s) / n + sd)),
        Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)),
        k,
      )
    }
    const t = a[k]
    let i = left
    let j = right
    swap(a, left, k)
    if (a[right] > t) swap(a, left, right)
    while (i < j) {
      swap(a, i, j)
      i++
      j--
      while (a[i] < t) i++
      while (a[j] > t) j--
    }
    if (a[left] === t) swap(a, left, j)
    else {
      j++
      swap(a, j, right)
    }
    if (j <= k) left = j + 1
    if (k <= j) right = j - 1
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]
  a[i] = a[j]
  a[j] = t
}
