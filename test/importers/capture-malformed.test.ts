// Bad input never crashes or hangs the capture importer: it names the problem and keeps the good
// data. Hand-made malformed files (test/fixtures/pcap, see its README), then every corpus capture
// truncated at many points and with bits flipped (fixed seeds), all under the name x.bin.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { corpus, REPO_ROOT } from '../corpus.js'
import { analyze, seeded } from './capture-synth.js'
import type { Report } from '../../core/model/report.js'

const fixture = (name: string) =>
  new Uint8Array(readFileSync(join(REPO_ROOT, 'test/fixtures/pcap', name)))
const messages = (r: Report) => r.inputs[0].problems.map((p) => `${p.where}: ${p.message}`)
const refs = (dns: { ref: number; id: number }[]) => dns.map((e) => `${e.ref}:${e.id.toString(16)}`)
/** The importer threw: analyze.ts turns that into this problem. It must never happen. */
const crashed = (r: Report) => r.inputs[0].problems.some((p) => p.where === 'importer')

describe('hand-made malformed captures', () => {
  const CASES: [string, string[], string[]][] = [
    ['snaplen-2gb.pcap', ['1:e7af', '2:e7af', '3:8b51', '4:8b51'], []],
    [
      'zero-length-records.pcap',
      ['1:e7af', '3:e7af', '5:8b51'],
      [
        'packet 2: 0-byte frame is too short for its Ethernet header',
        'packet 4: 0-byte frame is too short for its Ethernet header',
      ],
    ],
    [
      'record-past-end.pcap',
      ['1:e7af', '2:e7af'],
      ['packet 3: record at byte 348 is cut off (87 of 1000 bytes): the file is truncated'],
    ],
    [
      'record-claims-2gb.pcap',
      ['1:e7af'],
      [
        'packet 2: record at byte 110 claims 2147483647 captured bytes (more than 262144): the file is corrupt from here; stopped',
      ],
    ],
    ['header-cut.pcap', [], ['file header: pcap file header cut off (10 of 24 bytes)']],
    [
      'trailing-bytes.pcap',
      ['1:e7af', '2:e7af'],
      ['byte 348: 7 trailing bytes, too few for a record header: the file is truncated'],
    ],
    [
      'ip-header-lies.pcap',
      ['3:e7af', '4:8b51'],
      [
        'packet 1: IPv4 header length 12 is less than 20; not decoded',
        'packet 2: IPv4 total length 10 is less than its 20-byte header; not decoded',
        'packet 3: IPv4 total length 256 is more than the 56 bytes in the frame; decoded what is there',
      ],
    ],
    [
      'udp-length-lies.pcap',
      ['2:e7af', '3:8b51'],
      [
        'packet 1: UDP 172.17.0.10:53199 > 8.8.8.8:53: UDP length field 4 is less than 8',
        'packet 2: UDP 172.17.0.10:53199 > 8.8.8.8:53: UDP length 512 is more than the 36 bytes the IP packet holds; decoded what is there',
      ],
    ],
    [
      'dns-too-short.pcap',
      ['2:8b51'],
      [
        'packet 1: UDP 172.17.0.10:53199 > 8.8.8.8:53: Cannot decode header (5 bytes, need 12)',
        'capture: 1 message(s) on the DNS ports did not decode as DNS and were not counted',
      ],
    ],
    [
      'vlan-tag-stack.pcap',
      ['2:8b51'],
      ['packet 1: more than 8 VLAN/PPPoE tags stacked; not decoded'],
    ],
    [
      'pcapng-block-length-13.pcapng',
      ['1:e7af'],
      ['block at byte 156: pcapng block has an impossible length 13; stopped'],
    ],
    [
      'pcapng-length-mismatch.pcapng',
      ['1:e7af'],
      [
        'block at byte 156: pcapng block lengths at its start and end differ: the file is corrupt; stopped',
      ],
    ],
    [
      'pcapng-unknown-interface.pcapng',
      ['2:e7af'],
      ['packet 1: block at byte 52: interface 5 was never described; skipped'],
    ],
    [
      'pcapng-spb-before-idb.pcapng',
      ['2:e7af'],
      ['packet 1: block at byte 28: simple packet block before any interface; skipped'],
    ],
    [
      'pcapng-truncated.pcapng',
      ['1:e7af'],
      ['block at byte 156: pcapng block runs past the end of the file (truncated); stopped'],
    ],
    [
      'pcapng-epb-caplen-past-block.pcapng',
      ['1:e7af', '3:8b51'],
      ['packet 2: block at byte 156: captured length 4000 does not fit the block; skipped'],
    ],
  ]
  for (const [name, kept, problems] of CASES) {
    it(name, () => {
      const { report, dns } = analyze(fixture(name))
      expect(report.inputs[0].kind).toBe(name.endsWith('.pcapng') ? 'pcapng' : 'pcap')
      expect(refs(dns)).toEqual(kept)
      expect(messages(report)).toEqual(problems)
    })
  }

  it('lists every fixture of the folder', () => {
    const files = readdirSync(join(REPO_ROOT, 'test/fixtures/pcap')).filter((f) =>
      /\.pcap(ng)?$/.test(f),
    )
    expect(files.sort()).toEqual(CASES.map(([n]) => n).sort())
  })
})

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}
const ROOT = corpus('pcap')
const CAPTURES = walk(ROOT)
  .filter((p) => !p.endsWith('.txt') && !p.endsWith('.out') && !p.endsWith('.gz'))
  .map((p) => ({ name: relative(ROOT, p), bytes: new Uint8Array(readFileSync(p)) }))

