// DNS over TCP: per-direction stream reassembly and message framing (RFC 1035 §4.2.2 / RFC 7766
// §8: every message is preceded by a 2-byte length). Handles several messages in one segment,
// one message over many segments, retransmitted and out-of-order segments, and segments the
// capture never saw: a hole drops the message it cuts and framing resynchronizes at a later
// segment start whose first bytes look like a length and a DNS header.
import { u16be } from '../../codec/byte-reader.js'

/** The frame a piece of data arrived in: the evidence of the messages it completes. */
export interface FrameRef {
  frame: number
  time: number
  offset: number
}

/** Where reassembled messages go. */
export interface TcpSink {
  /**
   * One complete message `b[start..end)` of a direction. `certain` is false while framing is not
   * yet confirmed (stream joined mid-way, or after a hole): then a message that does not decode
   * means the framing guess was wrong, not that the message is malformed. Returns whether it decoded.
   */
  tcpMessage(
    dir: TcpDirection,
    b: Uint8Array,
    start: number,
    end: number,
    at: FrameRef,
    certain: boolean,
  ): boolean
  tcpProblem(dir: TcpDirection, at: FrameRef, message: string): void
}

interface Held {
  seq: number
  data: Uint8Array
  wireLen: number
  at: FrameRef
}

/** One direction of a TCP connection: the sender's byte stream. */
export class TcpDirection {
  peer: TcpDirection | null = null
  /** Sequence number of the next byte expected; -1 before any data or SYN. */
  nextSeq = -1
  /** Framing is known to be at message boundaries (SYN seen, or a message decoded since). */
  aligned = false
  fin = false
  /** Bytes of the message being assembled, its 2-byte length included. */
  buf: Uint8Array = EMPTY
  bufLen = 0
  held: Held[] | null = null
  heldBytes = 0
  constructor(
    readonly srcId: number,
    readonly sport: number,
    readonly dstId: number,
    readonly dport: number,
  ) {}
}

const EMPTY = new Uint8Array(0)
const SYN = 0x02
const FIN = 0x01
const RST = 0x04
const ACK = 0x10
/** Out-of-order segments held per direction before the missing bytes are declared lost. */
const MAX_HELD = 64
const MAX_HELD_BYTES = 1 << 20
/** Bytes buffered (messages being assembled + held segments) over all directions. */
export const MAX_MEMORY = 64 << 20
/** Directions tracked at once; the oldest is closed when a new one would exceed this. */
export const MAX_DIRECTIONS = 20_000
/** A difference of sequence numbers beyond this is not "ahead" but wrapped or bogus. */
const SEQ_WINDOW = 1 << 30

export class TcpReassembly {
  /** (srcId * 65536 + sport) -> (dstId * 65536 + dport) -> direction. */
  private readonly dirs = new Map<number, Map<number, TcpDirection>>()
  /** Creation order, for closing the oldest when the table is full. */
  private readonly order = new Set<TcpDirection>()
  /** Bytes in message buffers and held segments, over all directions. */
  private memory = 0

  constructor(private readonly sink: TcpSink) {}

  /**
   * One TCP segment. `b[s..e)` is the captured payload; `wireLen` is the payload length the IP
   * header announced (more than e - s when the capture cut the packet short).
   */
  segment(
    srcId: number,
    sport: number,
    dstId: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    b: Uint8Array,
    s: number,
    e: number,
    wireLen: number,
    at: FrameRef,
  ): void {
    let dir = this.find(srcId, sport, dstId, dport)
    if (!dir) {
      if (wireLen === 0 && (flags & SYN) === 0) {
        this.ackOnly(dstId, dport, srcId, sport, ack, flags, at)
        return
      }
      dir = this.create(srcId, sport, dstId, dport, at)
    }
    if ((flags & SYN) !== 0) {
      if (dir.nextSeq !== (seq + 1) >>> 0) this.reset(dir, (seq + 1) >>> 0, at)
      seq = (seq + 1) >>> 0 // data in a SYN (TCP Fast Open, RFC 7413) follows the SYN's own number
    }
    if (wireLen > 0) this.data(dir, seq, b, s, e, wireLen, at)
    if ((flags & FIN) !== 0 && !dir.fin && dir.nextSeq === (seq + wireLen) >>> 0) {
      dir.fin = true
      dir.nextSeq = (dir.nextSeq + 1) >>> 0
    }
    if ((flags & ACK) !== 0 && dir.peer) this.acked(dir.peer, ack, at)
    if ((flags & RST) !== 0 || (dir.fin && dir.peer?.fin)) this.close(dir, at)
  }

