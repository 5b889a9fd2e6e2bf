// Order statistics without a sort: the k-th smallest of a range, in linear time on average.

/**
 * Puts the k-th smallest of a[left..right] (inclusive) at k, smaller ones before it and larger
 * ones after (Hoare's selection, median-of-three pivot). The input must hold no NaN.
 */
export function select(a: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    const mid = (left + right) >> 1
    const x = a[left]
    const y = a[mid]
    const z = a[right]
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y
    let i = left
    let j = right
    while (i <= j) {
      while (a[i] < pivot) i++
      while (a[j] > pivot) j--
      if (i <= j) {
        const t = a[i]
        a[i] = a[j]
        a[j] = t
        i++
        j--
      }
    }
    if (k <= j) right = j
    else if (k >= i) left = i
    else return
  }
}
