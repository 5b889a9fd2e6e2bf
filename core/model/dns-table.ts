// DNS message events stored by column: one typed array per field, strings (addresses, names,
// vantage ids) numbered once in a shared pool, a row number standing for an event. A million
// messages cost about 80 MB of flat buffers instead of a million objects on the garbage-collected
// heap, and the correlator keys and compares numbers instead of strings.
//
// `get(row)` builds the DnsMessageEvent of event.ts for code that wants an object (evidence, hops,
// tests); hot loops read the columns.
import type { DnsMessageEvent, DnsSource, Transport } from './event.js'

export const SOURCES: readonly DnsSource[] = ['capture', 'dnstap', 'log']
export const TRANSPORTS: readonly Transport[] = ['udp', 'tcp', 'tls', 'https', 'quic', 'unknown']
export const SOURCE = { capture: 0, dnstap: 1, log: 2 } as const
export const TRANSPORT: Record<Transport, number> = {
  udp: 0,
  tcp: 1,
  tls: 2,
  https: 3,
  quic: 4,
  unknown: 5,
}

/** Gives each distinct string a number, in order of first sight (`seed` first). */
export class StringPool {
  readonly text: string[] = []
  private readonly ids = new Map<string, number>()

  constructor(...seed: string[]) {
    for (const s of seed) this.id(s)
  }

  id(s: string): number {
    let n = this.ids.get(s)
    if (n === undefined) {
      n = this.text.length
      this.ids.set(s, n)
      this.text.push(s)
    }
    return n
  }

  /** The number of `s`, or -1 when the pool does not hold it. */
  find(s: string): number {
    return this.ids.get(s) ?? -1
  }

  get size(): number {
    return this.text.length
  }
}

/** Fields few events carry, kept off the columns. */
interface Rare {
  malformed?: string
  clock?: string
  sinceBootUs?: number
}

const INITIAL = 1024

/** A typed-array column. */
export type Column = Float64Array | Uint32Array | Int32Array | Uint16Array | Int16Array | Uint8Array

/** A column of `cap` rows holding the first `length` rows of `a`. */
export function resized<T extends Column>(a: T, length: number, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap)
  b.set(a.subarray(0, Math.min(length, cap)))
  return b
}
/** The offset column's -1. */
const NO_OFFSET = 0xffffffff

export class DnsTable {
  length = 0
  /** Addresses, names, vantage ids and dnstap types; 0 is always ''. */
  readonly strings = new StringPool('')
  private cap = INITIAL

  time = new Float64Array(INITIAL)
  ref = new Uint32Array(INITIAL)
  /** Byte offset in the decoded input (inputs are below 4 GiB: one Uint8Array), or -1 as 2^32-1. */
  offset = new Uint32Array(INITIAL)
  input = new Uint32Array(INITIAL)
  vantage = new Uint32Array(INITIAL)
  source = new Uint8Array(INITIAL)
  transport = new Uint8Array(INITIAL)
  srcAddr = new Uint32Array(INITIAL)
  srcPort = new Uint16Array(INITIAL)
  dstAddr = new Uint32Array(INITIAL)
  dstPort = new Uint16Array(INITIAL)
  /** DNS id, or -1 (a dnstap message without wire bytes). */
  id = new Int32Array(INITIAL)
  qr = new Uint8Array(INITIAL)
  opcode = new Uint8Array(INITIAL)
  rcode = new Int16Array(INITIAL)
  flags = new Uint16Array(INITIAL)
  qname = new Uint32Array(INITIAL)
  qtype = new Uint16Array(INITIAL)
  qclass = new Uint16Array(INITIAL)
  ancount = new Uint16Array(INITIAL)
  answerAddrs = new Int32Array(INITIAL)
  size = new Uint32Array(INITIAL)
  // Columns of one source only, made when a first row needs them (read them through the methods).
  /** CoreDNS log lines: server-side duration in µs; NaN elsewhere. */
  private durations: Float64Array | null = null
  /** `ref` of the first copy of the same packet in the same capture, or 0. */
  private copies: Uint32Array | null = null
  /** dnstap Message.Type as a string number (0: not dnstap). */
  private dnstapTypes: Uint32Array | null = null
  private readonly rare = new Map<number, Rare>()

