// pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): sections in either
// byte order, several interfaces each with its link type, if_tsresol and if_tsoffset (§4.2),
// Enhanced (§4.3), Simple (§4.4) and obsolete Packet Blocks (Appendix A); other blocks skipped.
// A Simple Packet Block has no timestamp: its events get time NaN ("no clock"), never a guess.
import type { Importer, ImportInput, ImportContext, ImportResult } from './importer.js'
import { u16, u32, i64 } from '../codec/byte-reader.js'
import { decodeCapture, type FrameSink } from './capture/packet-decoder.js'
import { MAX_RECORD } from './pcap.js'

const SHB = 0x0a0d0d0a
const IDB = 0x00000001
const OPB = 0x00000002
const SPB = 0x00000003
const EPB = 0x00000006
// Blocks Wireshark numbers as frames although they carry no packet (a systemd journal entry,
// custom blocks): counted, so that frame numbers stay those tshark shows.
const JOURNAL = 0x00000009
const CUSTOM_COPY = 0x00000bad
const CUSTOM_NOCOPY = 0x40000bad
const BYTE_ORDER_MAGIC = 0x1a2b3c4d
const OPT_END = 0
const IF_TSRESOL = 9
const IF_TSOFFSET = 14
const PROGRESS_EVERY = 65_536
/** Largest block we accept: a packet of MAX_RECORD plus headers and options room. */
const MAX_BLOCK = MAX_RECORD + 65_536

export interface Interface {
  linktype: number
  snaplen: number
  /** if_tsresol byte: bit 7 clear = 10^-n s, set = 2^-n s. 6 (µs) when absent. */
  tsresol: number
  /** if_tsoffset in µs. */
  offsetUs: number
}

function isPcapng(b: Uint8Array): boolean {
  if (b.length < 12 || u32(b, 0, false) !== SHB) return false
  const bom = u32(b, 8, true)
  return bom === BYTE_ORDER_MAGIC || u32(b, 8, false) === BYTE_ORDER_MAGIC
}

/**
 * Walks the blocks of a pcapng file and hands each packet to `sink`, stopping (with a problem) at
 * the first block whose length cannot be right. Returns the number of frames read.
 */
export function readPcapngRecords(
  b: Uint8Array,
  sink: FrameSink,
  onProgress?: (done: number, total: number) => void,
): number {
  let le = true
  let interfaces: Interface[] = []
  let pos = 0
  let frame = 0
  let untimed = 0
  while (b.length - pos >= 12) {
    let type = u32(b, pos, le)
    if (u32(b, pos, false) === SHB) {
      type = SHB
      le = u32(b, pos + 8, true) === BYTE_ORDER_MAGIC
    }
    const len = u32(b, pos + 4, le)
    const where = `block at byte ${pos}`
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK || pos + len > b.length) {
      const cut = pos + len > b.length && len >= 12 && len % 4 === 0 && len <= MAX_BLOCK
      sink.fileProblem(
        where,
        `pcapng block ${cut ? 'runs past the end of the file (truncated)' : `has an impossible length ${len}`}; stopped`,
      )
      break
    }
    if (u32(b, pos + len - 4, le) !== len) {
      sink.fileProblem(
        where,
        'pcapng block lengths at its start and end differ: the file is corrupt; stopped',
      )
      break
    }
    if (type === SHB) interfaces = []
    else if (type === IDB) {
      if (len >= 20) interfaces.push(readInterface(b, pos, len, le))
    } else if (type === EPB || type === OPB) {
      frame++
      const ifid = type === OPB ? u16(b, pos + 8, le) : u32(b, pos + 8, le)
      const incl = len >= 32 ? u32(b, pos + 20, le) : 0
      const orig = len >= 32 ? u32(b, pos + 24, le) : 0
      const iface = interfaces[ifid]
      if (len < 32 || 28 + incl > len - 4)
        sink.problem(frame, `${where}: captured length ${incl} does not fit the block; skipped`)
      else if (!iface)
        sink.problem(frame, `${where}: interface ${ifid} was never described; skipped`)
      else {
        const time = toMicros(u32(b, pos + 12, le), u32(b, pos + 16, le), iface)
        sink.packet(
          iface.linktype,
          b,
          pos + 28,
          pos + 28 + incl,
          Math.max(orig, incl),
          time,
          frame,
          pos,
        )
      }
    } else if (type === SPB) {
      frame++
      const iface = interfaces[0]
      if (!iface || len < 16)
        sink.problem(frame, `${where}: simple packet block before any interface; skipped`)
      else {
        const orig = u32(b, pos + 8, le)
        let incl = Math.min(orig, len - 16)
        if (iface.snaplen > 0) incl = Math.min(incl, iface.snaplen)
        untimed++
        sink.packet(
          iface.linktype,
          b,
          pos + 12,
          pos + 12 + incl,
          Math.max(orig, incl),
          NaN,
          frame,
          pos,
        )
      }
    } else if (type === JOURNAL || type === CUSTOM_COPY || type === CUSTOM_NOCOPY) frame++
    pos += len
    if ((frame & (PROGRESS_EVERY - 1)) === 0) onProgress?.(pos, b.length)
  }
  if (pos < b.length && b.length - pos < 12)
    sink.fileProblem(
      `byte ${pos}`,
      `${b.length - pos} trailing bytes, too few for a block: the file is truncated`,
    )
  if (untimed > 0)
    sink.fileProblem(
      'capture',
      `${untimed} simple packet block(s) carry no timestamp: their events have no time`,
    )
  return frame
}

