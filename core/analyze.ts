// analyzeBundle: the one entry point of the engine. Bytes in, Report out; no I/O, no clock.
import type { Bundle, ManifestFile, Vantage } from './model/bundle.js'
import type {
  Event,
  FactEvent,
  MetricEvent,
  DropEvent,
  LogEvent,
  HostLookupEvent,
} from './model/event.js'
import type { Report } from './model/report.js'
import { DnsTable } from './model/dns-table.js'
import type { ImportContext, ImportResult, Problem } from './importers/importer.js'
import { detectImporter, SNIFF_BYTES } from './importers/index.js'
import { isGzip, gunzipBounded } from './bundle/decode.js'
import { correlate } from './correlate/index.js'
import { runRules } from './rules/index.js'
import { buildReport, type AnalyzedInput } from './report/build-report.js'

export interface AnalyzeOptions {
  /** Ports that carry DNS; 53 by default. */
  dnsPorts?: number[]
  /** Fill `transactions` and `lookups` in the report. */
  detail?: boolean
  /** The generator version the edge reports. */
  version?: string
  /**
   * Let go of each file's bytes once it is imported (the bundle's `bytes` become empty), so a big
   * capture is not held in memory while its events are correlated. For edges that are done with
   * the bundle after the analysis.
   */
  consumeInputs?: boolean
  /** Largest decoded size of one compressed input. */
  maxDecodedBytes?: number
  onProgress?: (p: AnalyzeProgress) => void
}

export interface AnalyzeProgress {
  phase: 'import' | 'correlate' | 'rules' | 'report'
  /** Input being imported, when phase is import. */
  path?: string
  done: number
  total: number
}

export const DEFAULT_MAX_DECODED = 2 * 1024 ** 3

/** Everything the analysis derived, for edges that want more than the Report (the web UI). */
export interface Analysis {
  report: Report
  /** Every event but the DNS messages. */
  events: Event[]
  /** The DNS messages, by column (`dns.get(row)` for one as an object). */
  dns: DnsTable
}

/**
 * Analyzes a bundle and returns the report.
 * @example
 *   const report = analyzeBundle({ files: [{ path: 'a.pcap', bytes }], skipped: [] })
 */
export function analyzeBundle(bundle: Bundle, options: AnalyzeOptions = {}): Report {
  return analyzeBundleFull(bundle, options).report
}

export function analyzeBundleFull(bundle: Bundle, options: AnalyzeOptions = {}): Analysis {
  const dnsPorts = new Set(options.dnsPorts?.length ? options.dnsPorts : [53])
  const totalBytes = bundle.files.reduce((n, f) => n + f.bytes.length, 0)
  let doneBytes = 0
  const progress = options.onProgress

  const inputs: AnalyzedInput[] = []
  const vantages = new Map<string, Vantage>()
  const events: Event[] = []
  const dns = new DnsTable()
  // Per string number of the pool: 1 for the vantage of some row (see setVantage).
  let rowVantages: Uint8Array = new Uint8Array(0)

  for (const file of bundle.files) {
    const index = inputs.length
    const entry = bundle.manifest?.files.find((f) => f.path === file.path)
    const vantage = vantageFor(file.path, entry)
    if (!vantages.has(vantage.id)) vantages.set(vantage.id, vantage)
    const input: AnalyzedInput = {
      path: file.path,
      kind: 'unknown',
      vantage: vantage.id,
      events: 0,
      problems: [],
      bytes: file.bytes.length,
    }
    inputs.push(input)
    progress?.({ phase: 'import', path: file.path, done: doneBytes, total: totalBytes })

    const base = doneBytes
    const firstRow = dns.length
    try {
      const result = importFile(file, entry, input, {
        index,
        vantage: vantage.id,
        maxDecodedBytes: options.maxDecodedBytes ?? DEFAULT_MAX_DECODED,
        dnsPorts,
        dns,
        onProgress: progress
          ? (done, total) =>
              progress({
                phase: 'import',
                path: file.path,
                done: base + Math.round((done / Math.max(1, total)) * file.bytes.length),
                total: totalBytes,
              })
          : undefined,
      })
      if (result) {
        // Where was it recorded? The manifest says so when it has the file; otherwise a file
        // that names its own vantage (a dnstap identity) knows better than its path.
        const placed = entry?.vantage !== undefined
        if (!placed)
          for (const v of result.vantages ?? []) {
            const known = vantages.get(v.id)
            if (!known || known.type === 'unknown') vantages.set(v.id, v)
          }
        const vid = dns.strings.id(vantage.id)
        for (const e of result.events) {
          if (placed || !e.vantage) e.vantage = vantage.id
          if (e.kind === 'dns') dns.push(e)
          else events.push(e)
        }
        rowVantages = setVantage(dns, firstRow, vid, placed, rowVantages)
        input.events = result.eventCount ?? result.events.length
        input.problems.push(...result.problems)
      }
    } catch (e) {
      // An importer threw: that is a bug, but one file must never sink the whole bundle. The
      // messages it stored before are kept.
      input.events = dns.length - firstRow
      input.problems.push(internalError(e))
    }
    doneBytes += file.bytes.length
    if (options.consumeInputs) file.bytes = new Uint8Array(0)
  }

  progress?.({ phase: 'correlate', done: 0, total: 1 })
  dns.trim()
  const facts: FactEvent[] = []
  const metrics: MetricEvent[] = []
  const drops: DropEvent[] = []
  const logs: LogEvent[] = []
  const hostLookups: HostLookupEvent[] = []
  for (const e of events) {
    switch (e.kind) {
      case 'fact':
        facts.push(e)
        break
      case 'metric':
        metrics.push(e)
        break
      case 'drop':
        drops.push(e)
        break
      case 'log':
        logs.push(e)
        break
      case 'host-lookup':
        hostLookups.push(e)
        break
    }
  }
  const correlation = correlate({ dns, drops, facts, manifest: bundle.manifest, vantages })

  progress?.({ phase: 'rules', done: 0, total: 1 })
  // List the vantages something was seen at, plus those the manifest names.
  const seen = new Set<string>(
    bundle.manifest?.files.flatMap((f) => (f.vantage?.id ? [f.vantage.id] : [])),
  )
  for (const e of events) seen.add(e.vantage)
  rowVantages.forEach((v, s) => v && seen.add(dns.strings.text[s]))
  const vantageList = [...vantages.values()].filter((v) => seen.has(v.id))
  const ruleCtx = {
    events,
    inputs,
    vantages: vantageList,
    correlation,
    facts,
    metrics,
    drops,
    logs,
    hostLookups,
    manifest: bundle.manifest,
  }
  const { findings, problems: ruleProblems } = runRules(ruleCtx)

  progress?.({ phase: 'report', done: 0, total: 1 })
  const report = buildReport({
    version: options.version ?? '0.0.0',
    inputs,
    skipped: bundle.skipped,
    vantages: vantageList,
    dns,
    correlation,
    findings,
    ruleProblems,
    detail: options.detail ?? false,
    manifest: bundle.manifest,
  })
  return { report, events, dns }
}