  /** End of the capture: lost bytes are final and unfinished messages are reported. */
  finish(at: FrameRef): void {
    for (const dir of [...this.order]) this.closeOne(dir, at, 'the capture ended')
    this.dirs.clear()
    this.order.clear()
  }

  private ackOnly(
    srcId: number,
    sport: number,
    dstId: number,
    dport: number,
    ack: number,
    flags: number,
    at: FrameRef,
  ): void {
    // A pure ACK on a direction we do not track: it may still prove the peer's bytes were lost.
    if ((flags & ACK) === 0) return
    const peer = this.find(srcId, sport, dstId, dport)
    if (peer) this.acked(peer, ack, at)
    if ((flags & RST) !== 0 && peer) this.close(peer, at)
  }

  private data(
    dir: TcpDirection,
    seq: number,
    b: Uint8Array,
    s: number,
    e: number,
    wireLen: number,
    at: FrameRef,
  ): void {
    if (dir.nextSeq < 0) {
      // Joined mid-stream: no SYN, so the first byte may be anywhere inside a message.
      dir.nextSeq = seq
      dir.aligned = false
    }
    const d = (seq - dir.nextSeq) | 0
    if (d >= SEQ_WINDOW || d <= -SEQ_WINDOW) {
      // Not a stream we can follow any more (the ports were reused without a SYN we saw, or the
      // header is corrupt): start over at this segment.
      this.lose(dir, at, `sequence number jumped by ${d}; reading on from here`)
      dir.nextSeq = seq
    } else if (d > 0) {
      this.hold(dir, seq, b, s, e, wireLen, at)
      return
    } else if (d < 0) {
      // Retransmission, or a segment overlapping bytes already taken: keep only the new part.
      const skip = -d
      if (skip >= wireLen) return
      s = Math.min(e, s + skip)
      wireLen -= skip
    }
    this.inOrder(dir, b, s, e, wireLen, at)
    this.drain(dir)
  }

  private inOrder(
    dir: TcpDirection,
    b: Uint8Array,
    s: number,
    e: number,
    wireLen: number,
    at: FrameRef,
  ): void {
    dir.nextSeq = (dir.nextSeq + wireLen) >>> 0
    if (e > s) this.feed(dir, b, s, e, at)
    const missing = wireLen - (e - s)
    if (missing > 0) this.lose(dir, at, `${missing} bytes of a segment were not captured (snaplen)`)
  }

  private hold(
    dir: TcpDirection,
    seq: number,
    b: Uint8Array,
    s: number,
    e: number,
    wireLen: number,
    at: FrameRef,
  ): void {
    const held = (dir.held ??= [])
    const h: Held = {
      seq,
      data: b.slice(s, e),
      wireLen,
      at: { frame: at.frame, time: at.time, offset: at.offset },
    }
    let i = held.length
    while (i > 0 && ((held[i - 1].seq - seq) | 0) > 0) i--
    held.splice(i, 0, h)
    dir.heldBytes += e - s
    this.memory += e - s
    if (held.length > MAX_HELD || dir.heldBytes > MAX_HELD_BYTES) this.gap(dir, at, -1)
    this.enforceBudget(dir, at)
  }

  /** Feeds held segments that have become in-order. */
  private drain(dir: TcpDirection): void {
    const held = dir.held
    while (held && held.length > 0) {
      const h = held[0]
      const d = (h.seq - dir.nextSeq) | 0
      if (d > 0) break
      held.shift()
      dir.heldBytes -= h.data.length
      this.memory -= h.data.length
      const skip = -d
      if (skip >= h.wireLen) continue
      this.inOrder(
        dir,
        h.data,
        Math.min(skip, h.data.length),
        h.data.length,
        h.wireLen - skip,
        h.at,
      )
    }
  }

  /** The peer acknowledged `ack`: bytes before it that we never saw were lost by the capture. */
  private acked(dir: TcpDirection, ack: number, at: FrameRef): void {
    if (dir.nextSeq < 0) return
    const d = (ack - dir.nextSeq) | 0
    if (d > 0 && d < SEQ_WINDOW) this.gap(dir, at, ack)
  }

