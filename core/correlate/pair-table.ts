// An open-addressing hash table from a pair of numbers to a small integer, stored in typed arrays
// so a million entries cost a few flat buffers instead of a million key strings and Map entries.

const EMPTY = -1

export class PairTable {
  private k1: Float64Array
  private k2: Float64Array
  private vals: Int32Array
  private mask: number
  size = 0

  constructor(capacity = 1024) {
    let cap = 16
    while (cap < capacity * 2) cap *= 2
    this.k1 = new Float64Array(cap)
    this.k2 = new Float64Array(cap)
    this.vals = new Int32Array(cap).fill(EMPTY)
    this.mask = cap - 1
  }

  /** The value stored for (a, b), or -1. */
  get(a: number, b: number): number {
    for (let i = hash(a, b) & this.mask; ; i = (i + 1) & this.mask) {
      const v = this.vals[i]
      if (v === EMPTY) return EMPTY
      if (this.k1[i] === a && this.k2[i] === b) return v
    }
  }

  /** Stores (a, b) → value (value ≥ 0), replacing any earlier value. */
  set(a: number, b: number, value: number): void {
    if ((this.size + 1) * 2 > this.vals.length) this.grow()
    for (let i = hash(a, b) & this.mask; ; i = (i + 1) & this.mask) {
      const v = this.vals[i]
      if (v === EMPTY) {
        this.k1[i] = a
        this.k2[i] = b
        this.vals[i] = value
        this.size++
        return
      }
      if (this.k1[i] === a && this.k2[i] === b) {
        this.vals[i] = value
        return
      }
    }
  }

  private grow(): void {
    const { k1, k2, vals } = this
    const cap = vals.length * 2
    this.k1 = new Float64Array(cap)
    this.k2 = new Float64Array(cap)
    this.vals = new Int32Array(cap).fill(EMPTY)
    this.mask = cap - 1
    this.size = 0
    for (let i = 0; i < vals.length; i++) if (vals[i] !== EMPTY) this.set(k1[i], k2[i], vals[i])
  }
}

/** Mixes two non-negative integers below 2^53 into a 31-bit hash. */
function hash(a: number, b: number): number {
  let h = Math.imul((a | 0) ^ Math.floor(a / 4294967296), 0x9e3779b1)
  h = Math.imul(h ^ (b | 0) ^ Math.floor(b / 4294967296), 0x85ebca6b)
  h ^= h >>> 15
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 13)) & 0x7fffffff
}

/** Gives each distinct string a small integer, in order of first sight. */
export class Interner {
  private readonly ids = new Map<string, number>()
  id(s: string): number {
    let n = this.ids.get(s)
    if (n === undefined) this.ids.set(s, (n = this.ids.size))
    return n
  }
}
