import { describe, expect, it } from 'vitest'
import dnsPacket from 'dns-packet'
import {
  decodeHeaderQuestion,
  decodeMessage,
  newHeaderQuestion,
  readName,
  DnsDecodeError,
} from '../../core/codec/dns-message.js'

// dns-packet (an independent encoder) writes the messages; our decoders must read them back.
function encode(p: object): Uint8Array {
  return new Uint8Array(dnsPacket.encode(p as dnsPacket.Packet))
}

describe('decodeHeaderQuestion', () => {
  it('reads header, question and counts address answers of the asked type', () => {
    const msg = encode({
      type: 'response',
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: [{ type: 'A', name: 'WWW.Example.COM' }],
      answers: [
        { type: 'CNAME', name: 'www.example.com', data: 'edge.example.net' },
        { type: 'A', name: 'edge.example.net', data: '192.0.2.1' },
        { type: 'A', name: 'edge.example.net', data: '192.0.2.2' },
      ],
    })
    const out = newHeaderQuestion()
    decodeHeaderQuestion(msg, 0, msg.length, out)
    expect(out).toMatchObject({
      id: 4242,
      qname: 'www.example.com.',
      qtype: 1,
      qclass: 1,
      ancount: 3,
      answerAddrs: 2,
    })
    expect(out.flags & 0x8000).toBe(0x8000)
  })

  it('counts no address answers for AAAA NODATA', () => {
    const msg = encode({
      type: 'response',
      id: 1,
      questions: [{ type: 'AAAA', name: 'database.default.svc.cluster.local' }],
    })
    const out = newHeaderQuestion()
    decodeHeaderQuestion(msg, 0, msg.length, out)
    expect(out.answerAddrs).toBe(0)
    expect(out.qtype).toBe(28)
  })

  it('escapes hostile bytes in names (RFC 1035 §5.1)', () => {
    // label "<a b>" then "x.y" as one label, then a NUL byte label
    const msg = new Uint8Array([
      0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x3c, 0x61, 0x20, 0x62, 0x3e, 3, 0x78, 0x2e, 0x79, 1,
      0, 0, 0, 1, 0, 1,
    ])
    const out = newHeaderQuestion()
    decodeHeaderQuestion(msg, 0, msg.length, out)
    expect(out.qname).toBe('<a\\032b>.x\\.y.\\000.')
  })

  it('rejects pointer loops, forward pointers and short headers with a reason', () => {
    const loop = new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
    const out = newHeaderQuestion()
    expect(() => decodeHeaderQuestion(loop, 0, loop.length, out)).toThrow(/forward or self pointer/)
    expect(() => decodeHeaderQuestion(loop, 0, 5, out)).toThrow(DnsDecodeError)
    expect(() => readName(new Uint8Array([0x40, 0]), 0, 2)).toThrow(/label type/)
  })

  it('keeps header and question when the answers are cut off', () => {
    const msg = encode({
      type: 'response',
      id: 7,
      questions: [{ type: 'A', name: 'a.example' }],
      answers: [{ type: 'A', name: 'a.example', data: '192.0.2.9' }],
    })
    const out = newHeaderQuestion()
    decodeHeaderQuestion(msg, 0, msg.length - 3, out)
    expect(out.qname).toBe('a.example.')
    expect(out.warning).toMatch(/runs past the end/)
  })
})

describe('decodeMessage', () => {
  it('decodes records and EDNS like dns-packet encoded them', () => {
    const msg = encode({
      type: 'response',
      id: 9,
      questions: [{ type: 'AAAA', name: 'v6.example' }],
      answers: [{ type: 'AAAA', name: 'v6.example', ttl: 30, data: '2001:db8::1' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK, options: [] },
      ],
    })
    const d = decodeMessage(msg)
    expect(d.answers[0]).toMatchObject({
      name: 'v6.example.',
      type: 28,
      ttl: 30,
      data: '2001:db8::1',
    })
    expect(d.edns).toMatchObject({ udpSize: 1232, dnssecOk: true, version: 0 })
  })
})
