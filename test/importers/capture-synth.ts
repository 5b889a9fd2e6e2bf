// Test helpers for the capture importer: run tshark as the oracle, and rewrite real captures into
// other link types and file formats (the packets stay those real software wrote; only the framing
// around them changes), so tshark can judge every variant the importer claims to read.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyzeBundleFull } from '../../core/analyze.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import type { Report } from '../../core/model/report.js'

export const tmp = mkdtempSync(join(tmpdir(), 'dnsbundle-capture-test-'))

/** Writes bytes to a temp file and returns its path. */
export function tempFile(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name)
  writeFileSync(p, bytes)
  return p
}

/** tshark -T fields rows (tab-separated values per frame). */
export function tsharkFields(path: string, fields: string[], extra: string[] = []): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', path, ...extra, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
    },
  )
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'))
}

/** The DNS messages tshark sees on port 53, as "frame:id" strings (one per message). */
export function tsharkMessages(path: string, extra: string[] = []): string[] {
  const rows = tsharkFields(
    path,
    ['frame.number', 'dns.id'],
    ['-Y', 'dns && (udp.port==53 || tcp.port==53)', ...extra],
  )
  const out: string[] = []
  for (const [frame, ids] of rows)
    for (const id of ids ? ids.split(',') : []) out.push(`${frame}:${Number(id)}`)
  return out
}

/** Runs the whole analysis on bytes under a meaningless name, as a bundle of one file. */
export function analyze(
  bytes: Uint8Array,
  ports?: number[],
): { report: Report; dns: DnsMessageEvent[] } {
  const { report, dns } = analyzeBundleFull(
    { files: [{ path: 'x.bin', bytes }], skipped: [] },
    { dnsPorts: ports },
  )
  return { report, dns: dns.slice() }
}

export function ourMessages(dns: DnsMessageEvent[]): string[] {
  return dns.map((e) => `${e.ref}:${e.id}`)
}

export interface PcapRecord {
  sec: number
  /** µs or ns, as the file says. */
  frac: number
  orig: number
  data: Uint8Array
}

export interface PcapFile {
  linktype: number
  nanoseconds: boolean
  records: PcapRecord[]
}

/** A minimal classic-pcap reader for well-formed test inputs (independent of the importer). */
export function readPcap(b: Uint8Array): PcapFile {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const magicLe = dv.getUint32(0, true)
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d
  const magic = dv.getUint32(0, le)
  const records: PcapRecord[] = []
  for (let pos = 24; pos + 16 <= b.length;) {
    const incl = dv.getUint32(pos + 8, le)
    records.push({
      sec: dv.getUint32(pos, le),
      frac: dv.getUint32(pos + 4, le),
      orig: dv.getUint32(pos + 12, le),
      data: b.slice(pos + 16, pos + 16 + incl),
    })
    pos += 16 + incl
  }
  return { linktype: dv.getUint32(20, le) & 0xffff, nanoseconds: magic === 0xa1b23c4d, records }
}

export interface WriteOptions {
  bigEndian?: boolean
  nanoseconds?: boolean
  snaplen?: number
}

/** Writes a classic pcap. */
export function writePcap(
  linktype: number,
  records: PcapRecord[],
  o: WriteOptions = {},
): Uint8Array {
  const le = !o.bigEndian
  const size = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0)
  const b = new Uint8Array(size)
  const dv = new DataView(b.buffer)
  dv.setUint32(0, o.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, le)
  dv.setUint16(4, 2, le)
  dv.setUint16(6, 4, le)
  dv.setUint32(16, o.snaplen ?? 262144, le)
  dv.setUint32(20, linktype, le)
  let pos = 24
  for (const r of records) {
    dv.setUint32(pos, r.sec, le)
    dv.setUint32(pos + 4, r.frac, le)
    dv.setUint32(pos + 8, r.data.length, le)
    dv.setUint32(pos + 12, r.orig, le)
    b.set(r.data, pos + 16)
    pos += 16 + r.data.length
  }
  return b
}

/** Builds a pcapng from blocks (type, body) in the given byte order. */
export function writePcapng(
  blocks: { type: number; body: Uint8Array }[],
  bigEndian = false,
): Uint8Array {
  const le = !bigEndian
  const parts: Uint8Array[] = []
  for (const { type, body } of blocks) {
    const padded = (body.length + 3) & ~3
    const len = 12 + padded
    const b = new Uint8Array(len)
    const dv = new DataView(b.buffer)
    dv.setUint32(0, type, le)
    dv.setUint32(4, len, le)
    b.set(body, 8)
    dv.setUint32(len - 4, len, le)
    parts.push(b)
  }
  return concat(parts)
}

