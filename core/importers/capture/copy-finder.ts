// One packet captured twice in one file: `tcpdump -i any` on a host that forwards it (a node
// routing pod traffic, before and after kube-proxy's DNAT) records it on the way in and on the
// way out. The copies carry the same DNS bytes and, for IPv4, the same IP identification (NAT
// rewrites addresses and ports, never the id), a few microseconds apart. A client's retransmit
// comes a second or more later (glibc waits at least 1 s) and, over IPv4, with a new id.

/** Copies further apart than this are separate sends. */
export const COPY_WINDOW_US = 500_000
/** Recent messages remembered: far more than a host forwards within the window. */
const RING = 8192

export class CopyFinder {
  private readonly slotOf = new Map<number, number>()
  private readonly keys = new Float64Array(RING).fill(-1)
  private readonly refs = new Int32Array(RING)
  private readonly times = new Float64Array(RING)
  private next = 0

  /**
   * The frame number of an earlier copy of the message `b[s..e)` (with IPv4 id `ipId`, or -1)
   * seen within COPY_WINDOW_US, or 0 when this is the first copy (which is then remembered).
   */
  seen(b: Uint8Array, s: number, e: number, ipId: number, ref: number, time: number): number {
    const key = messageKey(b, s, e, ipId)
    const slot = this.slotOf.get(key)
    if (slot !== undefined) {
      const dt = time - this.times[slot]
      if (dt >= 0 && dt <= COPY_WINDOW_US) return this.refs[slot]
    }
    const i = this.next
    this.next = (i + 1) % RING
    const old = this.keys[i]
    if (old >= 0 && this.slotOf.get(old) === i) this.slotOf.delete(old)
    this.keys[i] = key
    this.refs[i] = ref
    this.times[i] = time
    this.slotOf.set(key, i)
    return 0
  }
}

/** A 53-bit key of the message bytes, their length and the IPv4 id: two 32-bit hashes combined. */
function messageKey(b: Uint8Array, s: number, e: number, ipId: number): number {
  let h1 = 0x811c9dc5 ^ ipId
  let h2 = Math.imul(e - s, 0x9e3779b1) ^ ipId
  for (let i = s; i < e; i++) {
    const c = b[i]
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 + c, 0x85ebca6b) ^ (h2 >>> 13)
  }
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff)
}
