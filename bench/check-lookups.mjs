// Writes report.lookups and report.summary of many inputs to a folder, so two trees' outputs can
// be compared byte for byte: node bench/check-lookups.mjs <tree> <outdir>
import { build } from 'esbuild'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const tree = resolve(process.argv[2] ?? '.')
const out = resolve(process.argv[3] ?? '/tmp/lookups-out')
const here = process.cwd()
mkdirSync(out, { recursive: true })

const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-check-'))
const entry = join(dir, 'entry.mjs')
await build({
  stdin: {
    contents: `export { analyzeBundleFull } from './core/analyze.ts'
export { readInputs } from './collector/read-inputs.ts'`,
    resolveDir: tree,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: entry,
  logLevel: 'warning',
})
const core = await import(pathToFileURL(entry).href)

const jobs = []
const pcap = join(here, 'bench/.data/dns-1m.pcap')
if (existsSync(pcap) && !process.env.SKIP_BIG)
  jobs.push({ name: 'dns-1m', paths: [pcap], ports: [53, 5390] })
const lab = join(here, 'test/lab/.out')
if (existsSync(lab))
  for (const s of readdirSync(lab))
    if (existsSync(join(lab, s, 'bundle')))
      jobs.push({ name: `lab-${s}`, paths: [join(lab, s, 'bundle')] })
for (const root of ['/work/shared/corpus', join(here, 'test/fixtures')]) {
  const walk = (p, name) => {
    const st = statSync(p)
    if (st.isDirectory()) {
      jobs.push({ name: `dir-${name}`, paths: [p] })
      for (const f of readdirSync(p)) walk(join(p, f), `${name}_${f}`)
    } else jobs.push({ name: `file-${name}`, paths: [p] })
  }
  walk(root, root.includes('corpus') ? 'corpus' : 'fixtures')
}

for (const j of jobs) {
  let text
  try {
    const bundle = core.readInputs(j.paths)
    const a = core.analyzeBundleFull(bundle, { detail: true, dnsPorts: j.ports ?? [53] })
    text =
      JSON.stringify(a.report.lookups) +
      '\n' +
      JSON.stringify(a.report.summary) +
      '\n' +
      JSON.stringify(a.report.worstLookups ?? null) +
      '\n'
  } catch (e) {
    text = `ERROR ${e.message}\n`
  }
  writeFileSync(join(out, j.name.replace(/[^\w.-]/g, '_') + '.txt'), text)
}
console.log(`${jobs.length} inputs written to ${out}`)