describe('corpus captures cut short and corrupted', () => {
  for (const { name, bytes } of CAPTURES) {
    it(name, () => {
      const whole = analyze(bytes)
      expect(crashed(whole.report)).toBe(false)
      // Truncated at ~40 points: the UDP messages of the records before the cut survive (a TCP
      // message may complete in a later record), and a cut inside a record is named.
      const ends = recordEnds(bytes)
      const step = Math.max(1, Math.floor(bytes.length / 40))
      for (let cut = 1; cut < bytes.length; cut += step) {
        const { report, dns } = analyze(bytes.subarray(0, cut))
        expect(crashed(report), `cut at ${cut}`).toBe(false)
        if (report.inputs[0].skipped) {
          // Too few bytes left to recognise the format (pcap: 4, pcapng: 12): listed as skipped.
          expect(cut).toBeLessThan(12)
          continue
        }
        const kept = new Set(refs(dns))
        for (const e of whole.dns) {
          if (e.transport === 'udp' && (ends.get(e.offset) ?? Infinity) <= cut)
            expect(
              kept.has(`${e.ref}:${e.id.toString(16)}`),
              `cut at ${cut}, packet ${e.ref}`,
            ).toBe(true)
        }
        if (!ends.has(cut) && ![...ends.values()].includes(cut))
          expect(messages(report).join('\n'), `cut at ${cut}`).toMatch(
            /truncated|cut off|runs past/,
          )
      }
      // Bit flips: 25 variants with 1 to 16 flipped bits, in the headers or anywhere.
      const random = seeded(name.length * 7919 + bytes.length)
      for (let v = 0; v < 25; v++) {
        const copy = bytes.slice()
        const flips = 1 + Math.floor(random() * 16)
        const span = v % 2 === 0 ? Math.min(copy.length, 128) : copy.length
        for (let i = 0; i < flips; i++)
          copy[Math.floor(random() * span)] ^= 1 << Math.floor(random() * 8)
        const { report } = analyze(copy)
        expect(crashed(report), `variant ${v}`).toBe(false)
      }
    })
  }
})

/** Record (pcap) or block (pcapng) start offset -> end offset, walking the length fields. */
function recordEnds(b: Uint8Array): Map<number, number> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const ends = new Map<number, number>()
  if (dv.getUint32(0, false) === 0x0a0d0d0a) {
    const le = dv.getUint32(8, true) === 0x1a2b3c4d
    for (let pos = 0; pos + 12 <= b.length;) {
      const len = dv.getUint32(pos + 4, le)
      ends.set(pos, pos + len)
      pos += len
    }
  } else {
    const le = dv.getUint32(0, true) === 0xa1b2c3d4 || dv.getUint32(0, true) === 0xa1b23c4d
    ends.set(0, 24)
    for (let pos = 24; pos + 16 <= b.length;) {
      const len = 16 + dv.getUint32(pos + 8, le)
      ends.set(pos, pos + len)
      pos += len
    }
  }
  return ends
}

describe('compressed captures', () => {
  it('a gzip capture cut short keeps what was inflated; the cut record is named', () => {
    const gz = new Uint8Array(readFileSync(corpus('pcap/dnscap/dns.pcap.gz')))
    const full = analyze(gz)
    expect(full.dns).toHaveLength(82)
    expect(gunzipSync(gz).length).toBe(20228)
    const { report, dns } = analyze(gz.subarray(0, Math.floor(gz.length / 2)))
    expect(report.inputs[0].kind).toBe('pcap+gzip')
    expect(dns.length).toBeGreaterThan(0)
    expect(dns.length).toBeLessThan(82)
    expect(messages(report).join('\n')).toMatch(/is cut off .*the file is truncated/)
  })
})