/** pcapng block bodies. */
export const ng = {
  shb(bigEndian = false): Uint8Array {
    const b = new Uint8Array(16)
    const dv = new DataView(b.buffer)
    dv.setUint32(0, 0x1a2b3c4d, !bigEndian)
    dv.setUint16(4, 1, !bigEndian)
    dv.setUint16(6, 0, !bigEndian)
    dv.setBigInt64(8, -1n, !bigEndian)
    return b
  },
  idb(
    linktype: number,
    snaplen: number,
    opts: { tsresol?: number; tsoffset?: bigint } = {},
    bigEndian = false,
  ): Uint8Array {
    const le = !bigEndian
    const o: Uint8Array[] = []
    const head = new Uint8Array(8)
    const hv = new DataView(head.buffer)
    hv.setUint16(0, linktype, le)
    hv.setUint32(4, snaplen, le)
    o.push(head)
    if (opts.tsresol !== undefined) o.push(option(9, new Uint8Array([opts.tsresol]), le))
    if (opts.tsoffset !== undefined) {
      const v = new Uint8Array(8)
      new DataView(v.buffer).setBigInt64(0, opts.tsoffset, le)
      o.push(option(14, v, le))
    }
    o.push(new Uint8Array(4)) // opt_endofopt
    return concat(o)
  },
  epb(
    ifid: number,
    ts: bigint,
    data: Uint8Array,
    orig = data.length,
    bigEndian = false,
  ): Uint8Array {
    const le = !bigEndian
    const b = new Uint8Array(20 + ((data.length + 3) & ~3))
    const dv = new DataView(b.buffer)
    dv.setUint32(0, ifid, le)
    dv.setUint32(4, Number(ts >> 32n), le)
    dv.setUint32(8, Number(ts & 0xffffffffn), le)
    dv.setUint32(12, data.length, le)
    dv.setUint32(16, orig, le)
    b.set(data, 20)
    return b
  },
  spb(data: Uint8Array, bigEndian = false): Uint8Array {
    const b = new Uint8Array(4 + ((data.length + 3) & ~3))
    new DataView(b.buffer).setUint32(0, data.length, !bigEndian)
    b.set(data, 4)
    return b
  },
}

function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const b = new Uint8Array(4 + ((value.length + 3) & ~3))
  const dv = new DataView(b.buffer)
  dv.setUint16(0, code, le)
  dv.setUint16(2, value.length, le)
  b.set(value, 4)
  return b
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values)
}

/** The IP packet inside an untagged Ethernet frame. */
export function ipOf(frame: Uint8Array): Uint8Array {
  return frame.subarray(14)
}

/** A 32-bit value in the given byte order. */
export function u32Bytes(v: number, littleEndian: boolean): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, v, littleEndian)
  return b
}

/** Deterministic pseudo-random numbers (mulberry32), for reproducible corruption. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An Ethernet + IPv4 + TCP frame (checksums left 0: nothing here verifies them). */
export function tcpFrame(o: {
  src: string
  dst: string
  sport: number
  dport: number
  seq: number
  ack?: number
  flags: number
  payload?: Uint8Array
}): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0)
  const b = new Uint8Array(14 + 20 + 20 + payload.length)
  const dv = new DataView(b.buffer)
  dv.setUint16(12, 0x0800)
  b[14] = 0x45
  dv.setUint16(16, 40 + payload.length)
  b[22] = 64
  b[23] = 6
  b.set(o.src.split('.').map(Number), 26)
  b.set(o.dst.split('.').map(Number), 30)
  dv.setUint16(34, o.sport)
  dv.setUint16(36, o.dport)
  dv.setUint32(38, o.seq >>> 0)
  dv.setUint32(42, (o.ack ?? 0) >>> 0)
  b[46] = 5 << 4
  b[47] = o.flags
  dv.setUint16(48, 65535)
  b.set(payload, 54)
  return b
}

/** A DNS query for `name` (type A) with its 2-byte TCP length prefix. */
export function tcpQuery(id: number, name: string): Uint8Array {
  const labels = name.split('.').filter(Boolean)
  const qname = concat([
    ...labels.map((l) => concat([bytes(l.length), new TextEncoder().encode(l)])),
    bytes(0),
  ])
  const msg = concat([
    bytes(id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0),
    qname,
    bytes(0, 1, 0, 1),
  ])
  return concat([bytes(msg.length >> 8, msg.length & 255), msg])
}
