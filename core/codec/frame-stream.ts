// Frame Streams (fstrm) file container, as written by fstrm_capture, BIND, unbound and CoreDNS
// taps: reference farsightsec/fstrm `fstrm/control.h` and the "Frame Streams" protocol notes at
// 1d6e11d750df. All integers are 32-bit big-endian. A file is
//   escape(0) len type=START [field CONTENT_TYPE len bytes]...   (a control frame)
//   len payload                                                  (a data frame; len > 0), ...
//   escape(0) len type=STOP                                      (a control frame)
// Frames are visited in place (subarray offsets, no copies); the reader stops at the first byte
// it cannot frame and keeps everything before it.
import type { Problem } from '../importers/importer.js'

/** Control frame types (fstrm control.h `enum fstrm_control_type`). */
export const FSTRM_CONTROL = {
  ACCEPT: 0x01,
  START: 0x02,
  STOP: 0x03,
  READY: 0x04,
  FINISH: 0x05,
} as const
/** Control field types (fstrm control.h `enum fstrm_control_field`). */
export const FSTRM_FIELD_CONTENT_TYPE = 0x01
/** fstrm refuses control frames longer than this (FSTRM_CONTROL_FRAME_LENGTH_MAX). */
export const FSTRM_CONTROL_FRAME_LENGTH_MAX = 512

const CONTROL_NAMES = ['?', 'ACCEPT', 'START', 'STOP', 'READY', 'FINISH']

function controlName(type: number): string {
  return CONTROL_NAMES[type] ?? `type 0x${type.toString(16)}`
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}

/** True when `head` begins with an escape and a START control frame (any content type). */
export function looksLikeFrameStream(head: Uint8Array): boolean {
  if (head.length < 12 || u32(head, 0) !== 0) return false
  const len = u32(head, 4)
  return len >= 4 && len <= FSTRM_CONTROL_FRAME_LENGTH_MAX && u32(head, 8) === FSTRM_CONTROL.START
}

/**
 * Reads a Frame Streams file one data frame at a time, without copying.
 * @example
 *   const r = new FrameStreamReader(bytes)
 *   if (r.open()) while (r.next()) use(bytes.subarray(r.dataStart, r.dataEnd))
 *   report(r.problems)
 */
export class FrameStreamReader {
  /** Content types named by START frames (one per START; '' when a START names none). */
  readonly contentTypes: string[] = []
  /** Byte offset of each START frame (a file may be several streams concatenated). */
  readonly startOffsets: number[] = []
  readonly problems: Problem[] = []
  /** 1-based number of the current data frame. */
  frame = 0
  /** Byte offset of the current data frame (its length field). */
  frameOffset = 0
  /** The current frame's payload is bytes[dataStart, dataEnd). */
  dataStart = 0
  dataEnd = 0
  /** A STOP control frame ended the (last) stream. */
  stopped = false
  /** Where reading stopped: the end of the file, or the first byte that could not be framed. */
  pos = 0
  private readonly bytes: Uint8Array
  private done = false

  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }

  /** Reads the START frame. False (with a problem) when the file is not a Frame Streams file. */
  open(): boolean {
    const b = this.bytes
    if (!looksLikeFrameStream(b)) {
      this.done = true
      this.problems.push({
        where: 'byte 0',
        message:
          b.length >= 4 && u32(b, 0) === 0
            ? 'not a Frame Streams file: the first control frame is not a START frame'
            : 'not a Frame Streams file: no escape and START control frame at byte 0 ' +
              '(a bare protobuf message or another format is not read as dnstap)',
      })
      return false
    }
    return this.readControl(0)
  }

  /** Advances to the next data frame; false at the end or at the first unreadable byte. */
  next(): boolean {
    const b = this.bytes
    const n = b.length
    while (!this.done) {
      const at = this.pos
      if (at === n) {
        if (!this.stopped)
          this.problems.push({
            where: `byte ${at}`,
            message: 'the file ends without a STOP control frame (the writer did not close it)',
          })
        this.done = true
        return false
      }
      if (this.stopped) {
        // Data after STOP: another stream appended (cat a.fstrm b.fstrm), or garbage.
        if (looksLikeFrameStream(b.subarray(at, at + 12))) {
          this.stopped = false
          if (!this.readControl(at)) return false
          continue
        }
        return this.fail(at, `${n - at} bytes of unframed data after the STOP control frame`)
      }
      if (at + 4 > n)
        return this.fail(at, `frame length cut off (${n - at} of 4 bytes; file truncated)`)
      const len = u32(b, at)
      if (len === 0) {
        if (!this.readControl(at)) return false
        continue
      }
      if (at + 4 + len > n)
        return this.fail(
          at,
          `data frame ${this.frame + 1} needs ${len} bytes, only ${n - at - 4} remain (file truncated)`,
        )
      this.frame++
      this.frameOffset = at
      this.dataStart = at + 4
      this.dataEnd = at + 4 + len
      this.pos = this.dataEnd
      return true
    }
    return false
  }

  private fail(at: number, message: string): false {
    this.problems.push({ where: `byte ${at}`, message })
    this.pos = at
    this.done = true
    return false
  }

  /** Reads the control frame at `at` (escape included); START, STOP or a skipped other type. */
  private readControl(at: number): boolean {
    const b = this.bytes
    if (at + 12 > b.length) return this.fail(at, 'control frame cut off (file truncated)')
    const len = u32(b, at + 4)
    if (len < 4 || len > FSTRM_CONTROL_FRAME_LENGTH_MAX)
      return this.fail(
        at,
        `control frame length ${len} is outside 4..${FSTRM_CONTROL_FRAME_LENGTH_MAX}`,
      )
    const end = at + 8 + len
    if (end > b.length) return this.fail(at, 'control frame cut off (file truncated)')
    const type = u32(b, at + 8)
    this.pos = end
    if (type === FSTRM_CONTROL.START) {
      let contentType = ''
      for (let p = at + 12; p < end;) {
        if (p + 8 > end) return this.fail(p, 'START control field header cut off')
        const field = u32(b, p)
        const flen = u32(b, p + 4)
        if (p + 8 + flen > end) return this.fail(p, 'START control field runs past its frame')
        if (field === FSTRM_FIELD_CONTENT_TYPE && !contentType) {
          contentType = String.fromCharCode.apply(
            null,
            b.subarray(p + 8, p + 8 + flen) as unknown as number[],
          )
        }
        p += 8 + flen
      }
      this.contentTypes.push(contentType)
      this.startOffsets.push(at)
      return true
    }
    if (type === FSTRM_CONTROL.STOP) {
      this.stopped = true
      return true
    }
    // ACCEPT, READY and FINISH belong to the bidirectional socket handshake, not to files.
    this.problems.push({
      where: `byte ${at}`,
      message: `unexpected ${controlName(type)} control frame in a file (skipped)`,
    })
    return true
  }
}

/**
 * How many data frames follow `from`, walking frame lengths only (control frames skipped; it
 * stops at the first length that runs past the end). For sizing what the frames will fill.
 */
export function countDataFrames(b: Uint8Array, from: number): number {
  let count = 0
  for (let at = from; at + 4 <= b.length;) {
    const len = u32(b, at)
    if (len === 0) {
      if (at + 8 > b.length) break
      at += 8 + u32(b, at + 4)
      continue
    }
    if (at + 4 + len > b.length) break
    count++
    at += 4 + len
  }
  return count
}
