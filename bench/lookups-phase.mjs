// Times resolverConfig (with reading the transaction columns, where the tree has them) and
// groupLookups alone on the 1M capture, and the heap they keep, for one or more trees, interleaved:
// node --expose-gc bench/lookups-phase.mjs [tree...]
import { build } from 'esbuild'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const trees = (process.argv.length > 2 ? process.argv.slice(2) : ['.']).map((t) => resolve(t))
const file = 'bench/.data/dns-1m.pcap'
const mods = []
for (const tree of trees) {
  const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-lk-'))
  const entry = join(dir, 'entry.mjs')
  await build({
    stdin: {
      contents: `export { detectImporter, SNIFF_BYTES } from './core/importers/index.ts'
export { findDnsServers, roleOf, vantageRanker } from './core/correlate/roles.ts'
export { pairQueries } from './core/correlate/pair-queries.ts'
export { resolverConfig } from './core/correlate/search-list.ts'
export { groupLookups } from './core/correlate/group-lookups.ts'
${existsSync(join(tree, 'core/correlate/transaction-columns.ts')) ? "export { TransactionColumns } from './core/correlate/transaction-columns.ts'" : ''}`,
      resolveDir: tree,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: entry,
    logLevel: 'warning',
  })
  mods.push(await import(pathToFileURL(entry).href))
}
const c = mods[0]
const bytes = readFileSync(file)
const { importer } = c.detectImporter(bytes.subarray(0, c.SNIFF_BYTES), file)
const r = importer.parse(
  { index: 0, path: file, bytes, vantage: 'v' },
  { dnsPorts: new Set([53, 5390]) },
)
const dns = r.events.filter((e) => e.kind === 'dns')
const vantages = new Map([['v', { id: 'v', type: 'unknown', addresses: [] }]])
const servers = c.findDnsServers(dns, vantages)
const rank = c.vantageRanker(vantages)
const client = dns.filter((e) => e.id >= 0 && c.roleOf(e, servers).startsWith('client'))
client.sort((a, b) => a.time - b.time || a.ref - b.ref)
const txns = c.pairQueries(client, { rank }).transactions
txns.sort((a, b) => a.firstSent - b.firstSent)
console.log(`${txns.length} transactions`)
const times = trees.map(() => [])
let keep
for (let k = 0; k < (Number(process.env.RUNS) || 7); k++) {
  for (let m = 0; m < mods.length; m++) {
    keep = null
    global.gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
    global.gc()
    const m0 = process.memoryUsage()
    const h0 = m0.heapUsed + m0.arrayBuffers
    const c0 = process.cpuUsage()
    // Where the module has them, the transactions are read once for both stages.
    let cols = mods[m].TransactionColumns ? new mods[m].TransactionColumns(txns) : undefined
    const cfg = mods[m].resolverConfig([], txns, cols)
    const c1 = process.cpuUsage()
    if (process.env.MARK) console.log('--- group start')
    keep = mods[m].groupLookups(txns, cfg, cols)
    if (process.env.MARK) console.log('--- group end')
    const c2 = process.cpuUsage()
    cols = undefined
    // Backing stores of dead typed arrays are freed after a collection; give the sweeper a turn.
    global.gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const t0 = (c0.user + c0.system) / 1000
    const t1 = (c1.user + c1.system) / 1000
    const t2 = (c2.user + c2.system) / 1000
    global.gc()
    const m1 = process.memoryUsage()
    const h1 = m1.heapUsed + m1.arrayBuffers
    times[m].push([t1 - t0, t2 - t1, (h1 - h0) / 1e6])
  }
}
for (let m = 0; m < mods.length; m++) {
  const med = (i) => times[m].map((t) => t[i]).sort((x, y) => x - y)[3]
  console.log(
    `${trees[m]}: median of 7 (CPU time): resolverConfig ${med(0).toFixed(1)} ms, groupLookups ${med(1).toFixed(1)} ms, retained (heap + array buffers) ${med(2).toFixed(1)} MB`,
  )
  console.log('   runs: ' + times[m].map((t) => `${t[0].toFixed(0)}+${t[1].toFixed(0)}`).join(' '))
}
console.log(`${keep.length} lookups`)
