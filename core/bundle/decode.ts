// Transparent decoding of compressed inputs (gzip, RFC 1952) before detection, with a size cap
// so a gzip bomb cannot exhaust memory.
import { Gunzip } from 'fflate'

export const GZIP_MAGIC_0 = 0x1f
export const GZIP_MAGIC_1 = 0x8b

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1
}

/**
 * Inflates a gzip member, refusing to produce more than `maxBytes`. Returns what was inflated
 * and, when the stream was cut short or corrupt, the reason.
 */
export function gunzipBounded(
  bytes: Uint8Array,
  maxBytes: number,
): { bytes: Uint8Array; error?: string } {
  const chunks: Uint8Array[] = []
  let total = 0
  let over = false
  const inflater = new Gunzip((chunk) => {
    if (over) return
    if (total + chunk.length > maxBytes) {
      over = true
      return
    }
    chunks.push(chunk)
    total += chunk.length
  })
  let error: string | undefined
  const STEP = 64 * 1024
  try {
    for (let i = 0; i < bytes.length && !over; i += STEP) {
      const end = Math.min(bytes.length, i + STEP)
      inflater.push(bytes.subarray(i, end), end === bytes.length)
    }
  } catch (e) {
    error = `gzip stream is corrupt or truncated (${(e as Error).message}); kept the ${total} bytes before it`
  }
  if (over) error = `gzip content exceeds the ${maxBytes}-byte limit; kept the first ${total} bytes`
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return error ? { bytes: out, error } : { bytes: out }
}
