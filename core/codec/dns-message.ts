// DNS wire format (RFC 1035 §4.1; compression §4.1.4; EDNS(0) RFC 6891 §6.1). Two decoders:
// `decodeHeaderQuestion` is the hot path (header, first question, answer-type scan, no records
// materialised); `decodeMessage` decodes every record for the places that need them.
import { FLAG } from './dns-constants.js'

export const HEADER_LENGTH = 12
/** RFC 1035 §2.3.4: names are at most 255 octets on the wire. */
export const MAX_NAME_WIRE = 255
/** Compression pointers followed before a name is declared a loop. */
const MAX_POINTERS = 64

/** Header + first question, filled in place by decodeHeaderQuestion (reuse one object in loops). */
export interface HeaderQuestion {
  id: number
  flags: number
  qdcount: number
  ancount: number
  nscount: number
  arcount: number
  /** Lower-case presentation format with trailing dot; '' when there is no question. */
  qname: string
  qtype: number
  qclass: number
  /** A/AAAA records in the answer section whose type equals qtype; -1 when they could not be scanned. */
  answerAddrs: number
  /** Set when the message is malformed past the question (the header and question are still good). */
  warning: string
}

export function newHeaderQuestion(): HeaderQuestion {
  return {
    id: 0,
    flags: 0,
    qdcount: 0,
    ancount: 0,
    nscount: 0,
    arcount: 0,
    qname: '',
    qtype: 0,
    qclass: 0,
    answerAddrs: -1,
    warning: '',
  }
}

/** Thrown for a message that cannot be decoded; `message` says what and why. */
export class DnsDecodeError extends Error {}

// Scratch buffer for name characters; a name is at most 255 wire octets, i.e. ≤ 4 chars per octet
// once escaped (\DDD), so 1024 is enough.
const nameChars = new Uint16Array(1024)

// Names repeat a lot in real traffic (the same few services asked again and again), so decoded
// names are interned in a small direct-mapped cache keyed by a hash of their characters: a hit
// returns the one shared string, which saves both the allocation and the memory of a copy per
// event. A slot holds the last name that hashed there; a hit is verified char by char.
const NAME_CACHE_BITS = 13
const NAME_CACHE_MASK = (1 << NAME_CACHE_BITS) - 1
const nameCache: string[] = new Array<string>(1 << NAME_CACHE_BITS).fill('')

// Offset just past the name last read by readNameAt: a module variable instead of a result
// object, so the hot path allocates nothing but the (usually interned) name.
let nameNext = 0

/**
 * Decodes a name at `offset` in `msg[0..end)` into presentation format (lower-case, trailing
 * dot, RFC 1035 §5.1 escapes). Returns the name and the offset just past it in the original
 * position (pointers are followed but do not advance the caller).
 */
export function readName(
  msg: Uint8Array,
  offset: number,
  end: number,
): { name: string; next: number } {
  const name = readNameAt(msg, 0, offset, end)
  return { name, next: nameNext }
}

/**
 * readName for a message that starts at `base` inside `msg` (compression pointers are relative
 * to it). Leaves the offset past the name in `nameNext`.
 */
function readNameAt(msg: Uint8Array, base: number, offset: number, end: number): string {
  let pos = offset
  let next = -1
  let n = 0
  let wire = 0
  let pointers = 0
  let hash = 0
  for (;;) {
    if (pos >= end)
      throw new DnsDecodeError('Cannot decode name (runs past the end of the message)')
    const len = msg[pos]
    if (len === 0) {
      if (next < 0) next = pos + 1
      break
    }
    const kind = len & 0xc0
    if (kind === 0xc0) {
      if (pos + 1 >= end) throw new DnsDecodeError('Cannot decode name (pointer cut off)')
      const target = ((len & 0x3f) << 8) | msg[pos + 1]
      if (next < 0) next = pos + 2
      // Pointers must point at an earlier name (RFC 1035 §4.1.4: "a prior occurrence").
      if (base + target >= pos)
        throw new DnsDecodeError('Cannot decode name (forward or self pointer)')
      if (++pointers > MAX_POINTERS) throw new DnsDecodeError('Cannot decode name (pointer loop)')
      pos = base + target
      continue
    }
    if (kind !== 0)
      throw new DnsDecodeError(`Cannot decode name (unsupported label type 0x${kind.toString(16)})`)
    wire += len + 1
    if (wire + 1 > MAX_NAME_WIRE)
      throw new DnsDecodeError('Cannot decode name (longer than 255 octets)')
    if (pos + 1 + len > end)
      throw new DnsDecodeError('Cannot decode name (label runs past the end)')
    for (let i = pos + 1, stop = pos + 1 + len; i < stop; i++) {
      let c = msg[i]
      if (c >= 0x41 && c <= 0x5a) c += 0x20
      if (
        (c >= 0x61 && c <= 0x7a) ||
        (c >= 0x30 && c <= 0x39) ||
        c === 0x2d ||
        c === 0x5f ||
        c === 0x2a
      ) {
        nameChars[n++] = c
      } else if (
        c > 0x20 &&
        c < 0x7f &&
        c !== 0x2e &&
        c !== 0x5c &&
        c !== 0x22 &&
        c !== 0x28 &&
        c !== 0x29 &&
        c !== 0x3b &&
        c !== 0x40 &&
        c !== 0x24
      ) {
        nameChars[n++] = c
      } else if (
        c === 0x2e ||
        c === 0x5c ||
        c === 0x22 ||
        c === 0x28 ||
        c === 0x29 ||
        c === 0x3b ||
        c === 0x40 ||
        c === 0x24
      ) {
        nameChars[n++] = 0x5c
        nameChars[n++] = c
      } else {
        nameChars[n++] = 0x5c
        nameChars[n++] = 0x30 + Math.floor(c / 100)
        nameChars[n++] = 0x30 + (Math.floor(c / 10) % 10)
        nameChars[n++] = 0x30 + (c % 10)
      }
    }
    nameChars[n++] = 0x2e
    pos += 1 + len
  }
  nameNext = next
  if (n === 0) return '.'
  for (let i = 0; i < n; i++) hash = (Math.imul(hash, 31) + nameChars[i]) | 0
  const slot = (hash ^ (hash >>> NAME_CACHE_BITS)) & NAME_CACHE_MASK
  const cached = nameCache[slot]
  if (cached.length === n) {
    let i = 0
    while (i < n && cached.charCodeAt(i) === nameChars[i]) i++
    if (i === n) return cached
  }
  const name = charsToString(n)
  nameCache[slot] = name
  return name
}

