#!/usr/bin/env node
// CoreDNS `log` benchmark. CoreDNS does not run on this machine, so its log is rendered from real
// traffic: each of the 520,000 client responses in bench/.data/dnstap-1m.fstrm (unbound under
// dnsperf load, made by bench/dnstap.mjs) becomes the line CoreDNS's log plugin writes when it
// sends that response, behind the RFC 3339 stamp `kubectl logs --timestamps` adds:
//
//   2026-11-26T16:44:05.291101Z [INFO] 127.0.0.1:38924 - 43608 "TXT IN bench.test. udp 51 false 1232" NOERROR qr,aa,rd,ra 69 0.000027s
//
// Times, in the same run: the importer alone and the full analysis in this process (first run
// and warm median), `dnsbundle analyze --format json` as a process (wall, peak RSS), and, for
// scale, awk splitting every line into fields and counting rcodes: the least any reader of the
// text does. Usage: node bench/coredns-log.mjs [--regenerate]
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { ROOT, importCore, timed } from './lib.mjs'

const DNSTAP = join(ROOT, 'bench/.data/dnstap-1m.fstrm')
const FILE = join(ROOT, 'bench/.data/coredns.log')

/** The core, bundled for plain Node. */
function core() {
  return importCore(`export { analyzeBundleFull } from './core/analyze.ts'
export { corednsLogImporter } from './core/importers/coredns-log.ts'
export { dnstapImporter } from './core/importers/dnstap.ts'
export { DnsTable } from './core/model/dns-table.ts'
export { qtypeName, rcodeName, FLAG } from './core/codec/dns-constants.ts'`)
}

/** CoreDNS's order of the flags in {>rflags}. */
const RFLAGS = ['qr', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd']

/** RFC 3339 with nanoseconds, as kubectl --timestamps writes it, of a time in µs. */
function stamp(us) {
  const iso = new Date(Math.floor(us / 1000)).toISOString()
  return `${iso.slice(0, 23)}${String(Math.round(us % 1000)).padStart(3, '0')}000Z`
}

/** Renders the log from the dnstap file: each client response after its query. */
function render(c) {
  const bytes = readFileSync(DNSTAP)
  const dns = new c.DnsTable()
  c.dnstapImporter.parse(
    { index: 0, path: DNSTAP, bytes, vantage: 'x' },
    { dnsPorts: new Set([53]), dns },
  )
  const text = dns.strings.text
  const key = (r, port) => `${text[dns.qname[r]]}/${dns.qtype[r]}/${dns.id[r]}/${port}`
  const queries = new Map()
  const lines = []
  for (let r = 0; r < dns.length; r++) {
    const type = text[dns.dnstapType(r)]
    if (type === 'CLIENT_QUERY') queries.set(key(r, dns.srcPort[r]), r)
    if (type !== 'CLIENT_RESPONSE') continue
    const k = key(r, dns.dstPort[r])
    const q = queries.get(k)
    if (q === undefined) continue
    queries.delete(k)
    const flags = dns.flags[r]
    const rflags = RFLAGS.filter((f) => flags & c.FLAG[f.toUpperCase()]).join(',')
    const seconds = Math.max(0, dns.time[r] - dns.time[q]) / 1e6
    lines.push(
      `${stamp(dns.time[r])} [INFO] ${text[dns.dstAddr[r]]}:${dns.dstPort[r]} - ${dns.id[r]} ` +
        `"${c.qtypeName(dns.qtype[r])} IN ${text[dns.qname[r]]} udp ${dns.size[q]} false 1232" ` +
        `${c.rcodeName(dns.rcode[r])} ${rflags} ${dns.size[r]} ${seconds}s`,
    )
  }
  writeFileSync(FILE + '.part', lines.join('\n') + '\n')
  renameSync(FILE + '.part', FILE)
  return lines.length
}

function median(xs) {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]
}

async function main() {
  if (!existsSync(DNSTAP)) {
    console.log(`no ${DNSTAP}: run bench/dnstap.mjs first (it makes it with unbound + dnsperf)`)
    return
  }
  const c = await core()
  if (process.argv.includes('--regenerate') || !existsSync(FILE)) {
    console.log(`rendering ${FILE} from ${DNSTAP}…`)
    render(c)
  }
  const bytes = readFileSync(FILE)
  const files = () => ({ files: [{ path: FILE, bytes }], skipped: [] })
  const importOnly = () => {
    const dns = new c.DnsTable()
    const r = c.corednsLogImporter.parse(
      { index: 0, path: FILE, bytes, vantage: 'coredns' },
      { dnsPorts: new Set([53]), dns },
    )
    return dns.length + r.events.length
  }
  const full = () => c.analyzeBundleFull(files(), {}).report.summary.transactions
  const time = (fn) => {
    const t0 = performance.now()
    const n = fn()
    return { n, s: (performance.now() - t0) / 1000 }
  }
  // First runs (a CLI's) then three warm runs each (a server's, the web app's).
  const imports = [time(importOnly), time(importOnly), time(importOnly), time(importOnly)]
  const fulls = [time(full), time(full), time(full), time(full)]
  const lines = imports[0].n
  console.log(
    `log: ${FILE}: ${lines.toLocaleString('en-US')} query lines, ${(bytes.length / 1e6).toFixed(1)} MB`,
  )
  console.log(`transactions: ${fulls[0].n.toLocaleString('en-US')}`)
  const row = (label, first, warm) =>
    `| ${label} | ${first.toFixed(2)} | ${warm.toFixed(2)} | ${Math.round(lines / warm).toLocaleString('en-US')} |`
  console.log('\n| in this process | first run s | warm median s | lines/s (warm) |')
  console.log('|---|---:|---:|---:|')
  const warmImport = median(imports.slice(1).map((r) => r.s))
  const warmFull = median(fulls.slice(1).map((r) => r.s))
  console.log(row('import alone', imports[0].s, warmImport))
  console.log(row('full analysis', fulls[0].s, warmFull))
  console.log(
    `full ÷ import: ${(fulls[0].s / imports[0].s).toFixed(2)}× first run, ${(warmFull / warmImport).toFixed(2)}× warm`,
  )

  const cli = join(ROOT, 'dist/dnsbundle.mjs')
  if (!existsSync(cli)) spawnSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'inherit' })
  const results = [
    timed('dnsbundle analyze --format json', cli, ['analyze', '--format', 'json', '-q', FILE]),
    timed('awk: split every line, count rcodes', 'awk', [
      '{ c[$(NF-3)]++ } END { for (r in c) print r, c[r] }',
      FILE,
    ]),
  ]
  console.log('\n| process | wall s | lines/s | peak RSS MB |')
  console.log('|---|---:|---:|---:|')
  for (const r of results)
    console.log(
      `| ${r.label} | ${r.seconds.toFixed(2)} | ${Math.round(lines / r.seconds).toLocaleString('en-US')} | ${r.rssMB.toFixed(0)} |`,
    )
}

main().catch((e) => {
  console.error(`bench/coredns-log: ${e.message}`)
  process.exit(1)
})
