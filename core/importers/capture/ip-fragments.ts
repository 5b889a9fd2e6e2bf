// IP fragment reassembly for IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5), with bounded memory:
// at most MAX_DATAGRAMS datagrams pending, each at most 64 KiB, each dropped when it has not
// completed within TIMEOUT_PACKETS packets (a capture has no clock a kernel would trust).

/** A datagram being put back together. */
interface Pending {
  family: number
  src: number
  dst: number
  ident: number
  proto: number
  firstPacket: number
  /** Payload length, known once the last fragment (MF=0) arrived; -1 before. */
  total: number
  offsets: number[]
  parts: Uint8Array[]
  bytes: number
}

export const MAX_DATAGRAMS = 256
export const TIMEOUT_PACKETS = 10_000
const MAX_DATAGRAM = 65_535

/** Reports a datagram that was given up on: how many bytes of it had arrived, and why. */
export type FragmentLoss = (firstPacket: number, reason: string) => void

export class FragmentTable {
  /** Numeric hash of (family, src, dst, ident, proto) -> datagrams with that hash. */
  private readonly pending = new Map<number, Pending[]>()
  private count = 0

  constructor(private readonly onLoss: FragmentLoss) {}

  /**
   * Adds one fragment (payload `b[s..e)` at byte `offset`, `more` = MF flag). Returns the whole
   * payload when this fragment completes the datagram, else null. `src`/`dst` are IPv4 values
   * or interned IPv6 address ids; `packet` is the frame number, for timeouts.
   */
  add(
    family: number,
    src: number,
    dst: number,
    ident: number,
    proto: number,
    offset: number,
    more: boolean,
    b: Uint8Array,
    s: number,
    e: number,
    packet: number,
  ): Uint8Array | null {
    if (offset + (e - s) > MAX_DATAGRAM) {
      this.onLoss(packet, `fragment at offset ${offset} runs past 65535 bytes; dropped`)
      return null
    }
    const hash =
      (Math.imul(src ^ Math.imul(dst, 0x9e3779b1), 31) +
        Math.imul(ident, 0x85ebca6b) +
        proto * 7 +
        family) |
      0
    let list = this.pending.get(hash)
    let d: Pending | undefined
    if (list) {
      for (const p of list) {
        if (
          p.family === family &&
          p.src === src &&
          p.dst === dst &&
          p.ident === ident &&
          p.proto === proto
        )
          d = p
      }
    }
    if (!d) {
      if (this.count >= MAX_DATAGRAMS) this.evictOldest()
      d = {
        family,
        src,
        dst,
        ident,
        proto,
        firstPacket: packet,
        total: -1,
        offsets: [],
        parts: [],
        bytes: 0,
      }
      if (!list) {
        list = []
        this.pending.set(hash, list)
      }
      list.push(d)
      this.count++
    }
    d.offsets.push(offset)
    d.parts.push(b.slice(s, e))
    d.bytes += e - s
    if (!more) d.total = offset + (e - s)
    if (d.total < 0 || d.bytes < d.total) return null
    const whole = assemble(d)
    if (whole) this.remove(hash, d)
    return whole
  }

  /** Drops datagrams that have waited more than TIMEOUT_PACKETS packets. */
  expire(packet: number): void {
    if (this.count === 0) return
    for (const [hash, list] of this.pending) {
      for (const d of list.slice()) {
        if (packet - d.firstPacket > TIMEOUT_PACKETS) {
          this.onLoss(d.firstPacket, lossText(d, `not completed within ${TIMEOUT_PACKETS} packets`))
          this.remove(hash, d)
        }
      }
    }
  }

  /** At the end of the capture: everything still pending is incomplete. */
  flush(): void {
    for (const list of this.pending.values())
      for (const d of list)
        this.onLoss(d.firstPacket, lossText(d, 'still incomplete at the end of the capture'))
    this.pending.clear()
    this.count = 0
  }

  private evictOldest(): void {
    let oldest: Pending | null = null
    let oldestHash = 0
    for (const [hash, list] of this.pending)
      for (const d of list)
        if (!oldest || d.firstPacket < oldest.firstPacket) {
          oldest = d
          oldestHash = hash
        }
    if (!oldest) return
    this.onLoss(
      oldest.firstPacket,
      lossText(oldest, `dropped: more than ${MAX_DATAGRAMS} datagrams pending`),
    )
    this.remove(oldestHash, oldest)
  }

  private remove(hash: number, d: Pending): void {
    const list = this.pending.get(hash)
    if (!list) return
    const i = list.indexOf(d)
    if (i >= 0) {
      list.splice(i, 1)
      this.count--
    }
    if (list.length === 0) this.pending.delete(hash)
  }
}

/** The payload when the fragments cover [0, total) without a hole, else null. */
function assemble(d: Pending): Uint8Array | null {
  const order = d.offsets.map((_, i) => i).sort((a, b) => d.offsets[a] - d.offsets[b])
  let covered = 0
  for (const i of order) {
    if (d.offsets[i] > covered) return null
    covered = Math.max(covered, d.offsets[i] + d.parts[i].length)
  }
  if (covered < d.total) return null
  const out = new Uint8Array(d.total)
  // Earlier fragments win where copies overlap: write later ones first.
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]
    const part = d.parts[i]
    const room = d.total - d.offsets[i]
    if (room > 0) out.set(room < part.length ? part.subarray(0, room) : part, d.offsets[i])
  }
  return out
}

function lossText(d: Pending, why: string): string {
  const v = d.family === 4 ? 'IPv4' : 'IPv6'
  const total = d.total >= 0 ? ` of ${d.total}` : ''
  return `${v} fragments (id ${d.ident}, ${d.parts.length} fragments, ${d.bytes}${total} bytes) ${why}`
}