function charsToString(n: number): string {
  // String.fromCharCode over a subarray is the fastest allocation-light path for short ASCII.
  return String.fromCharCode.apply(null, nameChars.subarray(0, n) as unknown as number[])
}

/** Skips a name without decoding it; returns the offset past it, or -1 if it runs off the end. */
function skipName(msg: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const len = msg[pos]
    if (len === 0) return pos + 1
    if ((len & 0xc0) === 0xc0) return pos + 2 <= end ? pos + 2 : -1
    if ((len & 0xc0) !== 0) return -1
    pos += len + 1
  }
  return -1
}

/**
 * Hot path: decodes the header and first question of the message in `msg[start..end)` into `out`,
 * and counts A/AAAA answers of the asked type. Throws DnsDecodeError when even the header or the
 * question cannot be read. Works on offsets into `msg` (no subarray, no result objects).
 */
export function decodeHeaderQuestion(
  msg: Uint8Array,
  start: number,
  end: number,
  out: HeaderQuestion,
): void {
  if (end - start < HEADER_LENGTH)
    throw new DnsDecodeError(`Cannot decode header (${end - start} bytes, need 12)`)
  const s = start
  out.id = (msg[s] << 8) | msg[s + 1]
  out.flags = (msg[s + 2] << 8) | msg[s + 3]
  out.qdcount = (msg[s + 4] << 8) | msg[s + 5]
  out.ancount = (msg[s + 6] << 8) | msg[s + 7]
  out.nscount = (msg[s + 8] << 8) | msg[s + 9]
  out.arcount = (msg[s + 10] << 8) | msg[s + 11]
  out.warning = ''
  out.answerAddrs = -1
  if (out.qdcount === 0) {
    out.qname = ''
    out.qtype = 0
    out.qclass = 0
    return
  }
  const name = readNameAt(msg, s, s + HEADER_LENGTH, end)
  const next = nameNext
  if (next + 4 > end) throw new DnsDecodeError('Cannot decode question (type and class cut off)')
  out.qname = name
  out.qtype = (msg[next] << 8) | msg[next + 1]
  out.qclass = (msg[next + 2] << 8) | msg[next + 3]
  let pos = next + 4
  for (let q = 1; q < out.qdcount; q++) {
    pos = skipName(msg, pos, end)
    if (pos < 0 || pos + 4 > end) {
      out.warning = 'question section runs past the end of the message'
      return
    }
    pos += 4
  }
  if (out.ancount === 0) {
    out.answerAddrs = 0
    return
  }
  let addrs = 0
  for (let a = 0; a < out.ancount; a++) {
    pos = skipName(msg, pos, end)
    if (pos < 0 || pos + 10 > end) {
      out.warning = `answer record ${a + 1} of ${out.ancount} runs past the end of the message`
      out.answerAddrs = addrs
      return
    }
    const type = (msg[pos] << 8) | msg[pos + 1]
    const rdlen = (msg[pos + 8] << 8) | msg[pos + 9]
    pos += 10 + rdlen
    if (pos > end) {
      out.warning = `answer record ${a + 1} of ${out.ancount} runs past the end of the message`
      out.answerAddrs = addrs
      return
    }
    if (type === out.qtype && (type === 1 || type === 28)) addrs++
  }
  out.answerAddrs = addrs
}

