// dnstap in a Frame Streams file (content type protobuf:dnstap.Dnstap): schema
// core/codec/dnstap.proto (dnstap/dnstap.pb @ 102af68a), container core/codec/frame-stream.ts.
//
// Each data frame with a Message becomes one DnsMessageEvent:
// - time: query_time for *_QUERY, response_time for *_RESPONSE (integer µs; NaN when absent);
// - addresses (dnstap.proto: query_* is the initiator, response_* the responder of the exchange):
//   a query goes query_address:port -> response_address:port, a response the other way. CoreDNS
//   1.8.0-1.14.4 filled FORWARDER_* differently; see dnstap-coredns.ts, applied when the
//   `version` field names such a CoreDNS. An address the message does not carry is '' (port 0).
// - with wire bytes (`full` taps) the header and question come from the message matching the
//   type; without them (CoreDNS without `full`, unbound without logging the message...) the event
//   keeps what is known: qname '', id -1, rcode -1, qtype/qclass 0, size 0 mean "unknown".
// - `identity` becomes the vantage (type dns-server for AUTH/RESOLVER/CLIENT/FORWARDER/UPDATE
//   producers); `version` goes into its name, and a CoreDNS version also becomes a fact event.
// `eventCount` is the number of dnstap messages. A frame that is not a Dnstap protobuf is
// reported and skipped: its length is intact, so the next frame is still trustworthy.
import type { DnsMessageEvent, Event, Transport } from '../model/event.js'
import type { Vantage } from '../model/bundle.js'
import type { Importer, ImportInput, ImportContext, ImportResult, Problem } from './importer.js'
import { FrameStreamReader, countDataFrames, looksLikeFrameStream } from '../codec/frame-stream.js'
import {
  decodeDnstap,
  newDnstapFields,
  DnstapDecodeError,
  MESSAGE_TYPE_NAMES,
  type DnstapFields,
} from '../codec/dnstap-message.js'
import { decodeHeaderQuestion, newHeaderQuestion, ipv6Text } from '../codec/dns-message.js'
import { corednsDnstapSemantics, type ForwarderAddressLayout } from './dnstap-coredns.js'

export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap'

/** dnstap.proto SocketProtocol -> our Transport (DNSCrypt runs over plain UDP/TCP). */
const TRANSPORTS: Transport[] = ['unknown', 'udp', 'tcp', 'tls', 'https', 'udp', 'tcp', 'quic']
const FORWARDER_QUERY = 7
const FORWARDER_RESPONSE = 8
/** Producers that are DNS servers: AUTH_*, RESOLVER_*, CLIENT_*, FORWARDER_*, UPDATE_*. */
const SERVER_TYPES = 0b111_0000_1111_1110
/** Bad frames reported one by one before the rest are only counted. */
const MAX_FRAME_PROBLEMS = 20

export const dnstapImporter: Importer = {
  id: 'dnstap',
  title: 'dnstap (Frame Streams)',
  binary: true,
  // Any Frame Streams file is claimed, so that one with another content type is reported
  // clearly; a bare protobuf (no framing) is not: it cannot be told apart from other binaries.
  sniff: (head) => looksLikeFrameStream(head),
  parse: parseDnstap,
}

/**
 * Why detection skipped a file that is one bare dnstap protobuf (no Frame Streams framing, like
 * BIND's unit-test `.dnstap` files), or null when it is not one. Not claimed: a bare protobuf has
 * no magic, so reading it as dnstap would be a guess.
 */
export function describeBareDnstap(head: Uint8Array): string | null {
  const f = newDnstapFields()
  try {
    decodeDnstap(head, 0, head.length, f)
  } catch {
    return null
  }
  if (!f.hasMessage) return null
  return `a bare dnstap protobuf message without Frame Streams framing (${MESSAGE_TYPE_NAMES[f.type]}): not read; dnstap files must be Frame Streams files as fstrm_capture and dnstap-ldns write them`
}

