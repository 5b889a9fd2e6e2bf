// Full analysis (import + correlate + rules + report with timelines) against import alone, on
// the 1M-packet capture that bench/capture.mjs makes with real software. Target: ≤ 1.5× import.
import { existsSync, readFileSync } from 'node:fs'
import { importCore } from './lib.mjs'

const file = process.env.DNSBUNDLE_BENCH_PCAP ?? 'bench/.data/dns-1m.pcap'
const port = Number(process.env.DNSBUNDLE_BENCH_PORT ?? 5390)
if (!existsSync(file)) {
  console.log(
    `no ${file}: run bench/capture.mjs first (it makes the capture with unbound + dnsperf)`,
  )
  process.exit(0)
}

// The TypeScript core, bundled for plain Node once.
const core = await importCore(`export { analyzeBundleFull } from './core/analyze.ts'
export { detectImporter, SNIFF_BYTES } from './core/importers/index.ts'
export { DnsTable } from './core/model/dns-table.ts'`)
const bytes = readFileSync(file)

function importOnly() {
  const { importer } = core.detectImporter(bytes.subarray(0, core.SNIFF_BYTES), file)
  // As the pipeline imports: DNS messages into a DnsTable, by column.
  const dns = new core.DnsTable()
  const r = importer.parse(
    { index: 0, path: file, bytes, vantage: file },
    { dnsPorts: new Set([53, port]), dns },
  )
  return r.events.length + dns.length
}
let phases = {}
function full(detail) {
  phases = {}
  const t0 = performance.now()
  const a = core.analyzeBundleFull(
    { files: [{ path: file, bytes }], skipped: [] },
    {
      detail,
      dnsPorts: [53, port],
      onProgress: (p) => {
        if (p.phase !== 'import' && !(p.phase in phases)) phases[p.phase] = performance.now() - t0
      },
    },
  )
  phases.end = performance.now() - t0
  return a.report.summary.transactions
}
const phaseLine = () =>
  `import ${phases.correlate.toFixed(0)} ms · correlate ${(phases.rules - phases.correlate).toFixed(0)} ms · rules ${(phases.report - phases.rules).toFixed(0)} ms · report ${(phases.end - phases.report).toFixed(0)} ms`

function time(fn) {
  global.gc?.()
  const t0 = process.hrtime.bigint()
  const n = fn()
  return { n, ms: Number(process.hrtime.bigint() - t0) / 1e6 }
}

// Both measured alike: the first (cold) run of each, then the median of three warm runs. The CLI
// is one cold run; a server or the web app analysing bundle after bundle runs warm.
const RUNS = 3
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const imports = Array.from({ length: RUNS + 1 }, () => time(importOnly))
const fulls = []
const fullPhases = []
for (let i = 0; i <= RUNS; i++) {
  fulls.push(time(() => full(false)))
  fullPhases.push(phaseLine())
}
const detailed = time(() => full(true))
const detailedPhases = phaseLine()
const imp = median(imports.slice(1).map((r) => r.ms))
const all = median(fulls.slice(1).map((r) => r.ms))
const allAt = fulls.findIndex((r, i) => i > 0 && r.ms === all)
const n = fulls[0].n
console.log(`file: ${file} (${(bytes.length / 1e6).toFixed(1)} MB)`)
console.log(
  `import only:   cold ${imports[0].ms.toFixed(0)} ms; warm median ${imp.toFixed(0)} ms, ${imports[0].n} events, ${((imports[0].n / imp) * 1000).toFixed(0)} msgs/s`,
)
console.log(
  `full analysis: cold ${fulls[0].ms.toFixed(0)} ms (${fullPhases[0]}); warm median ${all.toFixed(0)} ms (${fullPhases[allAt]}), ${n} transactions, lookups and timelines`,
)
console.log(
  `ratio full/import: cold ${(fulls[0].ms / imports[0].ms).toFixed(2)}×, warm ${(all / imp).toFixed(2)}× (target ≤ 1.5×)`,
)
console.log(
  `with --detail (every transaction's hops in the JSON): ${detailed.ms.toFixed(0)} ms (${detailedPhases})`,
)
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)
