// Request bodies under limits: content types checked, Content-Length checked before any byte is
// read, and bodies without one read with a running cap.
import { ApiError } from './errors.js'

/**
 * Throws 415 unless the request's media type (parameters ignored) is one of `allowed`.
 * @example
 *   requireMediaType(c.req.raw, ['application/json'])
 */
export function requireMediaType(req: Request, allowed: readonly string[]): void {
  const type = (req.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase()
  if (!allowed.includes(type)) {
    throw new ApiError(
      415,
      'unsupported-media-type',
      `Content-Type must be ${allowed.join(' or ')}, not ${type ? JSON.stringify(type) : 'missing'}`,
    )
  }
}

/**
 * The declared Content-Length, or null for a body sent without one (chunked). Throws 413 when it
 * is over `cap`, so an oversized upload is refused before its body is read.
 */
export function declaredLength(req: Request, cap: number, what: string): number | null {
  const header = req.headers.get('content-length')
  if (header === null) return null
  if (!/^\d{1,16}$/.test(header.trim())) {
    throw new ApiError(
      400,
      'bad-content-length',
      `Content-Length ${JSON.stringify(header)} is not a number`,
    )
  }
  const length = Number(header)
  if (length > cap) throw tooLarge(what, cap, length)
  return length
}

/** The 413 answer: says the limit, so the client knows what would fit. */
export function tooLarge(what: string, cap: number, length?: number): ApiError {
  const got = length === undefined ? 'more than that' : `${length} bytes`
  return new ApiError(413, 'too-large', `${what} is limited to ${cap} bytes; got ${got}`, {
    limit: cap,
  })
}

/**
 * Reads a whole body, refusing (413) as soon as it passes `cap` bytes; the rest is never read.
 * @example
 *   const bytes = await readCapped(c.req.raw.body, limits.maxReportBytes, 'a report')
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  cap: number,
  what: string,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.length
    if (total > cap) {
      await reader.cancel().catch(() => {})
      throw tooLarge(what, cap)
    }
    chunks.push(value)
  }
  return concat(chunks, total)
}

export function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}
