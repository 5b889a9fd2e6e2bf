// Link layers down to the IP header: the LINKTYPE_ registry (https://www.tcpdump.org/linktypes.html)
// and each header as libpcap documents it (linktypes/LINKTYPE_LINUX_SLL2.html, ..._NFLOG.html, ...).
import { u16be, u16le, u32be, u32le } from '../../codec/byte-reader.js'

/** LINKTYPE_ values this decoder understands. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  FDDI: 10,
  /** DLT_RAW as most BSDs and Linux number it. */
  DLT_RAW_12: 12,
  /** DLT_RAW on OpenBSD. */
  DLT_RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  /** DLT_PKTAP as Apple numbers it in-memory (files use 258). */
  DLT_PKTAP: 149,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  PKTAP: 258,
  LINUX_SLL2: 276,
} as const

/** Where the IP header starts and which version it is; filled in place by findNetwork. */
export interface NetworkRef {
  at: number
  version: number
  /** Why the frame could not be followed to an IP header when it is broken; '' when it simply carries no IP. */
  error: string
}

const ETHERTYPE_IPV4 = 0x0800
const ETHERTYPE_IPV6 = 0x86dd
const ETHERTYPE_VLAN = 0x8100
const ETHERTYPE_QINQ = 0x88a8
const ETHERTYPE_QINQ_OLD = 0x9100
const ETHERTYPE_MPLS = 0x8847
const ETHERTYPE_MPLS_MC = 0x8848
const ETHERTYPE_PPPOE = 0x8864
/** NFLOG TLV type of the packet payload (linux/netfilter/nfnetlink_log.h, NFULA_PAYLOAD). */
const NFULA_PAYLOAD = 9
/** Tag stacks deeper than this are not DNS traffic anyone captured on purpose. */
const MAX_TAGS = 8

/**
 * Finds the IP header of a frame of link type `linktype` in `b[start..end)`. Returns false for
 * frames that carry no IP (ARP, LLDP, ...) or are too short; otherwise fills `out`.
 */
export function findNetwork(
  linktype: number,
  b: Uint8Array,
  start: number,
  end: number,
  out: NetworkRef,
): boolean {
  out.error = ''
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      return ethernet(b, start, end, out)
    case LINKTYPE.RAW:
    case LINKTYPE.DLT_RAW_12:
    case LINKTYPE.DLT_RAW_14:
    case LINKTYPE.IPV4:
      // LINKTYPE_IPV4 promises IPv4, but Wireshark's IPv4 dissector hands version 6 on to IPv6
      // (tcpdump's LINKTYPE_IPV4_invalid test): decode by the version nibble, as tshark does.
      return byVersion(b, start, end, out)
    case LINKTYPE.IPV6:
      // ... while its IPv6 dissector rejects version 4: so do we.
      return end > start && b[start] >> 4 === 6 && byVersion(b, start, end, out)
    case LINKTYPE.LINUX_SLL:
      if (end - start < 16) return short(out, 'Linux cooked (SLL)', end - start)
      return ethertype(u16be(b, start + 14), b, start + 16, end, out)
    case LINKTYPE.LINUX_SLL2:
      if (end - start < 20) return short(out, 'Linux cooked v2 (SLL2)', end - start)
      return ethertype(u16be(b, start), b, start + 20, end, out)
    case LINKTYPE.NULL:
      if (end - start < 4) return short(out, 'loopback', end - start)
      return family(nullFamily(b, start), b, start + 4, end, out)
    case LINKTYPE.LOOP:
      if (end - start < 4) return short(out, 'loopback', end - start)
      return family(u32be(b, start), b, start + 4, end, out)
    case LINKTYPE.NFLOG:
      return nflog(b, start, end, out)
    case LINKTYPE.PKTAP:
    case LINKTYPE.DLT_PKTAP:
      return pktap(b, start, end, out)
    case LINKTYPE.FDDI:
      return fddi(b, start, end, out)
    case LINKTYPE.PPP:
      return ppp(b, start, end, out)
    default:
      return false
  }
}

/** Ethernet II / 802.3 with any number of 802.1Q / 802.1ad tags (IEEE 802.1Q §9). */
export function ethernet(b: Uint8Array, start: number, end: number, out: NetworkRef): boolean {
  if (end - start < 14) return short(out, 'Ethernet', end - start)
  let type = u16be(b, start + 12)
  let at = start + 14
  if (type <= 1500) {
    // 802.3 length field: only LLC/SNAP (AA AA 03, OUI, ethertype) can carry IP.
    if (end - at < 8 || b[at] !== 0xaa || b[at + 1] !== 0xaa || b[at + 2] !== 0x03) return false
    type = u16be(b, at + 6)
    at += 8
  }
  return ethertype(type, b, at, end, out)
}

