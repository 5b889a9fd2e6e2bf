// Direct integer reads from a Uint8Array, for the hot loops of the binary decoders. Plain
// functions over (bytes, offset) that V8 inlines; callers check bounds once per structure.

/** Big-endian (network order) unsigned 16-bit integer at `at`. */
export function u16be(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1]
}

/** Big-endian (network order) unsigned 32-bit integer at `at`. */
export function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}

/** Little-endian unsigned 16-bit integer at `at`. */
export function u16le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8)
}

/** Little-endian unsigned 32-bit integer at `at`. */
export function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
}

/** Unsigned 16-bit integer in the given byte order. */
export function u16(b: Uint8Array, at: number, littleEndian: boolean): number {
  return littleEndian ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1]
}

/** Unsigned 32-bit integer in the given byte order. */
export function u32(b: Uint8Array, at: number, littleEndian: boolean): number {
  return littleEndian
    ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
    : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}

/** Two's-complement signed 64-bit integer as a Number (exact up to 2^53). */
export function i64(b: Uint8Array, at: number, littleEndian: boolean): number {
  const hi = littleEndian ? u32(b, at + 4, true) : u32(b, at, false)
  const lo = littleEndian ? u32(b, at, true) : u32(b, at + 4, false)
  return (hi | 0) * 4294967296 + lo
}