  /** Declares the bytes up to the first held segment (or up to `upTo`) lost, and moves on. */
  private gap(dir: TcpDirection, at: FrameRef, upTo: number): void {
    const target = dir.held && dir.held.length > 0 ? dir.held[0].seq : upTo
    if (target < 0) return
    const missing = (target - dir.nextSeq) | 0
    if (missing <= 0) return
    this.lose(dir, at, `${missing} bytes were never captured`)
    dir.nextSeq = target
    this.drain(dir)
  }

  /** Bytes are missing from the stream: the message they cut is lost, framing must be found again. */
  private lose(dir: TcpDirection, at: FrameRef, why: string): void {
    const cut = dir.bufLen > 0 ? `; dropped ${dir.bufLen} bytes of a DNS message they cut` : ''
    this.sink.tcpProblem(dir, at, `${why}${cut}`)
    dir.bufLen = 0
    dir.aligned = false
  }

  /**
   * Frames messages out of in-order bytes `b[s..e)`, which start a new segment. Complete messages
   * inside the segment are handed over without copying; only a message cut by the segment's end
   * is copied into the direction's buffer.
   */
  private feed(dir: TcpDirection, b: Uint8Array, s: number, e: number, at: FrameRef): void {
    let pos = s
    if (dir.bufLen > 0) {
      pos = this.continueMessage(dir, b, s, e, at)
      if (pos < 0) return
    }
    while (e - pos >= 2) {
      const len = u16be(b, pos)
      if (!dir.aligned && !plausible(b, pos, e)) {
        this.sink.tcpProblem(
          dir,
          at,
          `skipped ${e - pos} bytes that do not start a DNS message (resynchronizing)`,
        )
        return
      }
      if (e - pos - 2 < len) break
      const ok = this.sink.tcpMessage(dir, b, pos + 2, pos + 2 + len, at, dir.aligned)
      if (!ok && !dir.aligned) {
        this.sink.tcpProblem(
          dir,
          at,
          `skipped ${e - pos} bytes that do not decode as DNS (resynchronizing)`,
        )
        return
      }
      if (ok) dir.aligned = true
      pos += 2 + len
    }
    if (pos < e) this.keep(dir, b, pos, e)
    if (this.memory > MAX_MEMORY) this.enforceBudget(dir, at)
  }

  /** Adds bytes to the message in the buffer. Returns where framing goes on in `b`, or -1. */
  private continueMessage(
    dir: TcpDirection,
    b: Uint8Array,
    s: number,
    e: number,
    at: FrameRef,
  ): number {
    let pos = s
    if (dir.bufLen < 2) {
      this.keep(dir, b, pos, pos + 1)
      pos++
    }
    const total = 2 + ((dir.buf[0] << 8) | dir.buf[1])
    const n = Math.min(total - dir.bufLen, e - pos)
    this.keep(dir, b, pos, pos + n)
    pos += n
    if (!dir.aligned && !plausible(dir.buf, 0, dir.bufLen)) {
      // What looked like a length was not one: restart framing at this segment's first byte.
      this.sink.tcpProblem(
        dir,
        at,
        `dropped ${dir.bufLen} bytes that did not start a DNS message (resynchronizing)`,
      )
      dir.bufLen = 0
      return s
    }
    if (dir.bufLen < total) return -1
    dir.bufLen = 0
    const ok = this.sink.tcpMessage(dir, dir.buf, 2, total, at, dir.aligned)
    if (!ok && !dir.aligned) {
      this.sink.tcpProblem(
        dir,
        at,
        `dropped a ${total - 2}-byte message that does not decode as DNS (resynchronizing)`,
      )
      return -1
    }
    if (ok) dir.aligned = true
    return pos
  }

  /** Appends `b[s..e)` to the direction's message buffer. */
  private keep(dir: TcpDirection, b: Uint8Array, s: number, e: number): void {
    const need = dir.bufLen + (e - s)
    if (need > dir.buf.length) {
      const grown = new Uint8Array(Math.max(need, 64, Math.min(dir.buf.length * 2, 65537)))
      grown.set(dir.buf.subarray(0, dir.bufLen))
      this.memory += grown.length - dir.buf.length
      dir.buf = grown
    }
    dir.buf.set(b.subarray(s, e), dir.bufLen)
    dir.bufLen = need
  }