/** Per-file decoding state: caches that keep the per-message work allocation-light. */
class Decoder {
  /** Vantage per identity, with a bit per Message.type its producer wrote. */
  readonly vantages = new Map<string, { v: Vantage; types: number }>()
  readonly facts: Event[] = []
  private readonly versionsSeen = new Set<string>()
  private lastId = new Uint8Array(0)
  private lastVersion = new Uint8Array(0)
  private current: { v: Vantage; types: number } | null = null
  private layout: ForwarderAddressLayout | null = null
  private readonly v4 = new Map<number, string>()
  private readonly lastV6 = new Uint8Array(16)
  private lastV6Text = ''
  badAddress = ''

  constructor(private readonly input: ImportInput) {}

  /** Looks up (or creates) the vantage of this frame's identity/version; '' = the input's own. */
  vantageOf(b: Uint8Array, f: DnstapFields, ref: number, offset: number, time: number): string {
    const idChanged = !sameBytes(b, f.identityStart, f.identityEnd, this.lastId)
    const versionChanged = !sameBytes(b, f.versionStart, f.versionEnd, this.lastVersion)
    if (idChanged || versionChanged || !this.current) {
      this.lastId = b.slice(Math.max(0, f.identityStart), Math.max(0, f.identityEnd))
      this.lastVersion = b.slice(Math.max(0, f.versionStart), Math.max(0, f.versionEnd))
      const identity = utf8(this.lastId)
      const version = utf8(this.lastVersion)
      const id = identity || this.input.vantage
      let entry = this.vantages.get(id)
      if (!entry) {
        const name = version
          ? `${identity || this.input.path} (${version})`
          : identity || this.input.path
        entry = { v: { id, type: 'unknown', name, addresses: [] }, types: 0 }
        this.vantages.set(id, entry)
      }
      const coredns = corednsDnstapSemantics(version)
      if (coredns) {
        const key = `${identity}\u0000${version}`
        if (!this.versionsSeen.has(key)) {
          this.versionsSeen.add(key)
          this.facts.push({
            kind: 'fact',
            input: this.input.index,
            ref,
            offset,
            vantage: identity,
            time,
            fact: { type: 'coredns-version', version: coredns.version },
          })
        }
      }
      this.layout = coredns ? coredns.forwarderAddresses : null
      this.current = entry
    }
    this.current.types |= 1 << f.type
    return this.current.v.id === this.input.vantage ? '' : this.current.v.id
  }

  /** Address layout of the current producer's FORWARDER_* messages. */
  forwarderLayout(): ForwarderAddressLayout {
    return this.layout ?? 'spec'
  }

  /** The server's own address seen in this message, kept on the vantage (for NAT stitching). */
  noteOwnAddress(addr: string): void {
    const list = this.current!.v.addresses
    if (addr && addr !== '0.0.0.0' && addr !== '::' && list.length < 16 && !list.includes(addr))
      list.push(addr)
  }

  /** Text form of the address in b[s, e): IPv4, IPv6 (IPv4-mapped shown as IPv4), '' if absent. */
  addr(b: Uint8Array, s: number, e: number): string {
    const len = e - s
    if (s < 0 || len === 0) return ''
    if (len === 16 && isV4Mapped(b, s)) return this.addr(b, s + 12, e)
    if (len === 4) {
      const key = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0
      let text = this.v4.get(key)
      if (text === undefined) {
        if (this.v4.size > 65536) this.v4.clear()
        text = `${b[s]}.${b[s + 1]}.${b[s + 2]}.${b[s + 3]}`
        this.v4.set(key, text)
      }
      return text
    }
    if (len === 16) {
      if (!sameBytes(b, s, e, this.lastV6) || !this.lastV6Text) {
        this.lastV6.set(b.subarray(s, e))
        this.lastV6Text = ipv6Text(b, s)
      }
      return this.lastV6Text
    }
    this.badAddress = `an address of ${len} bytes (not 4 or 16)`
    return ''
  }
}

