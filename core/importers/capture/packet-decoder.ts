// From a captured frame to DNS message events: link layer, IPv4 (RFC 791) and IPv6 (RFC 8200)
// with extension headers and fragment reassembly, UDP (RFC 768) and TCP (RFC 9293) on the DNS
// ports, VXLAN (RFC 7348) and Geneve (RFC 8926) overlays, then the DNS header and question.
// One decoder serves one capture file; pcap.ts and pcapng.ts feed it frames.
import type { Transport } from '../../model/event.js'
import { DnsTable, SOURCE, TRANSPORT } from '../../model/dns-table.js'
import type { ImportContext, ImportInput, ImportResult, Problem } from '../importer.js'
import { u16be, u32be } from '../../codec/byte-reader.js'
import { decodeHeaderQuestion, newHeaderQuestion, DnsDecodeError } from '../../codec/dns-message.js'
import { AddressTable } from './addresses.js'
import { findNetwork, ethernet, LINKTYPE, type NetworkRef } from './link-layer.js'
import { FragmentTable } from './ip-fragments.js'
import { TcpReassembly, type FrameRef, type TcpDirection, type TcpSink } from './tcp-reassembly.js'
import { CopyFinder } from './copy-finder.js'

const PROTO_TCP = 6
const PROTO_UDP = 17
/** IP-in-IP tunnels (RFC 2003, RFC 4213: Calico's IPIP mode) and GRE (RFC 2784, RFC 2890). */
const PROTO_IPIP = 4
const PROTO_IPV6_IN_IP = 41
const PROTO_GRE = 47
/** GRE protocol type of ERSPAN type II mirroring: an 8-byte header, then the mirrored frame. */
const GRE_ERSPAN_II = 0x88be
const VXLAN_PORT = 4789
/**
 * The Linux kernel's VXLAN port, which flannel and Cilium use by default: Kubernetes node
 * captures carry pod DNS inside it. (tshark decodes it only with -d udp.port==8472,vxlan.)
 */
const VXLAN_LINUX_PORT = 8472
const GENEVE_PORT = 6081
/** IPv6 extension headers skipped on the way to the transport (RFC 8200 §4, RFC 4302, RFC 6275). */
const V6_HOP = 0
const V6_ROUTING = 43
const V6_FRAGMENT = 44
const V6_AH = 51
const V6_NONE = 59
const V6_DSTOPTS = 60
const V6_MOBILITY = 135
const MAX_EXT_HEADERS = 8
/** Overlays inside overlays: zeek's corpus has VXLAN three deep; more is not traffic. */
const MAX_DEPTH = 4
/** Problems listed one by one; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 200
const EXPIRE_EVERY = 1024

/** What the file readers (pcap.ts, pcapng.ts) hand their frames and problems to. */
export interface FrameSink {
  packet(
    linktype: number,
    b: Uint8Array,
    start: number,
    end: number,
    wireLen: number,
    time: number,
    frame: number,
    offset: number,
  ): void
  /** A problem with one frame. */
  problem(frame: number, message: string): void
  /** A problem with the file's structure (`where`: "file header", "block at byte 96", ...). */
  fileProblem(where: string, message: string): void
}

export class CaptureDecoder implements TcpSink, FrameSink {
  /** DNS messages decoded so far. */
  messages = 0
  readonly problems: Problem[] = []
  /** Messages on the DNS ports that did not decode (not emitted). */
  undecodable = 0
  private unlisted = 0
  private readonly isDnsPort = new Uint8Array(65536)
  private readonly addrs = new AddressTable()
  private readonly hq = newHeaderQuestion()
  private readonly net: NetworkRef = { at: 0, version: 0, error: '' }
  private readonly frags: FragmentTable
  private readonly tcp: TcpReassembly
  /** The frame being decoded. */
  private readonly cur: FrameRef = { frame: 0, time: 0, offset: 0 }
  private capturedShort = false
  /** The IP header of the packet being decoded claimed more bytes than the frame holds. */
  private ipCut = false
  private depth = 0
  /** `tcpdump -i any` (Linux cooked): a forwarded packet is captured once per interface. */
  private anyInterface = false
  private readonly copies = new CopyFinder()
  /** IPv4 identification of the packet being decoded; -1 for IPv6. */
  private ipId = -1
  // Where the addresses of the IP header being decoded are: buffer, offset of the source, family.
  private addrBuf: Uint8Array = new Uint8Array(0)
  private addrAt = 0
  private family = 4

