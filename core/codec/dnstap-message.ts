// A small, allocation-free reader for the dnstap protobuf (core/codec/dnstap.proto: Dnstap and the
// Message inside it), using the protobuf wire format (protobuf.dev "Encoding": varint, 64-bit,
// length-delimited, 32-bit). It exists for speed: the importer decodes a million messages per
// file, and protobufjs's generated decoder (core/codec/dnstap-pb.js, kept as the test oracle)
// allocates two objects, a Long and several subarrays per message. Byte fields are returned as
// [start, end) offsets into the caller's buffer; nothing is copied.

/** Thrown for a frame that is not a well-formed Dnstap protobuf; says what and where. */
export class DnstapDecodeError extends Error {}

/** Dnstap.Message.Type values (dnstap.proto `Message.Type`). */
export const MESSAGE_TYPE_NAMES = [
  '',
  'AUTH_QUERY',
  'AUTH_RESPONSE',
  'RESOLVER_QUERY',
  'RESOLVER_RESPONSE',
  'CLIENT_QUERY',
  'CLIENT_RESPONSE',
  'FORWARDER_QUERY',
  'FORWARDER_RESPONSE',
  'STUB_QUERY',
  'STUB_RESPONSE',
  'TOOL_QUERY',
  'TOOL_RESPONSE',
  'UPDATE_QUERY',
  'UPDATE_RESPONSE',
] as const

/** Decoded fields of one Dnstap frame; offsets are -1 when the field is absent. Reuse in loops. */
export interface DnstapFields {
  /** Dnstap.type (1 = MESSAGE), 0 when absent. */
  dnstapType: number
  identityStart: number
  identityEnd: number
  versionStart: number
  versionEnd: number
  /** Set when the frame carries a Message (field 14). */
  hasMessage: boolean
  /** Message.type, 0 when absent. */
  type: number
  socketFamily: number
  socketProtocol: number
  httpProtocol: number
  queryAddressStart: number
  queryAddressEnd: number
  responseAddressStart: number
  responseAddressEnd: number
  /** -1 when absent. */
  queryPort: number
  responsePort: number
  /** Seconds since the epoch, -1 when absent. */
  queryTimeSec: number
  queryTimeNsec: number
  responseTimeSec: number
  responseTimeNsec: number
  queryMessageStart: number
  queryMessageEnd: number
  responseMessageStart: number
  responseMessageEnd: number
  queryZoneStart: number
  queryZoneEnd: number
}

export function newDnstapFields(): DnstapFields {
  return {
    dnstapType: 0,
    identityStart: -1,
    identityEnd: -1,
    versionStart: -1,
    versionEnd: -1,
    hasMessage: false,
    type: 0,
    socketFamily: 0,
    socketProtocol: 0,
    httpProtocol: 0,
    queryAddressStart: -1,
    queryAddressEnd: -1,
    responseAddressStart: -1,
    responseAddressEnd: -1,
    queryPort: -1,
    responsePort: -1,
    queryTimeSec: -1,
    queryTimeNsec: -1,
    responseTimeSec: -1,
    responseTimeNsec: -1,
    queryMessageStart: -1,
    queryMessageEnd: -1,
    responseMessageStart: -1,
    responseMessageEnd: -1,
    queryZoneStart: -1,
    queryZoneEnd: -1,
  }
}

// Wire types (protobuf encoding: VARINT 0, I64 1, LEN 2, SGROUP 3, EGROUP 4, I32 5).
const VARINT = 0
const I64 = 1
const LEN = 2
const I32 = 5

// The read position shared by the helpers below; the decoders are not re-entrant (JS is not
// preempted, and nothing here calls back out).
let pos = 0

function varint(b: Uint8Array, end: number): number {
  let result = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new DnstapDecodeError(`varint runs past the end at byte ${pos}`)
    const byte = b[pos++]
    // Up to 2^53 exactly; a uint64 above that (no real time or port) loses precision, not safety.
    result += (byte & 0x7f) * scale
    if (byte < 0x80) return result
    scale *= 128
  }
  throw new DnstapDecodeError(`varint longer than 10 bytes at byte ${pos}`)
}

/** A varint read as protobuf uint32: its low 32 bits. */
function uint32(b: Uint8Array, end: number): number {
  const v = varint(b, end)
  return v < 4294967296 ? v : v % 4294967296
}

/** A varint read as protobuf int32 (enums): its low 32 bits, signed. */
function int32(b: Uint8Array, end: number): number {
  return uint32(b, end) | 0
}

function fixed32(b: Uint8Array, end: number): number {
  if (pos + 4 > end) throw new DnstapDecodeError(`fixed32 runs past the end at byte ${pos}`)
  const v = (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16) | (b[pos + 3] << 24)) >>> 0
  pos += 4
  return v
}

/** Reads a length prefix and returns the end of the delimited bytes (they start at `pos`). */
function delimited(b: Uint8Array, end: number): number {
  const len = varint(b, end)
  const stop = pos + len
  if (stop > end)
    throw new DnstapDecodeError(
      `length-delimited field of ${len} bytes runs past the end at byte ${pos}`,
    )
  return stop
}

