// Reads a bundle .zip (PKWARE APPNOTE 6.3.x) with hard limits, so a zip bomb is contained:
// entry count, bytes per entry, total bytes, and the overall expansion ratio are all bounded
// while inflating, whatever the headers claim. Entry names are display strings, never paths.
import {
  Unzip,
  UnzipInflate,
  UnzipPassThrough,
  type AsyncFlateStreamHandler,
  type FlateError,
  type UnzipFile,
} from 'fflate'
import type { Bundle, BundleFile, Manifest } from '../model/bundle.js'
import { parseManifest } from './manifest.js'

export interface ZipLimits {
  maxEntries: number
  maxEntryBytes: number
  maxTotalBytes: number
  /** Largest allowed ratio of inflated bytes to the zip's size. */
  maxRatio: number
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 10_000,
  maxEntryBytes: 2 * 1024 ** 3,
  maxTotalBytes: 4 * 1024 ** 3,
  maxRatio: 200,
}

export const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]

export function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b)
}

/**
 * Inflates raw DEFLATE data: the bytes, or null when they would be more than `maxBytes`. Throws
 * on corrupt data. An edge with a native inflater (node:zlib in the CLI, 2-3× fflate's speed)
 * hands it to openZip; without one, fflate inflates.
 */
export type InflateRaw = (data: Uint8Array, maxBytes: number) => Uint8Array | null

/** An entry an InflateRaw found larger than the room left for it. */
class TooLarge extends Error {}

/**
 * Opens a zip bundle. Never throws for bad input: what cannot be read lands in `skipped`.
 * `inflateRaw`: a faster inflater than fflate's, held to the same limits.
 */
export function openZip(
  zip: Uint8Array,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  inflateRaw?: InflateRaw,
): Bundle {
  const files: BundleFile[] = []
  const skipped: Bundle['skipped'] = []
  let entries = 0
  let total = 0
  let stopped = ''
  const budget = Math.min(limits.maxTotalBytes, zip.length * limits.maxRatio)

  const unzip = new Unzip((entry: UnzipFile) => {
    const name = displayName(entry.name)
    if (stopped) return
    if (entry.name.endsWith('/')) return
    if (++entries > limits.maxEntries) {
      stopped = `more than ${limits.maxEntries} entries; the rest were not read`
      return
    }
    if (entry.compression !== 0 && entry.compression !== 8) {
      skipped.push({
        path: name,
        reason: `unsupported zip compression method ${entry.compression}`,
      })
      return
    }
    const chunks: Uint8Array[] = []
    let size = 0
    const entryTooLarge = () => {
      entry.terminate()
      skipped.push({
        path: name,
        reason: `inflates past the ${limits.maxEntryBytes}-byte entry limit`,
      })
    }
    const bundleTooLarge = () => {
      entry.terminate()
      stopped = `zip inflates past ${budget} bytes (ratio or total limit): possible zip bomb; the rest were not read`
      skipped.push({ path: name, reason: stopped })
    }
    entry.ondata = (err, chunk, final) => {
      if (err instanceof TooLarge) {
        // The inflater stopped at the room left: the smaller of the two limits was reached.
        if (limits.maxEntryBytes - size <= budget - total) entryTooLarge()
        else bundleTooLarge()
        return
      }
      if (err) {
        skipped.push({ path: name, reason: `corrupt zip entry: ${err.message}` })
        return
      }
      size += chunk.length
      total += chunk.length
      if (size > limits.maxEntryBytes) return entryTooLarge()
      if (total > budget) return bundleTooLarge()
      chunks.push(chunk)
      if (final) files.push({ path: name, bytes: concat(chunks, size) })
    }
    entry.start()
  })
  if (inflateRaw) {
    // The room an entry has: what is left of the entry limit and of the bundle's budget.
    const room = () => Math.min(limits.maxEntryBytes, budget - total)
    unzip.register(nativeDecoder(inflateRaw, room))
  } else unzip.register(UnzipInflate)
  unzip.register(UnzipPassThrough)
  try {
    const STEP = 256 * 1024
    for (let i = 0; i < zip.length && !stopped; i += STEP) {
      const end = Math.min(zip.length, i + STEP)
      unzip.push(zip.subarray(i, end), end === zip.length)
    }
  } catch (e) {
    skipped.push({ path: '(zip)', reason: `zip is corrupt or truncated: ${(e as Error).message}` })
  }
  if (stopped && !skipped.some((s) => s.reason === stopped))
    skipped.push({ path: '(zip)', reason: stopped })
  return withManifest(files, skipped)
}

/** Splits manifest.json out of a file list and parses it. */
export function withManifest(files: BundleFile[], skipped: Bundle['skipped'] = []): Bundle {
  const idx = files.findIndex(
    (f) => /(^|\/)manifest\.json$/.test(f.path) && f.path.split('/').length <= 2,
  )
  if (idx < 0) return { files, skipped }
  const [mf] = files.splice(idx, 1)
  const parsed = parseManifest(mf.bytes)
  if ('error' in parsed) {
    skipped.push({ path: mf.path, reason: parsed.error })
    return { files, skipped }
  }
  const manifest: Manifest = parsed.manifest
  // Entry paths in the manifest are relative to the manifest's folder.
  const prefix = mf.path.includes('/') ? mf.path.slice(0, mf.path.lastIndexOf('/') + 1) : ''
  if (prefix) manifest.files = manifest.files.map((f) => ({ ...f, path: prefix + f.path }))
  return { files, skipped, manifest }
}

/**
 * A decoder for fflate's Unzip (compression 8, deflate) that keeps an entry's compressed bytes and
 * inflates them with `inflateRaw` at the entry's end, to at most the room left.
 */
function nativeDecoder(inflateRaw: InflateRaw, room: () => number) {
  return class NativeInflate {
    static compression = 8
    ondata: AsyncFlateStreamHandler = () => {}
    private chunks: Uint8Array[] = []
    private size = 0
    private done = false

    push(chunk: Uint8Array, final: boolean): void {
      if (this.done) return
      // A copy: fflate may hand a view of a buffer it reuses.
      this.chunks.push(chunk.slice())
      this.size += chunk.length
      if (!final) return
      this.done = true
      let out: Uint8Array | null
      try {
        out = inflateRaw(concat(this.chunks, this.size), room())
      } catch (e) {
        const err = new Error((e as Error).message) as FlateError
        this.ondata(err, new Uint8Array(0), true)
        return
      }
      this.chunks = []
      if (out === null)
        this.ondata(new TooLarge('too large') as FlateError, new Uint8Array(0), true)
      else this.ondata(null, out as Uint8Array<ArrayBuffer>, true)
    }

    terminate(): void {
      this.done = true
      this.chunks = []
    }
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/** Entry names are attacker-controlled: keep them printable and short, never interpret them. */
export function displayName(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?')
  return clean.length > 300 ? clean.slice(0, 300) + '…' : clean
}
