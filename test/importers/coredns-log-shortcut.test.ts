// readPlainQuery is a shortcut for the common CoreDNS query line, not a second definition: on
// every line it reads, it must make exactly the event parseQuery makes, and it must leave every
// other line to parseQuery. Checked on every line of the corpus and fixture logs, and on
// thousands of lines made by changing one character of a current-format line in every position.
import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CORPUS } from '../corpus.js'
import {
  corednsLogImporter,
  parseQuery,
  peelPrefixes,
  readPlainQuery,
  readStamp,
} from '../../core/importers/coredns-log.js'
import type { DnsMessageEvent } from '../../core/model/event.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const base = { input: 1, ref: 7, offset: 70, vantage: 'pod/coredns', time: 1.5e15 }

/** Every file below `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

/** What parseQuery reads of a body: the text after the level tag. */
const bodyOf = (line: string) => peelPrefixes(line.trim()).body.replace(/^\[INFO\] /, '')

/** readPlainQuery of a body given as text (it reads the bytes, as the importer gives them). */
function plain(body: string): DnsMessageEvent | null {
  const bytes = new TextEncoder().encode(body)
  return readPlainQuery(bytes, 0, bytes.length, body, 0, base)
}

/** The shortcut's event of `body` (null: left to parseQuery), checked against parseQuery's. */
function check(body: string): DnsMessageEvent | null {
  const fast = plain(body)
  if (fast) expect(fast, body).toEqual(parseQuery(body, base))
  return fast
}

const CURRENT = [
  '10.244.0.130:37900 - 31448 "A IN servera.fabric-net.svc.cluster.local. udp 75 false 512" NXDOMAIN qr,aa,rd 168 0.000102235s',
  '172.17.0.1:60520 - 38716 "AAAA IN example.com. udp 40 false 1232" NOERROR qr,rd,ra 156 0.021113s',
  '10.1.2.3:5353 - 7 "SRV IN _http._tcp.web.default.svc.cluster.local. tcp 70 true 65535" SERVFAIL qr,aa,rd,z 0 2s',
  '192.168.1.10:41000 - 65535 "PTR IN 1.0.96.10.in-addr.arpa. udp 44 false 512" REFUSED qr,cd,ad,tc 44 10.5s',
]

