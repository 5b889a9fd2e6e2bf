// Server-side analysis of an uploaded bundle, only within the measured budget (README.md, "The server",
// "Server-side analysis budget"). Outside it the bundle is stored and the client sends the report.
import { unzipSync } from 'fflate'
import { analyzeBundle } from '../core/analyze.js'
import { openZip, type ZipLimits } from '../core/bundle/zip.js'
import type { Report } from '../core/model/report.js'
import type { Limits } from './env.js'
import pkg from '../package.json'

/** Stricter than the core's defaults: a worker isolate has 128 MB for everything. */
export function workerZipLimits(limits: Limits): ZipLimits {
  return {
    maxEntries: 1000,
    maxEntryBytes: limits.analyzeMaxInflatedBytes,
    maxTotalBytes: limits.analyzeMaxInflatedBytes,
    maxRatio: 100,
  }
}

export type ServerAnalysis = { report: string } | { report: null; reason: string }

/**
 * Analyzes a zip when it fits the budget and returns the report JSON; otherwise says why not.
 * The report carries the detail (transactions, lookups) the web app's tables show, unless that
 * would pass the report size limit.
 * @example
 *   const result = analyzeUpload(zipBytes, limits)
 *   if (result.report) save(result.report)
 */
export function analyzeUpload(zip: Uint8Array, limits: Limits): ServerAnalysis {
  if (limits.analyzeMaxBytes === 0) return { report: null, reason: 'server-side analysis is off' }
  if (zip.length > limits.analyzeMaxBytes) {
    return {
      report: null,
      reason: `bundle is over the ${limits.analyzeMaxBytes}-byte server analysis budget`,
    }
  }
  const zipLimits = workerZipLimits(limits)
  const declared = declaredInflatedSize(zip, zipLimits.maxEntries)
  if (declared !== null && declared > limits.analyzeMaxInflatedBytes) {
    return {
      report: null,
      reason: `bundle inflates to ${declared} bytes, over the ${limits.analyzeMaxInflatedBytes}-byte server analysis budget`,
    }
  }
  // The declared sizes may lie (a zip bomb): openZip enforces the same limits while inflating and
  // names what it stopped in the report's inputs.
  const bundle = openZip(zip, zipLimits)
  const report = analyzeBundle(bundle, {
    version: pkg.version,
    detail: true,
    maxDecodedBytes: limits.analyzeMaxInflatedBytes,
  })
  return { report: reportJson(report, limits.maxReportBytes) }
}

/** The report as JSON, without its detail lists when they would make it larger than `maxBytes`. */
export function reportJson(report: Report, maxBytes: number): string {
  const full = JSON.stringify(report)
  if (full.length <= maxBytes / 3 || new TextEncoder().encode(full).length <= maxBytes) return full
  return JSON.stringify({ ...report, transactions: undefined, lookups: undefined })
}

/**
 * Sum of the uncompressed sizes the central directory declares, read without inflating anything;
 * null when there is no readable central directory (openZip then reads the local headers).
 * Stops counting after `maxEntries` entries (openZip reads no more than that either), so a forged
 * entry count cannot make this loop for long.
 */
export function declaredInflatedSize(zip: Uint8Array, maxEntries: number): number | null {
  let total = 0
  let entries = 0
  const tooMany = new Error('too many entries')
  try {
    unzipSync(zip, {
      filter(file) {
        if (++entries > maxEntries) throw tooMany
        total += file.originalSize
        return false
      },
    })
  } catch (e) {
    return e === tooMany ? total : null
  }
  return total
}
