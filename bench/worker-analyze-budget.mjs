// Measures what server-side analysis costs inside workerd, to set ANALYZE_MAX_BYTES and
// ANALYZE_MAX_INFLATED_BYTES (wrangler.toml). For each bundle size, a fresh `wrangler dev` on
// loopback receives one upload twice over: once with analysis on, once with it off (store only).
// Printed per size: upload wall time with and without analysis (the difference is the analysis),
// and the workerd process's peak RSS growth over its idle size (VmHWM - VmRSS before).
//
//   node bench/worker-analyze-budget.mjs [--sizes 1,4,8,16,32] [--kinds coredns-log,pcap] [--port 8860]
//
// Bundles are generated into bench/.data (not in git): CoreDNS log lines in the current format
// (the full pipeline: import, correlate, rules, detailed report), and a classic pcap made by
// repeating the packets of corpus pcap/dnscap/dns.pcap (whatever the pcap importer does with it).
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { zipSync, strToU8 } from 'fflate'
import { tsImport } from 'tsx/esm/api'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const MB = 1024 * 1024
const sizes = flag('--sizes', '1,4,8,16,32').split(',').map(Number)
const kinds = flag('--kinds', 'coredns-log,pcap').split(',')
const port = Number(flag('--port', '8860'))
const data = join(root, 'bench', '.data', 'worker-budget')
mkdirSync(data, { recursive: true })

const { serve } = await tsImport('../collector/serve.ts', import.meta.url)
const { uploadBundle } = await tsImport('../collector/share.ts', import.meta.url)

const rows = []
for (const kind of kinds) {
  for (const size of sizes) {
    const zip = bundleFor(kind, size * MB)
    const on = await measure(zip, {
      ANALYZE_MAX_BYTES: String(512 * MB),
      ANALYZE_MAX_INFLATED_BYTES: String(512 * MB),
    })
    const off = await measure(zip, { ANALYZE_MAX_BYTES: '0' })
    const row = {
      kind,
      inflatedMB: size,
      zipMB: +(zip.length / MB).toFixed(2),
      analyzed: on.analyzed,
      events: on.events,
      reportMB: on.reportMB,
      msWithAnalysis: on.ms,
      msStoreOnly: off.ms,
      analysisMs: on.ms - off.ms,
      peakRssGrowthMB: on.peakGrowthMB,
      storeOnlyPeakRssGrowthMB: off.peakGrowthMB,
      error: on.error ?? off.error,
    }
    rows.push(row)
    console.log(JSON.stringify(row))
  }
}
console.table(rows)

/** One fresh server, one warm-up upload, one measured upload. */
async function measure(zip, vars) {
  const persistTo = join(data, 'state')
  rmSync(persistTo, { recursive: true, force: true })
  const server = await serve({
    port,
    persistTo,
    assetsDir: join(root, 'test/fixtures/worker-assets'),
    vars: { MAX_UPLOAD_BYTES: String(512 * MB), ...vars },
    log: () => {},
  })
  try {
    await uploadBundle(readFileSync(join(root, 'examples/incident-bundle.zip')), server.url)
    const pids = workerdPids(server.pid)
    const before = Object.fromEntries(pids.map((p) => [p, status(p).VmRSS]))
    const t0 = performance.now()
    let created
    let error
    try {
      created = await uploadBundle(zip, server.url)
    } catch (e) {
      error = e.message
    }
    const ms = Math.round(performance.now() - t0)
    const peakGrowth = Math.max(...pids.map((p) => status(p).VmHWM - before[p]))
    let events = null
    let reportMB = null
    if (created?.analyzed) {
      const text = await (await fetch(created.reportUrl)).text()
      reportMB = +(text.length / MB).toFixed(2)
      events = JSON.parse(text).inputs.reduce((n, i) => n + i.events, 0)
    }
    return {
      ms,
      analyzed: created?.analyzed ?? false,
      events,
      reportMB,
      peakGrowthMB: Math.round(peakGrowth / 1024),
      error,
    }
  } finally {
    await server.stop()
  }
}

/** workerd processes in wrangler's process group. */
function workerdPids(pgid) {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '-g', String(pgid)]).toString()
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'workerd')
    .map(([pid]) => Number(pid))
}

/** /proc/<pid>/status memory fields, in kB. */
function status(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
  return { VmRSS: field('VmRSS'), VmHWM: field('VmHWM') }
}

function bundleFor(kind, bytes) {
  const file = join(data, `${kind}-${bytes / MB}MB.zip`)
  if (existsSync(file)) return new Uint8Array(readFileSync(file))
  const content = kind === 'pcap' ? repeatedPcap(bytes) : corednsLog(bytes)
  const name = kind === 'pcap' ? 'captures/node.pcap' : 'logs/coredns.log'
  const zip = zipSync({ [name]: content }, { level: 6 })
  writeFileSync(file, zip)
  return zip
}

/** CoreDNS `log` lines (plugin/log/README.md format), varied clients, names, ids and rcodes. */
function corednsLog(bytes) {
  const names = [
    'api.example.com.',
    'kubernetes.default.svc.cluster.local.',
    'db.prod.svc.cluster.local.',
  ]
  const suffixes = ['', 'default.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.']
  const lines = []
  let size = 0
  let t = Date.UTC(2026, 0, 1)
  for (let i = 0; size < bytes; i++) {
    t += 3
    const name = names[i % names.length]
    const suffix = suffixes[(i >> 2) % suffixes.length]
    const qname = suffix ? name.replace(/\.$/, '.') + suffix : name
    const type = i % 2 ? 'AAAA' : 'A'
    const rcode = suffix ? 'NXDOMAIN' : 'NOERROR'
    const line =
      `${new Date(t).toISOString()} [INFO] 10.244.${(i >> 8) & 255}.${i & 255}:${30000 + (i % 30000)} - ${i % 65536} ` +
      `"${type} IN ${qname} udp ${40 + qname.length} false 512" ${rcode} qr,aa,rd ${100 + qname.length} 0.000${100 + (i % 900)}s\n`
    lines.push(line)
    size += line.length
  }
  return strToU8(lines.join(''))
}

/** A classic pcap of `bytes`, repeating dns.pcap's packets with timestamps moved forward. */
function repeatedPcap(bytes) {
  const corpus = ['/work/shared/corpus', join(root, '..', 'shared', 'corpus')].find(
    (d) => existsSync(d) && readdirSync(d).length,
  )
  const src = readFileSync(join(corpus, 'pcap/dnscap/dns.pcap'))
  const header = src.subarray(0, 24)
  const le = src.readUInt32LE(0) === 0xa1b2c3d4
  const records = []
  for (let at = 24; at + 16 <= src.length;) {
    const len = le ? src.readUInt32LE(at + 8) : src.readUInt32BE(at + 8)
    records.push(src.subarray(at, at + 16 + len))
    at += 16 + len
  }
  const out = Buffer.alloc(bytes)
  header.copy(out, 0)
  let at = 24
  for (let round = 0; ; round++) {
    for (const r of records) {
      if (at + r.length > bytes) return new Uint8Array(out.subarray(0, at))
      r.copy(out, at)
      const sec = le ? out.readUInt32LE(at) : out.readUInt32BE(at)
      if (le) out.writeUInt32LE(sec + round * 60, at)
      else out.writeUInt32BE(sec + round * 60, at)
      at += r.length
    }
  }
}