  /** The table's string number of each AddressTable id, or -1 until first needed. */
  private poolIds = new Int32Array(64).fill(-1)
  private readonly vantageId: number

  constructor(
    private readonly input: number,
    vantage: string,
    dnsPorts: ReadonlySet<number>,
    /** Where decoded messages go, one row each. */
    private readonly table: DnsTable,
  ) {
    this.vantageId = table.strings.id(vantage)
    for (const p of dnsPorts) if (p >= 0 && p < 65536) this.isDnsPort[p] = 1
    this.frags = new FragmentTable((packet, reason) => this.problem(packet, reason))
    this.tcp = new TcpReassembly(this)
  }

  packet(
    linktype: number,
    b: Uint8Array,
    start: number,
    end: number,
    wireLen: number,
    time: number,
    frame: number,
    offset: number,
  ): void {
    const cur = this.cur
    cur.frame = frame
    cur.time = time
    cur.offset = offset
    this.capturedShort = end - start < wireLen
    this.ipCut = false
    this.depth = 0
    this.ipId = -1
    this.anyInterface = linktype === LINKTYPE.LINUX_SLL || linktype === LINKTYPE.LINUX_SLL2
    if ((frame & (EXPIRE_EVERY - 1)) === 0) this.frags.expire(frame)
    const net = this.net
    if (!findNetwork(linktype, b, start, end, net)) {
      if (net.error) this.problem(frame, net.error)
      return
    }
    if (net.version === 4) this.ipv4(b, net.at, end)
    else this.ipv6(b, net.at, end)
  }

  /** End of the file: pending fragments and TCP streams are settled and reported. */
  finish(): void {
    this.tcp.finish(this.cur)
    this.frags.flush()
    if (this.undecodable > 0)
      this.problems.push({
        where: 'capture',
        message: `${this.undecodable} message(s) on the DNS ports did not decode as DNS and were not counted`,
      })
    if (this.unlisted > 0)
      this.problems.push({
        where: 'capture',
        message: `${this.unlisted} more problem(s) not listed`,
      })
  }

  fileProblem(where: string, message: string): void {
    this.problems.push({ where, message })
  }

  problem(frame: number, message: string): void {
    if (this.problems.length < MAX_LISTED_PROBLEMS)
      this.problems.push({ where: `packet ${frame}`, message })
    else this.unlisted++
  }

  private ipv4(b: Uint8Array, p: number, end: number): void {
    if (end - p < 20) return
    const ihl = (b[p] & 0x0f) << 2
    const total = u16be(b, p + 2)
    if (ihl < 20 || total < ihl || p + ihl > end) {
      const why =
        ihl < 20
          ? `header length ${ihl} is less than 20`
          : total < ihl
            ? `total length ${total} is less than its ${ihl}-byte header`
            : 'header cut off'
      this.problem(this.cur.frame, `IPv4 ${why}; not decoded`)
      return
    }
    let ipEnd = p + total
    if (ipEnd > end) {
      if (!this.capturedShort)
        this.problem(
          this.cur.frame,
          `IPv4 total length ${total} is more than the ${end - p} bytes in the frame; decoded what is there`,
        )
      this.ipCut = true
      ipEnd = end
    }
    const proto = b[p + 9]
    const frag = u16be(b, p + 6)
    if (proto !== PROTO_UDP && proto !== PROTO_TCP) {
      if ((frag & 0x3fff) === 0) this.tunnel(proto, b, p + ihl, ipEnd)
      return
    }
    this.addrBuf = b
    this.addrAt = p + 12
    this.family = 4
    this.ipId = u16be(b, p + 4)
    if ((frag & 0x3fff) !== 0) {
      const whole = this.frags.add(
        4,
        u32be(b, p + 12),
        u32be(b, p + 16),
        u16be(b, p + 4),
        proto,
        (frag & 0x1fff) * 8,
        (frag & 0x2000) !== 0,
        b,
        p + ihl,
        ipEnd,
        this.cur.frame,
      )
      if (whole) this.transport(proto, whole, 0, whole.length, whole.length)
      return
    }
    this.transport(proto, b, p + ihl, ipEnd, total - ihl)
  }

