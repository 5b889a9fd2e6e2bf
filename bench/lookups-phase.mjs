// Times resolverConfig + groupLookups alone on the 1M capture, and the heap the lookups hold:
// node --expose-gc bench/lookups-phase.mjs [tree]
import { build } from 'esbuild'
import { mkdtempSync, readFileSync } from 'node:fs'
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
export { groupLookups } from './core/correlate/group-lookups.ts'`,
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
for (let k = 0; k < 7; k++) {
  for (let m = 0; m < mods.length; m++) {
    keep = null
    global.gc()
    const m0 = process.memoryUsage()
    const h0 = m0.heapUsed + m0.arrayBuffers
    const t0 = performance.now()
    const cfg = mods[m].resolverConfig([], txns)
    const t1 = performance.now()
    keep = mods[m].groupLookups(txns, cfg)
    const t2 = performance.now()
    global.gc()
    const m1 = process.memoryUsage()
    const h1 = m1.heapUsed + m1.arrayBuffers
    times[m].push([t1 - t0, t2 - t1, (h1 - h0) / 1e6])
  }
}
for (let m = 0; m < mods.length; m++) {
  const med = (i) => times[m].map((t) => t[i]).sort((x, y) => x - y)[3]
  console.log(
    `${trees[m]}: median of 7: resolverConfig ${med(0).toFixed(1)} ms, groupLookups ${med(1).toFixed(1)} ms, retained (heap + array buffers) ${med(2).toFixed(1)} MB`,
  )
  console.log('   runs: ' + times[m].map((t) => `${t[0].toFixed(0)}+${t[1].toFixed(0)}`).join(' '))
}
console.log(`${keep.length} lookups`)