function parseDnstap(input: ImportInput, ctx: ImportContext): ImportResult {
  const b = input.bytes
  const reader = new FrameStreamReader(b)
  const problems: Problem[] = reader.problems
  const events: Event[] = []
  if (!reader.open()) return { events, problems, eventCount: 0 }
  const dec = new Decoder(input)
  // A row per data frame (a walk over the frame lengths, a few ms for a million), made room for
  // at once: the table's columns are then not copied again and again as they grow.
  ctx.dns?.reserve(countDataFrames(b, reader.pos))
  const f = newDnstapFields()
  const hq = newHeaderQuestion()
  let checkedStarts = 0
  let badFrames = 0
  let messages = 0
  reading: for (;;) {
    const more = reader.next()
    // Each START (one per concatenated stream) must name the dnstap content type.
    while (checkedStarts < reader.contentTypes.length) {
      const type = reader.contentTypes[checkedStarts]
      const where = `byte ${reader.startOffsets[checkedStarts++]}`
      if (type === DNSTAP_CONTENT_TYPE) continue
      if (type === '') {
        problems.push({
          where,
          message: `the START frame names no content type; read as ${DNSTAP_CONTENT_TYPE}`,
        })
        continue
      }
      problems.push({
        where,
        message: `content type ${JSON.stringify(type)} is not ${DNSTAP_CONTENT_TYPE}: not dnstap, ${messages ? 'the rest of the file is' : 'the file is'} not read`,
      })
      break reading
    }
    if (!more) break
    const ref = reader.frame
    const offset = reader.frameOffset
    if ((ref & 0xffff) === 0) ctx.onProgress?.(offset, b.length)
    try {
      decodeDnstap(b, reader.dataStart, reader.dataEnd, f)
    } catch (e) {
      if (!(e instanceof DnstapDecodeError)) throw e
      if (++badFrames <= MAX_FRAME_PROBLEMS)
        problems.push({
          where: `frame ${ref} @ byte ${offset}`,
          message: `not a dnstap message (${e.message}); frame skipped`,
        })
      continue
    }
    if (!f.hasMessage) continue
    messages++
    // Into the pipeline's column store when there is one: the object lives a moment only.
    const ev = toEvent(b, f, hq, dec, input.index, ref, offset)
    if (ctx.dns) ctx.dns.push(ev)
    else events.push(ev)
  }
  if (badFrames > MAX_FRAME_PROBLEMS)
    problems.push({
      where: 'file',
      message: `${badFrames - MAX_FRAME_PROBLEMS} more frames were not dnstap messages (skipped)`,
    })
  ctx.onProgress?.(b.length, b.length)
  const vantages: Vantage[] = []
  for (const { v, types } of dec.vantages.values()) {
    if (types & SERVER_TYPES) v.type = 'dns-server'
    vantages.push(v)
  }
  for (const fact of dec.facts) events.push(fact)
  return { events, problems, vantages, eventCount: messages }
}