  private find(
    srcId: number,
    sport: number,
    dstId: number,
    dport: number,
  ): TcpDirection | undefined {
    return this.dirs.get(srcId * 65536 + sport)?.get(dstId * 65536 + dport)
  }

  private create(
    srcId: number,
    sport: number,
    dstId: number,
    dport: number,
    at: FrameRef,
  ): TcpDirection {
    if (this.order.size >= MAX_DIRECTIONS) {
      const oldest = this.order.values().next().value as TcpDirection
      this.closeOne(oldest, at, `more than ${MAX_DIRECTIONS} TCP directions were open`)
    }
    const dir = new TcpDirection(srcId, sport, dstId, dport)
    const k1 = srcId * 65536 + sport
    let inner = this.dirs.get(k1)
    if (!inner) this.dirs.set(k1, (inner = new Map()))
    inner.set(dstId * 65536 + dport, dir)
    this.order.add(dir)
    const peer = this.find(dstId, dport, srcId, sport)
    if (peer) {
      dir.peer = peer
      peer.peer = dir
    }
    return dir
  }

  private reset(dir: TcpDirection, next: number, at: FrameRef): void {
    if (dir.bufLen > 0 || dir.heldBytes > 0)
      this.sink.tcpProblem(
        dir,
        at,
        `a new SYN restarted the stream; dropped ${dir.bufLen + dir.heldBytes} unfinished bytes`,
      )
    dir.nextSeq = next
    dir.aligned = true
    dir.fin = false
    dir.bufLen = 0
    dir.held = null
    this.memory -= dir.heldBytes
    dir.heldBytes = 0
  }

  /** Closes the oldest directions (never `current`) while the buffers exceed MAX_MEMORY. */
  private enforceBudget(current: TcpDirection, at: FrameRef): void {
    if (this.memory <= MAX_MEMORY) return
    for (const dir of this.order) {
      if (this.memory <= MAX_MEMORY) return
      if (dir !== current)
        this.closeOne(dir, at, `TCP reassembly used more than ${MAX_MEMORY >> 20} MB`)
    }
  }

  private close(dir: TcpDirection, at: FrameRef): void {
    const why = 'the connection closed'
    if (dir.peer) this.closeOne(dir.peer, at, why)
    this.closeOne(dir, at, why)
  }

  private closeOne(dir: TcpDirection, at: FrameRef, why: string): void {
    if (!this.order.delete(dir)) return
    // Held segments behind holes: each hole is final now.
    for (let i = 0; dir.held && dir.held.length > 0 && i <= MAX_HELD; i++) this.gap(dir, at, -1)
    this.memory -= dir.heldBytes
    dir.held = null
    dir.heldBytes = 0
    if (dir.bufLen > 0)
      this.sink.tcpProblem(
        dir,
        at,
        `${why} inside a DNS message (${dir.bufLen} bytes of it were seen)`,
      )
    dir.bufLen = 0
    this.memory -= dir.buf.length
    dir.buf = EMPTY
    const k1 = dir.srcId * 65536 + dir.sport
    const inner = this.dirs.get(k1)
    inner?.delete(dir.dstId * 65536 + dir.dport)
    if (inner && inner.size === 0) this.dirs.delete(k1)
    if (dir.peer) dir.peer.peer = null
  }
}

/**
 * Could a DNS message start at `b[p]` (its 2-byte length first)? Used only while framing is
 * uncertain. Checks what is available: a length of at least a header, and a header whose
 * opcode, Z bit, counts and (for a query) rcode are those of real traffic.
 */
export function plausible(b: Uint8Array, p: number, e: number): boolean {
  if (e - p < 2) return true
  const len = u16be(b, p)
  if (len < 12) return false
  if (e - p < 14) return true
  const flags = u16be(b, p + 4)
  const qd = u16be(b, p + 6)
  const records = u16be(b, p + 8) + u16be(b, p + 10) + u16be(b, p + 12)
  const opcode = (flags >> 11) & 0xf
  if (opcode === 3 || opcode > 6 || (flags & 0x0040) !== 0 || qd > 1) return false
  if ((flags & 0x8000) === 0 && (qd !== 1 || (flags & 0xf) !== 0)) return false
  return qd * 5 + records * 11 <= len - 12
}
