// Builders for DNS events in correlator tests: each names only what the case is about.
import type { DnsMessageEvent } from '../../core/model/event.js'
import type { Vantage } from '../../core/model/bundle.js'
import { QTYPE } from '../../core/codec/dns-constants.js'

let ref = 0

export interface Msg {
  t: number // milliseconds
  from: string // addr:port
  to: string // addr:port
  id: number
  q: string
  type?: keyof typeof QTYPE
  rcode?: number
  addrs?: number
  vantage?: string
  source?: DnsMessageEvent['source']
  dnstapType?: string
  durationMs?: number
}

const split = (ep: string): [string, number] => {
  const i = ep.lastIndexOf(':')
  return [ep.slice(0, i), Number(ep.slice(i + 1))]
}

export function query(m: Msg): DnsMessageEvent {
  return message(m, false)
}
export function response(m: Msg): DnsMessageEvent {
  return message(m, true)
}

function message(m: Msg, qr: boolean): DnsMessageEvent {
  const [srcAddr, srcPort] = split(m.from)
  const [dstAddr, dstPort] = split(m.to)
  return {
    kind: 'dns',
    input: 0,
    ref: ++ref,
    offset: -1,
    vantage: m.vantage ?? 'pod',
    time: 1_700_000_000_000_000 + Math.round(m.t * 1000),
    source: m.source ?? 'capture',
    dnstapType: m.dnstapType,
    transport: 'udp',
    srcAddr,
    srcPort,
    dstAddr,
    dstPort,
    id: m.id,
    qr,
    opcode: 0,
    rcode: qr ? (m.rcode ?? 0) : 0,
    flags: qr ? 0x8180 | (m.rcode ?? 0) : 0x0100,
    qname: m.q.endsWith('.') ? m.q : m.q + '.',
    qtype: QTYPE[m.type ?? 'A'],
    qclass: 1,
    ancount: m.addrs ?? 0,
    answerAddrs: qr ? (m.addrs ?? 0) : 0,
    size: 60,
    ...(m.durationMs !== undefined ? { durationUs: m.durationMs * 1000 } : {}),
  }
}

export function vantages(...vs: [string, Vantage['type']][]): Map<string, Vantage> {
  return new Map(vs.map(([id, type]) => [id, { id, type, name: id, addresses: [] }]))
}