  private ipv6(b: Uint8Array, p: number, end: number): void {
    if (end - p < 40 || b[p] >> 4 !== 6) return
    const plen = u16be(b, p + 4)
    let next = b[p + 6]
    let ipEnd = p + 40 + plen
    // Payload length 0 is a jumbogram (RFC 2675): the frame says how long it is.
    if (plen === 0) ipEnd = end
    else if (ipEnd > end) {
      if (!this.capturedShort)
        this.problem(
          this.cur.frame,
          `IPv6 payload length ${plen} is more than the ${end - p - 40} bytes in the frame; decoded what is there`,
        )
      this.ipCut = true
      ipEnd = end
    }
    this.addrBuf = b
    this.addrAt = p + 8
    this.family = 6
    this.ipId = -1
    let q = p + 40
    for (let i = 0; i < MAX_EXT_HEADERS; i++) {
      if (next === PROTO_UDP || next === PROTO_TCP) {
        this.transport(next, b, q, ipEnd, plen === 0 ? ipEnd - q : p + 40 + plen - q)
        return
      }
      if (next === PROTO_IPIP || next === PROTO_IPV6_IN_IP || next === PROTO_GRE) {
        this.tunnel(next, b, q, ipEnd)
        return
      }
      if (ipEnd - q < 8 || next === V6_NONE) return
      if (next === V6_FRAGMENT) {
        const field = u16be(b, q + 2)
        const more = (field & 1) !== 0
        const offset = field & 0xfff8
        const proto = b[q]
        q += 8
        if (offset === 0 && !more) {
          next = proto // an atomic fragment (RFC 6946) is a whole datagram
          continue
        }
        if (proto !== PROTO_UDP && proto !== PROTO_TCP) return
        const src = this.addrs.ipv6(b, p + 8)
        const dst = this.addrs.ipv6(b, p + 24)
        const whole = this.frags.add(
          6,
          src,
          dst,
          u32be(b, q - 4),
          proto,
          offset,
          more,
          b,
          q,
          ipEnd,
          this.cur.frame,
        )
        if (whole) this.transport(proto, whole, 0, whole.length, whole.length)
        return
      }
      if (next === V6_HOP || next === V6_ROUTING || next === V6_DSTOPTS || next === V6_MOBILITY) {
        const len = (b[q + 1] + 1) * 8
        next = b[q]
        q += len
      } else if (next === V6_AH) {
        const len = (b[q + 1] + 2) * 4
        next = b[q]
        q += len
      } else return
    }
  }

  /** `b[s..e)` is the transport segment as captured; `wireLen` its length per the IP header. */
  private transport(proto: number, b: Uint8Array, s: number, e: number, wireLen: number): void {
    if (proto === PROTO_UDP) this.udp(b, s, e)
    else this.tcpSegment(b, s, e, wireLen)
  }