function ethertype(type: number, b: Uint8Array, at: number, end: number, out: NetworkRef): boolean {
  for (let tags = 0; tags < MAX_TAGS; tags++) {
    if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return byVersion(b, at, end, out)
    if (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
      if (end - at < 4) return short(out, 'VLAN tag', end - at)
      type = u16be(b, at + 2)
      at += 4
      continue
    }
    if (type === ETHERTYPE_MPLS || type === ETHERTYPE_MPLS_MC) return mpls(b, at, end, out)
    if (type === ETHERTYPE_PPPOE) {
      // RFC 2516 §4: 6-byte PPPoE header, then the PPP protocol number.
      if (end - at < 8) return false
      return pppProtocol(u16be(b, at + 6), b, at + 8, end, out)
    }
    return false
  }
  out.error = `more than ${MAX_TAGS} VLAN/PPPoE tags stacked; not decoded`
  return false
}

function short(out: NetworkRef, header: string, length: number): boolean {
  out.error = `${length}-byte frame is too short for its ${header} header`
  return false
}

function byVersion(b: Uint8Array, at: number, end: number, out: NetworkRef): boolean {
  if (at >= end) return false
  const v = b[at] >> 4
  if (v !== 4 && v !== 6) return false
  out.at = at
  out.version = v
  return true
}

/** MPLS label stack (RFC 3032 §2.1): skip to the bottom-of-stack entry, then IP by version. */
function mpls(b: Uint8Array, at: number, end: number, out: NetworkRef): boolean {
  for (let i = 0; i < MAX_TAGS && end - at >= 4; i++) {
    const bottom = (b[at + 2] & 1) !== 0
    at += 4
    if (bottom) return byVersion(b, at, end, out)
  }
  out.error = `more than ${MAX_TAGS} MPLS labels, or a label stack cut off; not decoded`
  return false
}

/**
 * DLT_NULL: the address family in the byte order of the machine that wrote the file. AF_INET is
 * 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS) or 10 (Linux).
 */
function nullFamily(b: Uint8Array, at: number): number {
  const le = u32le(b, at)
  return (le & 0xffff0000) !== 0 ? u32be(b, at) : le
}

function family(af: number, b: Uint8Array, at: number, end: number, out: NetworkRef): boolean {
  if (af === 2 || af === 24 || af === 28 || af === 30 || af === 10)
    return byVersion(b, at, end, out)
  return false
}

/**
 * NFLOG: 4-byte header (family, version, resource id), then TLVs whose length and type are in
 * host byte order (little-endian on every machine that writes them in practice); the length
 * includes the 4-byte TLV header and TLVs are padded to 4 bytes.
 */
function nflog(b: Uint8Array, start: number, end: number, out: NetworkRef): boolean {
  let at = start + 4
  while (end - at >= 4) {
    let len = u16le(b, at)
    let type = u16le(b, at + 2)
    if (len < 4 || at + len > end) {
      // Written by a big-endian host?
      len = u16be(b, at)
      type = u16be(b, at + 2)
      if (len < 4 || at + len > end) {
        out.error = `NFLOG TLV at byte ${at - start} has a bad length; not decoded`
        return false
      }
    }
    if ((type & 0x7fff) === NFULA_PAYLOAD) return byVersion(b, at + 4, at + len, out)
    at += (len + 3) & ~3
  }
  return false
}

/**
 * Apple PKTAP (libpcap pcap/pktap.h): pth_length (header length), pth_type_next (1 = a packet
 * follows), pth_dlt (its link type), all little-endian; the packet starts pth_length bytes in.
 */
function pktap(b: Uint8Array, start: number, end: number, out: NetworkRef): boolean {
  if (end - start < 12) return false
  const len = u32le(b, start)
  const dlt = u32le(b, start + 8)
  if (len < 12 || start + len > end) {
    out.error = `PKTAP header length ${len} does not fit the ${end - start}-byte frame; not decoded`
    return false
  }
  if (u32le(b, start + 4) !== 1) return false
  if (dlt === LINKTYPE.PKTAP || dlt === LINKTYPE.DLT_PKTAP) return false
  return findNetwork(dlt, b, start + len, end, out)
}

/** FDDI: frame control + two MAC addresses (13 bytes), then LLC/SNAP (AA AA 03, OUI, ethertype). */
function fddi(b: Uint8Array, start: number, end: number, out: NetworkRef): boolean {
  const at = start + 13
  if (end - at < 8 || b[at] !== 0xaa || b[at + 1] !== 0xaa || b[at + 2] !== 0x03) return false
  return ethertype(u16be(b, at + 6), b, at + 8, end, out)
}

/**
 * PPP (RFC 1661): optional address/control FF 03, then a 1- or 2-byte protocol number. Frames
 * still in HDLC framing (7E ... with byte stuffing) are not decoded; tshark does not either.
 */
function ppp(b: Uint8Array, start: number, end: number, out: NetworkRef): boolean {
  let at = start
  if (end - at >= 2 && b[at] === 0xff && b[at + 1] === 0x03) at += 2
  if (end - at < 2) return false
  if ((b[at] & 1) === 1) return pppProtocol(b[at], b, at + 1, end, out)
  return pppProtocol(u16be(b, at), b, at + 2, end, out)
}

function pppProtocol(
  proto: number,
  b: Uint8Array,
  at: number,
  end: number,
  out: NetworkRef,
): boolean {
  if (proto === 0x0021 || proto === 0x0057) return byVersion(b, at, end, out)
  return false
}