/** True when a flags word says "response". */
export function isResponse(flags: number): boolean {
  return (flags & FLAG.QR) !== 0
}

export interface ResourceRecord {
  name: string
  type: number
  class: number
  ttl: number
  /** Decoded rdata in presentation-like form for common types; hex for the rest. */
  data: string
}

export interface EdnsInfo {
  udpSize: number
  extendedRcode: number
  version: number
  dnssecOk: boolean
  options: { code: number; length: number }[]
}

export interface DecodedMessage {
  id: number
  flags: number
  opcode: number
  rcode: number
  questions: { name: string; type: number; class: number }[]
  answers: ResourceRecord[]
  authorities: ResourceRecord[]
  additionals: ResourceRecord[]
  edns: EdnsInfo | null
}

/** Full decode of every section (RFC 1035 §4.1.3 records, RFC 6891 §6.1.2 OPT). */
export function decodeMessage(msg: Uint8Array): DecodedMessage {
  if (msg.length < HEADER_LENGTH)
    throw new DnsDecodeError(`Cannot decode header (${msg.length} bytes, need 12)`)
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  const flags = dv.getUint16(2)
  const counts = [dv.getUint16(4), dv.getUint16(6), dv.getUint16(8), dv.getUint16(10)]
  const out: DecodedMessage = {
    id: dv.getUint16(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    edns: null,
  }
  let pos = HEADER_LENGTH
  for (let i = 0; i < counts[0]; i++) {
    const { name, next } = readName(msg, pos, msg.length)
    if (next + 4 > msg.length)
      throw new DnsDecodeError('Cannot decode question (type and class cut off)')
    out.questions.push({ name, type: dv.getUint16(next), class: dv.getUint16(next + 2) })
    pos = next + 4
  }
  const sections = [out.answers, out.authorities, out.additionals]
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const { name, next } = readName(msg, pos, msg.length)
      if (next + 10 > msg.length)
        throw new DnsDecodeError('Cannot decode record (fixed fields cut off)')
      const type = dv.getUint16(next)
      const klass = dv.getUint16(next + 2)
      const ttl = dv.getUint32(next + 4)
      const rdlen = dv.getUint16(next + 8)
      const rdStart = next + 10
      if (rdStart + rdlen > msg.length)
        throw new DnsDecodeError('Cannot decode record (rdata cut off)')
      if (type === 41) {
        const options: EdnsInfo['options'] = []
        for (let o = rdStart; o + 4 <= rdStart + rdlen;) {
          const code = dv.getUint16(o)
          const length = dv.getUint16(o + 2)
          options.push({ code, length })
          o += 4 + length
        }
        out.edns = {
          udpSize: klass,
          extendedRcode: (ttl >>> 24) & 0xff,
          version: (ttl >>> 16) & 0xff,
          dnssecOk: (ttl & 0x8000) !== 0,
          options,
        }
        out.rcode = (out.edns.extendedRcode << 4) | (flags & 0xf)
      } else {
        sections[s].push({
          name,
          type,
          class: klass,
          ttl,
          data: rdataText(msg, dv, type, rdStart, rdlen),
        })
      }
      pos = rdStart + rdlen
    }
  }
  return out
}

function rdataText(msg: Uint8Array, dv: DataView, type: number, at: number, len: number): string {
  try {
    switch (type) {
      case 1:
        if (len === 4) return `${msg[at]}.${msg[at + 1]}.${msg[at + 2]}.${msg[at + 3]}`
        break
      case 28:
        if (len === 16) return ipv6Text(msg, at)
        break
      case 2:
      case 5:
      case 12:
      case 39:
        return readName(msg, at, at + len <= msg.length ? msg.length : at + len).name
      case 15:
        return `${dv.getUint16(at)} ${readName(msg, at + 2, msg.length).name}`
      case 33:
        return `${dv.getUint16(at)} ${dv.getUint16(at + 2)} ${dv.getUint16(at + 4)} ${readName(msg, at + 6, msg.length).name}`
      case 6: {
        const m = readName(msg, at, msg.length)
        const r = readName(msg, m.next, msg.length)
        return `${m.name} ${r.name} ${dv.getUint32(r.next)}`
      }
    }
  } catch {
    // fall through to hex: the record is kept, its rdata is shown raw
  }
  let hex = ''
  for (let i = at; i < at + len && i < msg.length; i++) hex += msg[i].toString(16).padStart(2, '0')
  return `\\# ${len} ${hex}`
}

/** RFC 5952 text form of an IPv6 address at `at` (16 bytes). */
export function ipv6Text(b: Uint8Array, at: number): string {
  const words: number[] = []
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1])
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (w: number) => w.toString(16)
  if (bestStart < 0) return words.map(hex).join(':')
  const head = words.slice(0, bestStart).map(hex).join(':')
  const tail = words
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':')
  return `${head}::${tail}`
}
