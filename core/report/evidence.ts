// How an event is cited in a report: the input it came from and where inside it.
import type { Event, DnsMessageEvent } from '../model/event.js'
import { qtypeName, rcodeName } from '../codec/dns-constants.js'

/** `packet 12 @ byte 3456`, `line 7`, `frame 3`: where in its input an event stands. */
export function whereOf(e: Event): string {
  if (e.kind === 'dns') {
    if (e.source === 'capture')
      return `packet ${e.ref}${e.offset >= 0 ? ` @ byte ${e.offset}` : ''}`
    if (e.source === 'dnstap') return `frame ${e.ref}${e.offset >= 0 ? ` @ byte ${e.offset}` : ''}`
  }
  return `line ${e.ref}`
}

function endpoint(addr: string, port: number): string {
  if (!addr) return '?'
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`
}

/** One line describing a DNS message, like tcpdump would. */
export function describeDns(e: DnsMessageEvent): string {
  const q = `${qtypeName(e.qtype)}? ${e.qname || '(no question)'}`
  const route = e.dstAddr
    ? `${endpoint(e.srcAddr, e.srcPort)} > ${endpoint(e.dstAddr, e.dstPort)}`
    : endpoint(e.srcAddr, e.srcPort)
  const tag = e.dnstapType ? `${e.dnstapType} ` : ''
  if (!e.qr) return `${tag}${route} id ${e.id} ${q}`
  const answer = e.answerAddrs >= 0 ? ` ${e.answerAddrs} addr` : ''
  return `${tag}${route} id ${e.id} ${q} ${rcodeName(e.rcode)}${answer}`
}
