// Receives a bundle upload into R2 without ever holding more than the analysis budget in memory.
//
// - Content-Length known and within the analysis budget: read into memory (for the analysis), then
//   put as bytes.
// - Content-Length known and larger: streamed straight into R2 through a FixedLengthStream, since
//   an R2 put of a stream needs a known length.
// - No Content-Length (chunked): read with a running cap; once past the analysis budget the bytes
//   go to an R2 multipart upload in equal parts, so memory stays bounded whatever is sent.
import { ApiError } from './errors.js'
import { concat, declaredLength, tooLarge } from './body.js'

/** R2 wants every multipart part but the last to have the same size, at least 5 MiB. */
export const PART_BYTES = 8 * 1024 * 1024

const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04]

export interface UploadTarget {
  bucket: R2Bucket
  key: string
  customMetadata: Record<string, string>
  /** Largest upload accepted. */
  maxBytes: number
  /** Uploads up to this size are also returned in memory. */
  keepBytes: number
}

export interface ReceivedUpload {
  size: number
  /** The bundle's bytes, when it was small enough to keep (≤ keepBytes). */
  bytes?: Uint8Array
}

/**
 * Stores the request body at `target.key`. Throws 413 (too large), 400 (empty, not a zip, shorter
 * than its Content-Length); nothing is left in R2 when it throws.
 * @example
 *   const { size, bytes } = await receiveUpload(c.req.raw, { bucket, key, customMetadata,
 *     maxBytes: limits.maxUploadBytes, keepBytes: limits.analyzeMaxBytes })
 */
export async function receiveUpload(req: Request, target: UploadTarget): Promise<ReceivedUpload> {
  const length = declaredLength(req, target.maxBytes, 'a bundle')
  if (length === 0 || !req.body)
    throw new ApiError(400, 'empty', 'the request has no body: send the zip')
  const options: R2PutOptions = {
    customMetadata: target.customMetadata,
    httpMetadata: { contentType: 'application/zip' },
  }
  if (length !== null && length > target.keepBytes) {
    return { size: await streamKnownLength(req.body, length, target.bucket, target.key, options) }
  }
  return readChunked(req.body, target, options)
}

async function streamKnownLength(
  body: ReadableStream<Uint8Array>,
  length: number,
  bucket: R2Bucket,
  key: string,
  options: R2PutOptions,
): Promise<number> {
  const guard = zipSignatureGuard()
  try {
    await bucket.put(
      key,
      body.pipeThrough(guard.stream).pipeThrough(new FixedLengthStream(length)),
      options,
    )
  } catch (e) {
    if (guard.rejected()) throw notAZip()
    console.warn('dnsbundle worker: streamed upload failed:', (e as Error).message)
    throw new ApiError(
      400,
      'incomplete',
      `the body ended before its Content-Length (${length} bytes)`,
    )
  }
  return length
}

async function readChunked(
  body: ReadableStream<Uint8Array>,
  target: UploadTarget,
  options: R2PutOptions,
): Promise<ReceivedUpload> {
  const reader = body.getReader()
  // Until the budget is passed: chunks as they came. After: one part-sized buffer at a time.
  const chunks: Uint8Array[] = []
  let total = 0
  let multipart: {
    upload: R2MultipartUpload
    parts: R2UploadedPart[]
    part: Uint8Array
    fill: number
  } | null = null
  const append = async (bytes: Uint8Array) => {
    const m = multipart!
    for (let at = 0; at < bytes.length;) {
      const n = Math.min(PART_BYTES - m.fill, bytes.length - at)
      m.part.set(bytes.subarray(at, at + n), m.fill)
      m.fill += n
      at += n
      if (m.fill === PART_BYTES) {
        m.parts.push(await m.upload.uploadPart(m.parts.length + 1, m.part))
        m.fill = 0
      }
    }
  }
  try {
    for (;;) {
      const { done, value } = await reader.read().catch(() => {
        throw new ApiError(400, 'incomplete', 'the upload was cut off before its end')
      })
      if (done) break
      total += value.length
      if (total > target.maxBytes) {
        await reader.cancel().catch(() => {})
        throw tooLarge('a bundle', target.maxBytes)
      }
      if (multipart) {
        await append(value)
        continue
      }
      chunks.push(value)
      if (total > target.keepBytes && total >= ZIP_LOCAL_HEADER.length) {
        const head = concat(chunks, total)
        chunks.length = 0
        if (!startsWithZipHeader(head)) throw notAZip()
        const upload = await target.bucket.createMultipartUpload(target.key, options)
        multipart = { upload, parts: [], part: new Uint8Array(PART_BYTES), fill: 0 }
        await append(head)
      }
    }
    if (total === 0) throw new ApiError(400, 'empty', 'the request has no body: send the zip')
    if (multipart) {
      const m = multipart
      if (m.fill > 0)
        m.parts.push(await m.upload.uploadPart(m.parts.length + 1, m.part.subarray(0, m.fill)))
      await m.upload.complete(m.parts)
      return { size: total }
    }
    const bytes = concat(chunks, total)
    if (!startsWithZipHeader(bytes)) throw notAZip()
    await target.bucket.put(target.key, bytes, options)
    return { size: total, bytes }
  } catch (e) {
    if (multipart) await multipart.upload.abort().catch(() => {})
    throw e
  }
}

function notAZip(): ApiError {
  return new ApiError(
    400,
    'not-a-zip',
    'the body is not a zip file (no PK\\3\\4 signature at byte 0)',
  )
}

function startsWithZipHeader(bytes: Uint8Array): boolean {
  return ZIP_LOCAL_HEADER.every((b, i) => bytes[i] === b)
}

/** A pass-through stream that errors unless the first four bytes are a zip local file header. */
function zipSignatureGuard(): {
  stream: TransformStream<Uint8Array, Uint8Array>
  rejected: () => boolean
} {
  const head: number[] = []
  let rejected = false
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let i = 0; i < chunk.length && head.length < ZIP_LOCAL_HEADER.length; i++) {
        head.push(chunk[i])
        if (head[head.length - 1] !== ZIP_LOCAL_HEADER[head.length - 1]) {
          rejected = true
          controller.error(notAZip())
          return
        }
      }
      controller.enqueue(chunk)
    },
  })
  return { stream, rejected: () => rejected }
}