  private udp(b: Uint8Array, s: number, e: number): void {
    if (e - s < 8) return
    const sport = u16be(b, s)
    const dport = u16be(b, s + 2)
    const ulen = u16be(b, s + 4)
    if (this.isDnsPort[sport] === 1 || this.isDnsPort[dport] === 1) {
      if (ulen <= 8) {
        const why =
          ulen < 8
            ? `UDP length field ${ulen} is less than 8`
            : 'UDP datagram on a DNS port carries no payload'
        this.problem(this.cur.frame, `${this.endpoints(sport, dport)}: ${why}`)
        return
      }
      // The UDP length says how long the message is; the packet may hold less (snaplen, or a
      // lying header), and then the message is marked as cut off.
      if (s + ulen > e && !this.capturedShort && !this.ipCut)
        this.problem(
          this.cur.frame,
          `${this.endpoints(sport, dport)}: UDP length ${ulen} is more than the ${e - s} bytes the IP packet holds; decoded what is there`,
        )
      this.message('udp', sport, dport, b, s + 8, Math.min(e, s + ulen), ulen - 8, this.cur)
      return
    }
    if (this.depth >= MAX_DEPTH) return
    if (
      dport === VXLAN_PORT ||
      sport === VXLAN_PORT ||
      ((dport === VXLAN_LINUX_PORT || sport === VXLAN_LINUX_PORT) &&
        e - s >= 16 &&
        (b[s + 8] & 0x08) !== 0)
    )
      this.overlay(b, s + 16, Math.min(e, s + ulen), 0x6558)
    else if (dport === GENEVE_PORT || sport === GENEVE_PORT) {
      if (e - s < 16) return
      const opts = (b[s + 8] & 0x3f) * 4
      this.overlay(b, s + 16 + opts, Math.min(e, s + ulen), u16be(b, s + 10))
    }
  }

  /** The packet inside an IP-in-IP or GRE tunnel, `b[s..e)` being the outer IP payload. */
  private tunnel(proto: number, b: Uint8Array, s: number, e: number): void {
    if (this.depth >= MAX_DEPTH) return
    if (proto === PROTO_IPIP) this.overlay(b, s, e, 0x0800)
    else if (proto === PROTO_IPV6_IN_IP) this.overlay(b, s, e, 0x86dd)
    else if (proto === PROTO_GRE && e - s >= 4) {
      const flags = u16be(b, s)
      if ((flags & 0x0007) !== 0) return // version 1 is PPTP's enhanced GRE: no IP inside
      const type = u16be(b, s + 2)
      const at =
        s +
        4 +
        ((flags & 0x8000) !== 0 ? 4 : 0) +
        ((flags & 0x2000) !== 0 ? 4 : 0) +
        ((flags & 0x1000) !== 0 ? 4 : 0)
      if (type === GRE_ERSPAN_II) this.overlay(b, at + 8, e, 0x6558)
      else this.overlay(b, at, e, type)
    }
  }

  /** An overlay's inner packet at `b[at..end)` whose protocol is `ethertype` (0x6558: Ethernet). */
  private overlay(b: Uint8Array, at: number, end: number, ethertype: number): void {
    if (at >= end) return
    this.depth++
    const net = this.net
    const found =
      ethertype === 0x6558
        ? ethernet(b, at, end, net)
        : ethertype === 0x0800 || ethertype === 0x86dd
          ? findNetwork(101, b, at, end, net)
          : false
    if (!found) return
    if (net.version === 4) this.ipv4(b, net.at, end)
    else this.ipv6(b, net.at, end)
  }

  private tcpSegment(b: Uint8Array, s: number, e: number, wireLen: number): void {
    if (e - s < 20) return
    const sport = u16be(b, s)
    const dport = u16be(b, s + 2)
    if (this.isDnsPort[sport] !== 1 && this.isDnsPort[dport] !== 1) return
    const hlen = (b[s + 12] >> 4) * 4
    if (hlen < 20 || s + hlen > e) return
    const src = this.addrId(0)
    const dst = this.addrId(1)
    this.tcp.segment(
      src,
      sport,
      dst,
      dport,
      u32be(b, s + 4),
      u32be(b, s + 8),
      b[s + 13],
      b,
      s + hlen,
      e,
      Math.max(0, wireLen - hlen),
      this.cur,
    )
  }

  tcpMessage(
    dir: TcpDirection,
    b: Uint8Array,
    start: number,
    end: number,
    at: FrameRef,
    certain: boolean,
  ): boolean {
    return this.emit(
      'tcp',
      dir.srcId,
      dir.sport,
      dir.dstId,
      dir.dport,
      b,
      start,
      end,
      end - start,
      at,
      certain,
    )
  }

  tcpProblem(dir: TcpDirection, at: FrameRef, message: string): void {
    const t = this.addrs.text
    this.problem(
      at.frame,
      `TCP ${t[dir.srcId]}:${dir.sport} > ${t[dir.dstId]}:${dir.dport}: ${message}`,
    )
  }

