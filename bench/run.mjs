// `npm run bench`: every hot-path benchmark, one after another (they share 2 cores; running them
// side by side would measure the machine, not the code). Each prints its own table.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const benches = [
  ['capture import vs tshark', 'bench/capture.mjs'],
  ['full analysis vs import alone', 'bench/analysis.mjs'],
  ['dnstap import vs dnstap-ldns', 'bench/dnstap.mjs'],
  ['CoreDNS log: import and analysis (awk for scale)', 'bench/coredns-log.mjs'],
  ['worker load', 'bench/worker-load.mjs'],
]
const only = process.argv.slice(2)
let failed = 0
for (const [title, file] of benches) {
  if (only.length && !only.some((o) => file.includes(o))) continue
  if (!existsSync(file)) continue
  console.log(`\n=== ${title} (${file})`)
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' })
  if (r.status !== 0) {
    failed++
    console.log(`!!! ${file} exited with ${r.status ?? r.signal}`)
  }
}
process.exit(failed ? 1 : 0)