describe('readPlainQuery: the shortcut for current query lines', () => {
  it('reads the current format, with or without flags it does not know', () => {
    for (const line of CURRENT) expect(check(line), line).not.toBeNull()
    const e = check(CURRENT[2])!
    expect(e).toMatchObject({ qtype: 33, transport: 'tcp', rcode: 2, srcPort: 5353, size: 0 })
    expect(e.flags & 0x40).toBe(0x40) // z
  })

  it('makes the same event as parseQuery on every query line of the corpus and fixtures', () => {
    let lines = 0
    let read = 0
    for (const dir of [
      path.join(CORPUS, 'coredns-log'),
      path.join(repoRoot, 'test/fixtures/coredns-log'),
    ])
      for (const f of files(dir)) {
        if (f.endsWith('.md')) continue
        for (const line of readFileSync(f, 'utf8').split('\n')) {
          lines++
          if (check(bodyOf(line))) read++
        }
      }
    // Most corpus lines are older formats, prefixes, errors and start-up output: the long way.
    expect(lines).toBeGreaterThan(300)
    expect(read).toBeGreaterThan(20)
  })

  it('agrees with parseQuery on every line one character away from a current one', () => {
    const chars = [
      ' ',
      '\t',
      '"',
      '\\',
      ':',
      '[',
      ']',
      '-',
      ',',
      '.',
      'µ',
      'Z',
      'a',
      '0',
      '9',
      's',
      '\u00a0',
    ]
    let read = 0
    let cases = 0
    for (const line of CURRENT)
      for (let i = 0; i <= line.length; i++) {
        const variants = [line.slice(0, i) + line.slice(i + 1)]
        for (const c of chars)
          variants.push(
            line.slice(0, i) + c + line.slice(i + 1),
            line.slice(0, i) + c + line.slice(i),
          )
        for (const v of variants) {
          cases++
          if (check(v)) read++
        }
      }
    // The shortcut reads many of them (a digit for a digit, a letter in a name) and leaves the
    // rest: both happen.
    expect(cases).toBeGreaterThan(10_000)
    expect(read).toBeGreaterThan(1000)
    expect(read).toBeLessThan(cases)
  })

  it('agrees with parseQuery on names about the length limits (63 a label, 254 in all)', () => {
    const line = (name: string) =>
      `10.0.0.1:53 - 1 "A IN ${name} udp 1 false 512" NXDOMAIN qr,aa,rd 1 0.001s`
    let read = 0
    for (let total = 240; total <= 260; total++) {
      // Labels of 62 and a last one that makes the name `total` characters with its dots.
      const labels: string[] = []
      let left = total
      while (left > 64) {
        labels.push('b'.repeat(62))
        left -= 63
      }
      labels.push('c'.repeat(left - 1))
      if (check(line(labels.join('.') + '.'))) read++
    }
    for (const label of [62, 63, 64]) if (check(line('d'.repeat(label) + '.example.'))) read++
    expect(read).toBe(15 + 2)
  })

  it('reads RFC 3339 stamps from bytes as peelPrefixes reads them from text', () => {
    const stamps = [
      '2026-11-20T10:00:00Z',
      '2026-11-20T10:00:00.1Z',
      '2026-11-20T10:00:00.123456789Z',
      '2026-11-20T10:00:00.1234567891Z',
      '2026-11-20T10:00:00,5+05:30',
      '2019-08-19T21:21:43.1742448-0700',
      '2024-02-29T23:59:59.999999999+00:00',
      '2023-13-40T25:61:61Z',
      '2026-11-20T10:00:00.Z',
      '2026-11-20 10:00:00Z',
      '2026-11-20T10:00:00',
      '2026-11-20T10:00:00+5:30',
    ]
    // Each stamp, and every one-character change of it, before one or two spaces.
    const variants = stamps.flatMap((st) => [
      st,
      ...[...st].flatMap((_, i) =>
        ['0', '9', ':', '.', ',', 'Z', '+', '-', ' ', 'x'].map(
          (c) => st.slice(0, i) + c + st.slice(i + 1),
        ),
      ),
    ])
    let read = 0
    for (const st of variants)
      for (const gap of [' ', '  ', '']) {
        const line = `${st}${gap}[INFO] x`
        const t = readStamp(new TextEncoder().encode(line), 0, line.length)
        if (Number.isNaN(t)) continue
        read++
        expect(t, line).toBe(peelPrefixes(line).time)
      }
    expect(read).toBeGreaterThan(300)
    expect(read).toBeLessThan(variants.length * 3)
  })

  it('leaves lines of other shapes to parseQuery', () => {
    for (const body of [
      '[::1]:53 - 1 "A IN a. udp 1 false 512" NOERROR qr 1 1s', // IPv6
      '10.0.0.1:53 - 1 "A IN a. udp 1 false 512" NOERROR - 1 1s', // no reply written
      '10.0.0.1:53 - 1 "A IN a. udp 1 false 512" - - 0 6.002435968s',
      '10.0.0.1:53 - 1 "A IN a. udp 1 false 512" NOERROR qr,aa 1 981.518µs', // Go duration
      '10.0.0.1:53 - 1 "A IN a. udp 1 false 512" NOERROR qr,aa 1 1s "QUERY"', // opcode
      '10.0.0.1:53 - 1 "A IN Ex\\065mple.com. udp 1 false 512" NOERROR qr 1 1s', // escape
      '10.2.6.75 - [06/Feb/2017:21:18:44 +0000] "A IN k. udp 54 false 512" NOERROR 70 981.518µs',
      '10.0.0.1:53 - 1 "A IN a. udp 1 false 512" BADCOOKIE qr 1 1s',
    ])
      expect(plain(body), body).toBeNull()
  })

  it('gives the importer, line by line, the events parseQuery makes of each', () => {
    // Lines the shortcut must read and lines it must leave: a BOM, CRLF, leading blanks, UTF-8
    // in a name and in a duration, a tab, an invalid byte.
    const stamp = '2026-11-20T10:00:00.123456Z '
    const lines = [
      '\ufeff' + stamp + '[INFO] ' + CURRENT[0],
      stamp + '[INFO] ' + CURRENT[1] + '\r',
      '   ' + stamp + '[INFO] ' + CURRENT[2],
      stamp + '[INFO] ' + CURRENT[3].replace('1.0.96.10', 'ü.0.96.10'),
      '[INFO] ' + CURRENT[0].replace('0.000102235s', '102.235µs'),
      stamp + '[INFO]\t' + CURRENT[1],
      '[INFO] ' + CURRENT[1],
      '[INFO] ' + CURRENT[2].replace('web', 'w\xffb'),
    ]
    const bytes = new Uint8Array(
      lines.flatMap((l) => [...new TextEncoder().encode(l.replace('\xff', '~')), 10]),
    )
    // The invalid byte: 0xff where the `~` stands in.
    bytes[bytes.lastIndexOf(0x7e)] = 0xff
    const events = corednsLogImporter
      .parse(
        { index: 1, path: 'c.log', bytes, vantage: 'pod/coredns' },
        { dnsPorts: new Set([53]) },
      )
      .events.filter((e) => e.kind === 'dns')
    // Each line on its own, its offset counted in bytes (the BOM's too).
    const expected: DnsMessageEvent[] = []
    for (let ref = 1, offset = 0; offset < bytes.length; ref++) {
      const end = bytes.indexOf(10, offset)
      const line = new TextDecoder().decode(bytes.subarray(offset, end))
      const p = peelPrefixes(line.trim())
      const body = p.body.replace(/^\[INFO\] ?/, '')
      const e = parseQuery(body, { ...base, ref, offset, time: p.time })
      if (typeof e !== 'string') expected.push(e)
      offset = end + 1
    }
    expect(expected.length).toBeGreaterThanOrEqual(6)
    expect(events).toEqual(expected)
  })

  it('gives the importer the same events with and without it', () => {
    // The same lines, once as they are and once behind a CRI tag the shortcut leaves alone.
    const text = CURRENT.map((l) => `2026-11-20T10:00:00.000009Z [INFO] ${l}`).join('\n')
    const cri = CURRENT.map((l) => `2026-11-20T10:00:00.000009Z stdout F [INFO] ${l}`).join('\n')
    const parse = (t: string) =>
      corednsLogImporter.parse(
        { index: 0, path: 'c.log', bytes: new TextEncoder().encode(t), vantage: 'v' },
        { dnsPorts: new Set([53]) },
      ).events
    // Byte offsets differ by the tag's length: compare the rest.
    const withoutOffset = (events: ReturnType<typeof parse>) =>
      events.map((e) => ({ ...e, offset: 0 }))
    const a = parse(text)
    expect(a).toHaveLength(CURRENT.length)
    expect(withoutOffset(a)).toEqual(withoutOffset(parse(cri)))
  })
})