  private message(
    transport: Transport,
    sport: number,
    dport: number,
    b: Uint8Array,
    s: number,
    e: number,
    wireLen: number,
    at: FrameRef,
  ): void {
    this.emit(transport, this.addrId(0), sport, this.addrId(1), dport, b, s, e, wireLen, at, true)
  }

  /** Decodes one DNS message and pushes its event; false when it does not decode. */
  private emit(
    transport: Transport,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    b: Uint8Array,
    s: number,
    e: number,
    wireLen: number,
    at: FrameRef,
    certain: boolean,
  ): boolean {
    const hq = this.hq
    try {
      decodeHeaderQuestion(b, s, e, hq)
    } catch (err) {
      if (!(err instanceof DnsDecodeError)) throw err
      if (certain) {
        this.undecodable++
        const t = this.addrs.text
        this.problem(
          at.frame,
          `${transport.toUpperCase()} ${t[src]}:${sport} > ${t[dst]}:${dport}: ${err.message}`,
        )
      }
      return false
    }
    const table = this.table
    const row = table.add(
      this.input,
      at.frame,
      at.offset,
      this.vantageId,
      at.time,
      SOURCE.capture,
      TRANSPORT[transport],
      this.poolId(src),
      sport,
      this.poolId(dst),
      dport,
      hq.id,
      hq.flags,
      table.strings.id(hq.qname),
      hq.qtype,
      hq.qclass,
      hq.ancount,
      hq.answerAddrs,
      wireLen,
    )
    this.messages++
    if (e - s < wireLen) {
      const cut = this.capturedShort
        ? `cut off by the capture (${e - s} of ${wireLen} bytes captured)`
        : `cut off (${e - s} of ${wireLen} bytes in the packet)`
      table.setMalformed(row, hq.warning ? `${hq.warning}; ${cut}` : cut)
    } else if (hq.warning) table.setMalformed(row, hq.warning)
    if (this.anyInterface) {
      const first = this.copies.seen(
        b,
        s,
        e,
        transport === 'udp' ? this.ipId : -1,
        at.frame,
        at.time,
      )
      if (first > 0) table.setCopyOf(row, first)
    }
    return true
  }

  /** The table's string number of address `id`. */
  private poolId(id: number): number {
    if (id >= this.poolIds.length) {
      const grown = new Int32Array(Math.max(id + 1, this.poolIds.length * 2)).fill(-1)
      grown.set(this.poolIds)
      this.poolIds = grown
    }
    let p = this.poolIds[id]
    if (p < 0) p = this.poolIds[id] = this.table.strings.id(this.addrs.text[id])
    return p
  }

  /** Interned id of the source (0) or destination (1) address of the current IP header. */
  private addrId(which: number): number {
    const b = this.addrBuf
    return this.family === 4
      ? this.addrs.ipv4(b, this.addrAt + which * 4)
      : this.addrs.ipv6(b, this.addrAt + which * 16)
  }

  private endpoints(sport: number, dport: number): string {
    return `UDP ${this.addrs.text[this.addrId(0)]}:${sport} > ${this.addrs.text[this.addrId(1)]}:${dport}`
  }
}

/**
 * Runs a capture reader over a new decoder. DNS messages go to `ctx.dns` when the pipeline gives
 * one (counted in `eventCount`); a caller without a table gets them as event objects.
 */
export function decodeCapture(
  input: ImportInput,
  ctx: ImportContext,
  read: (decoder: CaptureDecoder) => void,
): ImportResult {
  const table = ctx.dns ?? new DnsTable()
  const from = table.length
  // A DNS packet on loopback takes about 100 bytes of capture: room for most in one go.
  table.reserve(Math.min(Math.ceil(input.bytes.length / 100), 1 << 24))
  const decoder = new CaptureDecoder(input.index, input.vantage, ctx.dnsPorts, table)
  read(decoder)
  decoder.finish()
  ctx.onProgress?.(input.bytes.length, input.bytes.length)
  if (ctx.dns) return { events: [], problems: decoder.problems, eventCount: decoder.messages }
  return { events: table.slice(from), problems: decoder.problems }
}