function toEvent(
  b: Uint8Array,
  f: DnstapFields,
  hq: ReturnType<typeof newHeaderQuestion>,
  dec: Decoder,
  input: number,
  ref: number,
  offset: number,
): DnsMessageEvent {
  const type = f.type
  const isResponse = (type & 1) === 0
  let malformed = ''
  const sec = isResponse ? f.responseTimeSec : f.queryTimeSec
  let nsec = isResponse ? f.responseTimeNsec : f.queryTimeNsec
  if (nsec >= 1e9) {
    malformed = `${isResponse ? 'response' : 'query'}_time_nsec ${nsec} is not below 10^9 (fraction dropped)`
    nsec = 0
  }
  const time = sec < 0 ? NaN : sec * 1e6 + (nsec > 0 ? Math.floor(nsec / 1000) : 0)
  const vantage = dec.vantageOf(b, f, ref, offset, time)

  // dnstap.proto: query_* = initiator, response_* = responder of this exchange.
  dec.badAddress = ''
  let initiator = dec.addr(b, f.queryAddressStart, f.queryAddressEnd)
  let initiatorPort = f.queryPort < 0 ? 0 : f.queryPort
  let responder = dec.addr(b, f.responseAddressStart, f.responseAddressEnd)
  let responderPort = f.responsePort < 0 ? 0 : f.responsePort
  if (type === FORWARDER_QUERY || type === FORWARDER_RESPONSE) {
    const layout = dec.forwarderLayout()
    if (layout === 'upstream-in-query') {
      responder = initiator
      responderPort = initiatorPort
      initiator = ''
      initiatorPort = 0
    } else if (layout === 'client-in-query') {
      // The query_* fields name the downstream client, not an end of this exchange.
      initiator = ''
      initiatorPort = 0
    }
  }
  // The server's own end: the responder of client/auth exchanges, the initiator of outgoing ones.
  if (type <= 8 || type >= 13)
    dec.noteOwnAddress(type === 3 || type === 4 || type === 7 || type === 8 ? initiator : responder)
  if (dec.badAddress) malformed = appendNote(malformed, dec.badAddress)

  const wireStart = isResponse ? f.responseMessageStart : f.queryMessageStart
  const wireEnd = isResponse ? f.responseMessageEnd : f.queryMessageEnd
  let id = -1
  let flags = 0
  let rcode = -1
  let opcode = 0
  let qname = ''
  let qtype = 0
  let qclass = 0
  let ancount = 0
  let answerAddrs = -1
  const size = wireStart < 0 ? 0 : wireEnd - wireStart
  if (wireStart >= 0) {
    try {
      decodeHeaderQuestion(b, wireStart, wireEnd, hq)
      if (hq.warning) malformed = appendNote(malformed, hq.warning)
      qname = hq.qname
      qtype = hq.qtype
      qclass = hq.qclass
      answerAddrs = hq.answerAddrs
    } catch (e) {
      malformed = appendNote(malformed, `DNS message: ${(e as Error).message}`)
    }
    if (size >= 12) {
      id = hq.id
      flags = hq.flags
      rcode = flags & 0xf
      opcode = (flags >> 11) & 0xf
      ancount = hq.ancount
    }
  }
  const ev: DnsMessageEvent = {
    kind: 'dns',
    input,
    ref,
    offset,
    vantage,
    time,
    source: 'dnstap',
    dnstapType: MESSAGE_TYPE_NAMES[type],
    transport: TRANSPORTS[f.socketProtocol] ?? 'unknown',
    srcAddr: isResponse ? responder : initiator,
    srcPort: isResponse ? responderPort : initiatorPort,
    dstAddr: isResponse ? initiator : responder,
    dstPort: isResponse ? initiatorPort : responderPort,
    id,
    qr: isResponse,
    opcode,
    rcode,
    flags,
    qname,
    qtype,
    qclass,
    ancount,
    answerAddrs,
    size,
  }
  if (malformed) ev.malformed = malformed
  return ev
}

function appendNote(a: string, b: string): string {
  return a ? `${a}; ${b}` : b
}

function isV4Mapped(b: Uint8Array, s: number): boolean {
  for (let i = 0; i < 10; i++) if (b[s + i] !== 0) return false
  return b[s + 10] === 0xff && b[s + 11] === 0xff
}

/** b[s, e) equals `other` (an absent field, s < 0, equals the empty array). */
function sameBytes(b: Uint8Array, s: number, e: number, other: Uint8Array): boolean {
  const len = s < 0 ? 0 : e - s
  if (len !== other.length) return false
  for (let i = 0; i < len; i++) if (b[s + i] !== other[i]) return false
  return true
}

const textDecoder = new TextDecoder('utf-8')
function utf8(bytes: Uint8Array): string {
  return bytes.length === 0 ? '' : textDecoder.decode(bytes)
}
