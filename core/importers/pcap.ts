// Classic libpcap files (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html §4-5):
// microsecond (A1B2C3D4) and nanosecond (A1B23C4D) magic in either byte order, and Alexey
// Kuznetzov's patched format (A1B2CD34, 24-byte record headers). Frames go to the capture decoder.
import type { Importer, ImportInput, ImportContext, ImportResult } from './importer.js'
import { u16, u32 } from '../codec/byte-reader.js'
import { decodeCapture, type FrameSink } from './capture/packet-decoder.js'

const MAGIC_US = 0xa1b2c3d4
const MAGIC_NS = 0xa1b23c4d
const MAGIC_KUZNETZOV = 0xa1b2cd34
const FILE_HEADER = 24
/** Wireshark's (wiretap's) largest accepted record: anything bigger means a corrupt file. */
export const MAX_RECORD = 262_144
const PROGRESS_EVERY = 65_536

interface PcapHeader {
  littleEndian: boolean
  nanoseconds: boolean
  recordHeader: number
  linktype: number
  major: number
}

function readHeader(b: Uint8Array): PcapHeader | null {
  if (b.length < 4) return null
  for (const littleEndian of [false, true]) {
    const magic = u32(b, 0, littleEndian)
    if (magic === MAGIC_US || magic === MAGIC_NS || magic === MAGIC_KUZNETZOV) {
      return {
        littleEndian,
        nanoseconds: magic === MAGIC_NS,
        recordHeader: magic === MAGIC_KUZNETZOV ? 24 : 16,
        major: b.length >= 6 ? u16(b, 4, littleEndian) : 0,
        // The top bits carry the FCS length (draft §4, LinkType and additional information);
        // the snaplen (bytes 16-19) is not trusted: each record says how long it is.
        linktype: b.length >= 24 ? u32(b, 20, littleEndian) & 0xffff : -1,
      }
    }
  }
  return null
}

/**
 * Walks the records of a classic pcap and hands each frame to `sink`, stopping (with a problem)
 * at the first record that cannot be right. Returns the number of frames read.
 */
export function readPcapRecords(
  b: Uint8Array,
  sink: FrameSink,
  onProgress?: (done: number, total: number) => void,
): number {
  const h = readHeader(b)
  if (!h || b.length < FILE_HEADER) {
    sink.fileProblem('file header', `pcap file header cut off (${b.length} of 24 bytes)`)
    return 0
  }
  if (h.major !== 2)
    sink.fileProblem('file header', `pcap version ${h.major} (expected 2); read as version 2`)
  const le = h.littleEndian
  const rh = h.recordHeader
  let pos = FILE_HEADER
  let frame = 0
  while (b.length - pos >= rh) {
    const sec = u32(b, pos, le)
    const frac = u32(b, pos + 4, le)
    const incl = u32(b, pos + 8, le)
    const orig = u32(b, pos + 12, le)
    if (incl > MAX_RECORD) {
      sink.problem(
        frame + 1,
        `record at byte ${pos} claims ${incl} captured bytes (more than ${MAX_RECORD}): the file is corrupt from here; stopped`,
      )
      return frame
    }
    if (pos + rh + incl > b.length) {
      sink.problem(
        frame + 1,
        `record at byte ${pos} is cut off (${b.length - pos - rh} of ${incl} bytes): the file is truncated`,
      )
      return frame
    }
    frame++
    const time = sec * 1_000_000 + (h.nanoseconds ? Math.floor(frac / 1000) : frac)
    sink.packet(h.linktype, b, pos + rh, pos + rh + incl, Math.max(orig, incl), time, frame, pos)
    pos += rh + incl
    if ((frame & (PROGRESS_EVERY - 1)) === 0) onProgress?.(pos, b.length)
  }
  if (pos < b.length)
    sink.fileProblem(
      `byte ${pos}`,
      `${b.length - pos} trailing bytes, too few for a record header: the file is truncated`,
    )
  return frame
}

export const pcapImporter: Importer = {
  id: 'pcap',
  title: 'pcap capture (libpcap, tcpdump -w)',
  binary: true,
  sniff(head: Uint8Array): boolean {
    return readHeader(head) !== null
  },
  parse(input: ImportInput, ctx: ImportContext): ImportResult {
    return decodeCapture(input, ctx, (decoder) =>
      readPcapRecords(input.bytes, decoder, ctx.onProgress),
    )
  },
}