/**
 * Gunzips a file when it is gzip, finds its importer and runs it; null for a file no importer
 * reads (`input` says why). A function of its own so that, once it returns, nothing of
 * analyzeBundleFull's still holds the file's bytes: that frame runs once, in the interpreter,
 * whose registers the garbage collector takes as live, and the CLI frees the bytes right after
 * import (`consumeInputs`). With this code inline, the 105 MB capture stayed in memory to the end.
 */
function importFile(
  file: Bundle['files'][number],
  entry: ManifestFile | undefined,
  input: AnalyzedInput,
  ctx: ImportContext & { index: number; vantage: string; maxDecodedBytes: number },
): ImportResult | null {
  let bytes = file.bytes
  let compressed = ''
  if (isGzip(bytes)) {
    const decoded = gunzipBounded(bytes, ctx.maxDecodedBytes)
    if (decoded.error) input.problems.push({ where: 'gzip', message: decoded.error })
    bytes = decoded.bytes
    compressed = '+gzip'
  }
  const found = detectImporter(bytes.subarray(0, SNIFF_BYTES), file.path, entry?.kind)
  if (!found.importer) {
    input.kind = 'unknown' + compressed
    input.skipped = found.reason
    return null
  }
  input.kind = found.importer.id + compressed
  return found.importer.parse(
    { index: ctx.index, path: file.path, bytes, vantage: ctx.vantage },
    { dnsPorts: ctx.dnsPorts, dns: ctx.dns, onProgress: ctx.onProgress },
  )
}

function vantageFor(path: string, entry: ManifestFile | undefined): Vantage {
  const v = entry?.vantage
  const id = v?.id || v?.name || path
  return {
    id,
    type: v?.type ?? 'unknown',
    name: v?.name ?? id,
    ...(v?.node ? { node: v.node } : {}),
    addresses: v?.addresses ?? [],
  }
}

// The loops over every row live in functions of their own: a loop in analyzeBundleFull would
// have the optimizer compile all of analyzeBundleFull to run it, and drop that code again at
// the first statement after the loop (which has not run yet, so has no type feedback).

/**
 * Gives rows from `from` on the vantage `vid`: all of them, or with `all` false those without.
 * Returns `seen` (per string number, 1 for the vantage of some row), marked for these rows and
 * grown to the pool's size.
 */
function setVantage(
  dns: DnsTable,
  from: number,
  vid: number,
  all: boolean,
  seen: Uint8Array,
): Uint8Array {
  if (seen.length < dns.strings.size) {
    const grown = new Uint8Array(dns.strings.size)
    grown.set(seen)
    seen = grown
  }
  const vantage = dns.vantage
  for (let row = from; row < dns.length; row++) {
    if (all || vantage[row] === 0) vantage[row] = vid
    seen[vantage[row]] = 1
  }
  return seen
}

function internalError(e: unknown): Problem {
  const msg = e instanceof Error ? e.message : String(e)
  return {
    where: 'importer',
    message: `internal error, the rest of this file was not read: ${msg}`,
  }
}