export const pcapngImporter: Importer = {
  id: 'pcapng',
  title: 'pcapng capture (Wireshark, dumpcap, tcpdump --pcapng)',
  binary: true,
  sniff: (head: Uint8Array) => isPcapng(head),
  parse(input: ImportInput, ctx: ImportContext): ImportResult {
    return decodeCapture(input, ctx, (decoder) =>
      readPcapngRecords(input.bytes, decoder, ctx.onProgress),
    )
  },
}

function readInterface(b: Uint8Array, pos: number, len: number, le: boolean): Interface {
  const iface: Interface = {
    linktype: u16(b, pos + 8, le),
    snaplen: u32(b, pos + 12, le),
    tsresol: 6,
    offsetUs: 0,
  }
  const end = pos + len - 4
  for (let o = pos + 16; o + 4 <= end;) {
    const code = u16(b, o, le)
    const olen = u16(b, o + 2, le)
    if (code === OPT_END || o + 4 + olen > end) break
    if (code === IF_TSRESOL && olen >= 1) iface.tsresol = b[o + 4]
    if (code === IF_TSOFFSET && olen >= 8) iface.offsetUs = i64(b, o + 4, le) * 1_000_000
    o += 4 + ((olen + 3) & ~3)
  }
  return iface
}

/**
 * A 64-bit timestamp (hi, lo) in the interface's resolution, as integer µs since the epoch.
 * µs and ns (the usual resolutions) use exact Number arithmetic; any other goes through BigInt.
 */
export function toMicros(hi: number, lo: number, iface: Interface): number {
  const r = iface.tsresol
  let us: number
  if (r === 6) us = hi * 4294967296 + lo
  else if (r === 9) {
    // floor((hi * 2^32 + lo) / 1000) without going through a float above 2^53.
    const q = Math.floor(hi / 1000)
    us = q * 4294967296 + Math.floor(((hi - q * 1000) * 4294967296 + lo) / 1000)
  } else {
    const units = (BigInt(hi) << 32n) | BigInt(lo)
    const n = BigInt(r & 0x7f)
    if ((r & 0x80) !== 0) us = Number((units * 1_000_000n) >> n)
    else if (n <= 6n) us = Number(units * 10n ** (6n - n))
    else us = Number(units / 10n ** (n - 6n))
  }
  return us + iface.offsetUs
}
