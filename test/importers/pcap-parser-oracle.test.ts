// Classic pcap records against pcap-parser 0.2.1 (npm), an independent, Node-stream based reader:
// same number of records, same timestamps, same captured lengths and byte offsets.
// pcap-parser reads only microsecond pcap (magic A1B2C3D4, either byte order): it rejects
// nanosecond pcap (A1B23C4D) and pcapng with "unknown magic number", so those files are checked
// against tshark elsewhere (capture.test.ts, capture-tshark.test.ts), and here only that
// pcap-parser indeed refuses them.
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { corpus } from '../corpus.js'
import { readPcapRecords } from '../../core/importers/pcap.js'
import type { FrameSink } from '../../core/importers/capture/packet-decoder.js'
import { readPcap, writePcap } from './capture-synth.js'

const require = createRequire(import.meta.url)
const pcapParser = require('pcap-parser') as {
  parse(input: NodeJS.ReadableStream): NodeJS.EventEmitter
}

interface Rec {
  time: number
  incl: number
  offset: number
}

/** What pcap-parser sees: its records (time in µs), or the error it stops with. */
function viaPcapParser(bytes: Uint8Array): Promise<{ records: Rec[]; error?: string }> {
  return new Promise((resolve) => {
    const records: Rec[] = []
    let offset = 24
    let error: string | undefined
    const parser = pcapParser.parse(Readable.from([Buffer.from(bytes)]))
    parser.on(
      'packet',
      (p: {
        header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number }
      }) => {
        const h = p.header
        records.push({
          time: h.timestampSeconds * 1_000_000 + h.timestampMicroseconds,
          incl: h.capturedLength,
          offset,
        })
        offset += 16 + h.capturedLength
      },
    )
    parser.on('error', (e: Error) => (error = e.message))
    parser.on('end', () => resolve({ records, error }))
  })
}

/** What our reader sees. */
function viaOurs(bytes: Uint8Array): { records: Rec[]; problems: string[] } {
  const records: Rec[] = []
  const problems: string[] = []
  const sink: FrameSink = {
    packet(_lt, _b, start, end, _wire, time, _frame, offset) {
      records.push({ time, incl: end - start, offset })
    },
    problem: (frame, message) => problems.push(`${frame}: ${message}`),
    fileProblem: (where, message) => problems.push(`${where}: ${message}`),
  }
  readPcapRecords(bytes, sink)
  return { records, problems }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

const ROOT = corpus('pcap')
const captures = walk(ROOT)
  .filter((p) => !p.endsWith('.txt') && !p.endsWith('.out'))
  .map((p) => {
    const raw = readFileSync(p)
    const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw
    return { name: relative(ROOT, p), bytes: new Uint8Array(bytes) }
  })
const magic = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false)
const isMicro = (b: Uint8Array) => magic(b) === 0xa1b2c3d4 || magic(b) === 0xd4c3b2a1
const microsecond = captures.filter((c) => isMicro(c.bytes))
const others = captures.filter((c) => !isMicro(c.bytes))

describe('classic pcap records agree with pcap-parser', () => {
  it('covers most of the corpus', () => {
    expect(microsecond.length).toBeGreaterThan(100)
  })

  for (const { name, bytes } of microsecond) {
    it(name, async () => {
      const theirs = await viaPcapParser(bytes)
      const ours = viaOurs(bytes)
      expect(theirs.error).toBeUndefined()
      expect(ours.problems).toEqual([])
      expect(ours.records.length).toBe(theirs.records.length)
      expect(ours.records).toEqual(theirs.records)
    })
  }

  it('reads a big-endian rewrite of dns.pcap like pcap-parser does', async () => {
    const f = readPcap(readFileSync(corpus('pcap/dnscap/dns.pcap')))
    const be = writePcap(f.linktype, f.records, { bigEndian: true })
    const theirs = await viaPcapParser(be)
    expect(theirs.records).toHaveLength(133)
    expect(viaOurs(be).records).toEqual(theirs.records)
  })

  it('pcap-parser refuses nanosecond pcap and pcapng, which we read', async () => {
    const f = readPcap(readFileSync(corpus('pcap/dnscap/dns.pcap')))
    const ns = writePcap(
      f.linktype,
      f.records.map((r) => ({ ...r, frac: r.frac * 1000 })),
      { nanoseconds: true },
    )
    const candidates = [{ name: 'dns.pcap as nanosecond pcap', bytes: ns }, ...others]
    expect(candidates.length).toBeGreaterThan(4)
    for (const { bytes } of candidates) {
      const theirs = await viaPcapParser(bytes)
      expect(theirs.error).toMatch(/unknown magic number/)
    }
    // ... and the nanosecond rewrite reads back with the microsecond times of the original.
    expect(viaOurs(ns).records).toEqual(viaOurs(writePcap(f.linktype, f.records)).records)
  })
})