  /** Makes room for `n` more rows at once (an importer that can estimate its count). */
  reserve(n: number): void {
    if (this.length + n > this.cap) this.resize(this.length + n)
  }

  /**
   * Appends a row from numbers already in this table's pool (the capture importer's fast path);
   * returns its row number. Strings go through `strings.id()` first.
   */
  add(
    input: number,
    ref: number,
    offset: number,
    vantage: number,
    time: number,
    source: number,
    transport: number,
    srcAddr: number,
    srcPort: number,
    dstAddr: number,
    dstPort: number,
    id: number,
    flags: number,
    qname: number,
    qtype: number,
    qclass: number,
    ancount: number,
    answerAddrs: number,
    size: number,
  ): number {
    if (this.length === this.cap) this.resize(this.cap + (this.cap >> 1))
    const i = this.length++
    this.input[i] = input
    this.ref[i] = ref
    this.offset[i] = offset < 0 ? NO_OFFSET : offset
    this.vantage[i] = vantage
    this.time[i] = time
    this.source[i] = source
    this.transport[i] = transport
    this.srcAddr[i] = srcAddr
    this.srcPort[i] = srcPort
    this.dstAddr[i] = dstAddr
    this.dstPort[i] = dstPort
    this.id[i] = id
    this.flags[i] = flags
    this.qr[i] = flags >>> 15
    this.opcode[i] = (flags >> 11) & 0xf
    this.rcode[i] = flags & 0xf
    this.qname[i] = qname
    this.qtype[i] = qtype
    this.qclass[i] = qclass
    this.ancount[i] = ancount
    this.answerAddrs[i] = answerAddrs
    this.size[i] = size
    return i
  }

  /** Appends an event object (importers that build objects: dnstap, CoreDNS logs, tests). */
  push(e: DnsMessageEvent): number {
    const s = this.strings
    const i = this.add(
      e.input,
      e.ref,
      e.offset,
      s.id(e.vantage),
      e.time,
      SOURCE[e.source],
      TRANSPORT[e.transport] ?? TRANSPORT.unknown,
      s.id(e.srcAddr),
      e.srcPort,
      s.id(e.dstAddr),
      e.dstPort,
      e.id,
      e.flags,
      s.id(e.qname),
      e.qtype,
      e.qclass,
      e.ancount,
      e.answerAddrs,
      e.size,
    )
    // Sources that do not carry the header word say qr, opcode and rcode on their own.
    this.qr[i] = e.qr ? 1 : 0
    this.opcode[i] = e.opcode
    this.rcode[i] = e.rcode
    if (e.durationUs !== undefined) {
      this.durations ??= new Float64Array(this.cap).fill(NaN)
      this.durations[i] = e.durationUs
    }
    if (e.copyOf !== undefined) this.setCopyOf(i, e.copyOf)
    if (e.dnstapType !== undefined) {
      this.dnstapTypes ??= new Uint32Array(this.cap)
      this.dnstapTypes[i] = s.id(e.dnstapType)
    }
    if (e.malformed !== undefined || e.clock !== undefined || e.sinceBootUs !== undefined) {
      const r: Rare = {}
      if (e.malformed !== undefined) r.malformed = e.malformed
      if (e.clock !== undefined) r.clock = e.clock
      if (e.sinceBootUs !== undefined) r.sinceBootUs = e.sinceBootUs
      this.rare.set(i, r)
    }
    return i
  }

  /** Server-side duration of a CoreDNS log line (µs), NaN for other rows. */
  durationUs(row: number): number {
    return this.durations ? this.durations[row] : NaN
  }

  /** `ref` of the first copy of this very packet in the same capture, or 0. */
  copyOf(row: number): number {
    return this.copies ? this.copies[row] : 0
  }

  setCopyOf(row: number, ref: number): void {
    this.copies ??= new Uint32Array(this.cap)
    this.copies[row] = ref
  }

