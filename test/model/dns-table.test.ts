// The column store gives back exactly the events put in, across growth and for every source.
import { describe, expect, it } from 'vitest'
import { DnsTable } from '../../core/model/dns-table.js'
import type { DnsMessageEvent } from '../../core/model/event.js'

function event(i: number, extra: Partial<DnsMessageEvent> = {}): DnsMessageEvent {
  return {
    kind: 'dns',
    input: i % 3,
    ref: i + 1,
    offset: i % 5 === 0 ? -1 : i * 100,
    vantage: `v${i % 4}`,
    time: 1_700_000_000_000_000 + i * 7,
    source: 'capture',
    transport: i % 2 ? 'tcp' : 'udp',
    srcAddr: `10.0.0.${i % 250}`,
    srcPort: 1024 + i,
    dstAddr: i % 7 === 0 ? '' : '10.96.0.10',
    dstPort: 53,
    id: i & 0xffff,
    qr: i % 2 === 1,
    opcode: 0,
    rcode: i % 2 ? 3 : 0,
    flags: i % 2 ? 0x8183 : 0x0100,
    qname: `n${i % 11}.example.`,
    qtype: i % 3 ? 1 : 28,
    qclass: 1,
    ancount: i % 2,
    answerAddrs: i % 2 ? 0 : -1,
    size: 40 + i,
    ...extra,
  }
}

describe('DnsTable', () => {
  it('returns every pushed event unchanged, across several growths', () => {
    const t = new DnsTable()
    const events = Array.from({ length: 5000 }, (_, i) => event(i))
    for (const e of events) t.push(e)
    expect(t.length).toBe(5000)
    expect(t.slice()).toEqual(events)
  })

  it('keeps the fields of one source only: log durations, dnstap types, copies, rare fields', () => {
    const t = new DnsTable()
    const log = event(1, {
      source: 'log',
      durationUs: 1234.5,
      time: NaN,
      clock: '15:06:24',
      rcode: -1,
      flags: 0,
    })
    const tap = event(2, { source: 'dnstap', dnstapType: 'CLIENT_QUERY', id: -1 })
    const copy = event(3, { copyOf: 2, malformed: 'cut off by the capture (10 of 60 bytes)' })
    const boot = event(4, { sinceBootUs: 99 })
    for (const e of [event(0), log, tap, copy, boot]) t.push(e)
    expect(t.slice()).toEqual([event(0), log, tap, copy, boot])
    expect(t.durationUs(1)).toBe(1234.5)
    expect(t.durationUs(0)).toBeNaN()
    expect(t.copyOf(3)).toBe(2)
    expect(t.get(3).malformed).toMatch(/cut off/)
    expect(t.strings.text[t.dnstapType(2)]).toBe('CLIENT_QUERY')
    // A log line's query arrived its duration before the line was written.
    const timed = new DnsTable()
    timed.push(event(5, { source: 'log', durationUs: 1500, time: 10_000 }))
    expect(timed.arrival(0)).toBe(8_500)
  })

  it('numbers each string once, with 0 for the empty string', () => {
    const t = new DnsTable()
    t.push(event(7))
    t.push(event(18)) // the same qname as 7 (n7.example.)
    expect(t.dstAddr[0]).toBe(0)
    expect(t.strings.text[0]).toBe('')
    expect(t.qname[0]).toBe(t.qname[1])
  })
})