function skip(b: Uint8Array, end: number, wire: number, field: number): void {
  switch (wire) {
    case VARINT:
      varint(b, end)
      return
    case I64:
      if (pos + 8 > end) throw new DnstapDecodeError(`fixed64 runs past the end at byte ${pos}`)
      pos += 8
      return
    case LEN:
      pos = delimited(b, end)
      return
    case I32:
      if (pos + 4 > end) throw new DnstapDecodeError(`fixed32 runs past the end at byte ${pos}`)
      pos += 4
      return
    default:
      throw new DnstapDecodeError(`field ${field} has unsupported wire type ${wire}`)
  }
}

/**
 * Decodes the Dnstap protobuf in `b[start, end)` into `out` (reset first). Throws
 * DnstapDecodeError when the bytes are not a Dnstap message: bad wire format, the required
 * Dnstap.type or Message.type missing, or a Message.type outside 1..14.
 * Like protobuf decoders, a known field with an unexpected wire type is skipped, and the last
 * occurrence of a repeated scalar wins.
 */
export function decodeDnstap(b: Uint8Array, start: number, end: number, out: DnstapFields): void {
  out.dnstapType = 0
  out.identityStart = out.identityEnd = out.versionStart = out.versionEnd = -1
  out.hasMessage = false
  out.type = out.socketFamily = out.socketProtocol = out.httpProtocol = 0
  out.queryAddressStart =
    out.queryAddressEnd =
    out.responseAddressStart =
    out.responseAddressEnd =
      -1
  out.queryPort = out.responsePort = -1
  out.queryTimeSec = out.queryTimeNsec = out.responseTimeSec = out.responseTimeNsec = -1
  out.queryMessageStart =
    out.queryMessageEnd =
    out.responseMessageStart =
    out.responseMessageEnd =
      -1
  out.queryZoneStart = out.queryZoneEnd = -1
  pos = start
  while (pos < end) {
    const tag = varint(b, end)
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    if (field === 0) throw new DnstapDecodeError(`field number 0 at byte ${pos}`)
    if (wire === LEN && (field === 1 || field === 2 || field === 14)) {
      const stop = delimited(b, end)
      if (field === 1) {
        out.identityStart = pos
        out.identityEnd = stop
      } else if (field === 2) {
        out.versionStart = pos
        out.versionEnd = stop
      } else {
        decodeMessage(b, pos, stop, out)
        out.hasMessage = true
      }
      pos = stop
    } else if (wire === VARINT && field === 15) {
      out.dnstapType = varint(b, end)
    } else skip(b, end, wire, field)
  }
  if (out.dnstapType !== 1)
    throw new DnstapDecodeError(
      out.dnstapType === 0
        ? "missing required Dnstap 'type'"
        : `unknown Dnstap type ${out.dnstapType}`,
    )
}

function decodeMessage(b: Uint8Array, start: number, end: number, out: DnstapFields): void {
  pos = start
  let v = 0
  let unknownType = 0
  while (pos < end) {
    const tag = varint(b, end)
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    if (wire === VARINT) {
      switch (field) {
        case 1:
          // proto2 enums are closed: an unknown value is kept aside, not assigned (as protobufjs).
          v = int32(b, end)
          if (v >= 1 && v < MESSAGE_TYPE_NAMES.length) out.type = v
          else unknownType = v
          continue
        case 2:
          v = int32(b, end)
          if (v === 1 || v === 2) out.socketFamily = v
          continue
        case 3:
          v = int32(b, end)
          if (v >= 1 && v <= 7) out.socketProtocol = v
          continue
        case 6:
          out.queryPort = uint32(b, end)
          continue
        case 7:
          out.responsePort = uint32(b, end)
          continue
        case 8:
          out.queryTimeSec = varint(b, end)
          continue
        case 12:
          out.responseTimeSec = varint(b, end)
          continue
        case 16:
          v = int32(b, end)
          if (v >= 1 && v <= 3) out.httpProtocol = v
          continue
      }
    } else if (wire === LEN) {
      switch (field) {
        case 4:
          out.queryAddressEnd = delimited(b, end)
          out.queryAddressStart = pos
          pos = out.queryAddressEnd
          continue
        case 5:
          out.responseAddressEnd = delimited(b, end)
          out.responseAddressStart = pos
          pos = out.responseAddressEnd
          continue
        case 10:
          out.queryMessageEnd = delimited(b, end)
          out.queryMessageStart = pos
          pos = out.queryMessageEnd
          continue
        case 11:
          out.queryZoneEnd = delimited(b, end)
          out.queryZoneStart = pos
          pos = out.queryZoneEnd
          continue
        case 14:
          out.responseMessageEnd = delimited(b, end)
          out.responseMessageStart = pos
          pos = out.responseMessageEnd
          continue
      }
    } else if (wire === I32) {
      if (field === 9) {
        out.queryTimeNsec = fixed32(b, end)
        continue
      }
      if (field === 13) {
        out.responseTimeNsec = fixed32(b, end)
        continue
      }
    }
    if (field === 0) throw new DnstapDecodeError(`field number 0 at byte ${pos}`)
    skip(b, end, wire, field)
  }
  if (out.type === 0)
    throw new DnstapDecodeError(
      unknownType === 0 ? "missing required Message 'type'" : `unknown Message type ${unknownType}`,
    )
}