  /** The dnstap Message.Type of a row as a string number, 0 when not from dnstap. */
  dnstapType(row: number): number {
    return this.dnstapTypes ? this.dnstapTypes[row] : 0
  }

  setMalformed(row: number, why: string): void {
    const r = this.rare.get(row)
    if (r) r.malformed = why
    else this.rare.set(row, { malformed: why })
  }

  /** The event of a row as an object (a new one on every call). */
  get(i: number): DnsMessageEvent {
    const t = this.strings.text
    const e: DnsMessageEvent = {
      kind: 'dns',
      input: this.input[i],
      ref: this.ref[i],
      offset: this.offset[i] === NO_OFFSET ? -1 : this.offset[i],
      vantage: t[this.vantage[i]],
      time: this.time[i],
      source: SOURCES[this.source[i]],
      transport: TRANSPORTS[this.transport[i]],
      srcAddr: t[this.srcAddr[i]],
      srcPort: this.srcPort[i],
      dstAddr: t[this.dstAddr[i]],
      dstPort: this.dstPort[i],
      id: this.id[i],
      qr: this.qr[i] === 1,
      opcode: this.opcode[i],
      rcode: this.rcode[i],
      flags: this.flags[i],
      qname: t[this.qname[i]],
      qtype: this.qtype[i],
      qclass: this.qclass[i],
      ancount: this.ancount[i],
      answerAddrs: this.answerAddrs[i],
      size: this.size[i],
    }
    const tap = this.dnstapType(i)
    if (tap !== 0) e.dnstapType = t[tap]
    const d = this.durationUs(i)
    if (!Number.isNaN(d)) e.durationUs = d
    const first = this.copyOf(i)
    if (first !== 0) e.copyOf = first
    const r = this.rare.get(i)
    if (r) {
      if (r.malformed !== undefined) e.malformed = r.malformed
      if (r.clock !== undefined) e.clock = r.clock
      if (r.sinceBootUs !== undefined) e.sinceBootUs = r.sinceBootUs
    }
    return e
  }

  /** Events of rows [from, to) as objects. */
  slice(from = 0, to = this.length): DnsMessageEvent[] {
    const out: DnsMessageEvent[] = []
    for (let i = from; i < to; i++) out.push(this.get(i))
    return out
  }

  /** When the query of a row was sent: a log line is written on reply, `duration` after it. */
  arrival(i: number): number {
    if (!this.durations) return this.time[i]
    const d = this.durations[i]
    return this.source[i] === SOURCE.log && !Number.isNaN(d)
      ? this.time[i] - Math.round(d)
      : this.time[i]
  }

  /** Gives back the slack left by growth once no more rows will come (when it is worth a copy). */
  trim(): void {
    if (this.cap - this.length > this.cap >> 3) this.resize(Math.max(this.length, 1))
  }

  private resize(cap: number): void {
    const n = this.length
    const grow = <T extends Column>(a: T): T => resized(a, n, cap)
    this.time = grow(this.time)
    this.ref = grow(this.ref)
    this.offset = grow(this.offset)
    this.input = grow(this.input)
    this.vantage = grow(this.vantage)
    this.source = grow(this.source)
    this.transport = grow(this.transport)
    this.srcAddr = grow(this.srcAddr)
    this.srcPort = grow(this.srcPort)
    this.dstAddr = grow(this.dstAddr)
    this.dstPort = grow(this.dstPort)
    this.id = grow(this.id)
    this.qr = grow(this.qr)
    this.opcode = grow(this.opcode)
    this.rcode = grow(this.rcode)
    this.flags = grow(this.flags)
    this.qname = grow(this.qname)
    this.qtype = grow(this.qtype)
    this.qclass = grow(this.qclass)
    this.ancount = grow(this.ancount)
    this.answerAddrs = grow(this.answerAddrs)
    this.size = grow(this.size)
    if (this.durations) {
      const old = this.durations
      this.durations = new Float64Array(cap).fill(NaN)
      this.durations.set(old.subarray(0, n))
    }
    if (this.copies) this.copies = grow(this.copies)
    if (this.dnstapTypes) this.dnstapTypes = grow(this.dnstapTypes)
    this.cap = cap
  }
}
