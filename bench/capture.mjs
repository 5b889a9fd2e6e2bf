#!/usr/bin/env node
// Capture-import benchmark: `dnsbundle analyze` against tshark on a capture of ≥ 1,000,000 DNS
// packets made by real software (dnsperf -> unbound on 127.0.0.1:5390, captured by tcpdump on lo).
//
//   node bench/capture.mjs [--regenerate] [--queries N] [--qps N] [--file PATH]
//
// (a) generates bench/.data/dns-1m.pcap once (kept out of git) and reuses it afterwards;
// (b) times, in the same run, `dist/dnsbundle.mjs analyze --format json --port 5390`,
//     `tshark -T fields` with the field list of issue 2 and `tshark -q -z dns,tree`, each under
//     /usr/bin/time -v for wall time and peak RSS, and prints packets/s, MB/s and peak memory.
// Port 5390 only, loopback only; every process started here is stopped here.
import { spawn, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { timed } from './lib.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const PORT = 5390
const ZONE = 'bench.test'
const MIN_PACKETS = 1_000_000

const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback
}
const FILE = option('--file', join(ROOT, 'bench/.data/dns-1m.pcap'))
const QUERIES = Number(option('--queries', '520000'))
const QPS = Number(option('--qps', '40000'))

const started = []
function stopAll() {
  for (const p of started.splice(0))
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM')
}
process.on('exit', stopAll)
process.on('SIGINT', () => {
  stopAll()
  process.exit(130)
})

function need(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`])
  if (r.status !== 0) throw new Error(`${cmd} is not installed (apt-get install -y ${cmd})`)
}

/** Frames in a classic pcap (reads only record headers). */
function countPcapRecords(path) {
  const b = readFileSync(path)
  if (b.length < 24) return 0
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d
  let pos = 24
  let n = 0
  while (pos + 16 <= b.length) {
    const incl = le ? b.readUInt32LE(pos + 8) : b.readUInt32BE(pos + 8)
    if (pos + 16 + incl > b.length) break
    pos += 16 + incl
    n++
  }
  return n
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function waitForText(proc, stream, re, ms) {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${re} (got: ${text.slice(-300)})`)),
      ms,
    )
    proc[stream].on('data', (d) => {
      text += d
      if (re.test(text)) {
        clearTimeout(timer)
        resolve(text)
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${proc.spawnfile} exited (${code}) before ${re}: ${text.slice(-500)}`))
    })
  })
}

function unboundConfig(dir, names) {
  const data = []
  for (let i = 0; i < names; i++) {
    data.push(
      `  local-data: "host${i}.${ZONE}. 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}"`,
    )
    if (i % 4 === 0)
      data.push(`  local-data: "host${i}.${ZONE}. 300 IN AAAA fd00::${i.toString(16)}"`)
  }
  return `server:
  interface: 127.0.0.1@${PORT}
  port: ${PORT}
  do-ip6: no
  do-tcp: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  so-rcvbuf: 8m
  so-sndbuf: 8m
  ratelimit: 0
  ip-ratelimit: 0
  local-zone: "${ZONE}." static
${data.join('\n')}
remote-control:
  control-enable: no
`
}

/** A query mix with what an incident shows: A and AAAA hits, AAAA NODATA and NXDOMAIN. */
function queryFile(names) {
  const lines = []
  for (let i = 0; i < names; i++) {
    lines.push(`host${i}.${ZONE} A`)
    lines.push(`host${i}.${ZONE} AAAA`)
    if (i % 10 === 0) lines.push(`missing${i}.${ZONE} A`)
  }
  return lines.join('\n') + '\n'
}

async function generate() {
  for (const cmd of ['unbound', 'dnsperf', 'tcpdump', 'dig']) need(cmd)
  mkdirSync(dirname(FILE), { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-bench-'))
  const names = 5000
  writeFileSync(join(dir, 'unbound.conf'), unboundConfig(dir, names))
  writeFileSync(join(dir, 'queries.txt'), queryFile(names))
  const perRun = names * 2 + names / 10
  const runs = Math.ceil(QUERIES / perRun)
  const partial = FILE + '.partial'
  try {
    const unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    started.push(unbound)
    for (let i = 0; ; i++) {
      const probe = spawnSync(
        'dig',
        ['@127.0.0.1', '-p', String(PORT), `host1.${ZONE}`, 'A', '+short', '+time=1', '+tries=1'],
        { encoding: 'utf8' },
      )
      if (probe.stdout.trim() === '10.0.0.1') break
      if (i > 50 || unbound.exitCode !== null)
        throw new Error(`unbound did not answer on ${PORT}: ${probe.stdout}${probe.stderr}`)
      await sleep(200)
    }
    const tcpdump = spawn(
      'tcpdump',
      ['-i', 'lo', '-n', '-B', '65536', '-w', partial, 'udp', 'port', String(PORT)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    started.push(tcpdump)
    await waitForText(tcpdump, 'stderr', /listening on lo/, 10_000)
    const tcpdumpDone = new Promise((resolve) => {
      let text = ''
      tcpdump.stderr.on('data', (d) => (text += d))
      tcpdump.on('exit', () => resolve(text))
    })
    console.log(
      `dnsperf: ${runs} passes over ${perRun} queries at ≤ ${QPS} qps to unbound on 127.0.0.1:${PORT} ...`,
    )
    const perf = spawnSync(
      'dnsperf',
      [
        '-s',
        '127.0.0.1',
        '-p',
        String(PORT),
        '-d',
        join(dir, 'queries.txt'),
        '-n',
        String(runs),
        '-Q',
        String(QPS),
        '-c',
        '4',
        '-t',
        '2',
      ],
      { encoding: 'utf8' },
    )
    const sent = /Queries sent:\s+(\d+)/.exec(perf.stdout)?.[1]
    const completed = /Queries completed:\s+(\d+)/.exec(perf.stdout)?.[1]
    const lost = /Queries lost:\s+(\d+)/.exec(perf.stdout)?.[1]
    console.log(`dnsperf: sent ${sent}, completed ${completed}, lost ${lost}`)
    // Let tcpdump drain its buffer: stop it only once the file has stopped growing.
    for (let last = -1, same = 0; same < 4;) {
      await sleep(250)
      const size = existsSync(partial) ? statSync(partial).size : 0
      same = size === last ? same + 1 : 0
      last = size
    }
    tcpdump.kill('SIGINT')
    const stats = await tcpdumpDone
    unbound.kill('SIGTERM')
    const captured = Number(/(\d+) packets? captured/.exec(stats)?.[1] ?? NaN)
    const received = Number(/(\d+) packets? received by filter/.exec(stats)?.[1] ?? NaN)
    const dropped = Number(/(\d+) packets? dropped by kernel/.exec(stats)?.[1] ?? NaN)
    console.log(
      `tcpdump: ${captured} packets captured, ${received} packets received by filter, ${dropped} packets dropped by kernel`,
    )
    if (dropped !== 0)
      throw new Error(`tcpdump dropped ${dropped} packets; rerun with a lower --qps`)
    if (!(captured >= MIN_PACKETS))
      throw new Error(`only ${captured} packets captured; need ${MIN_PACKETS}`)
    spawnSync('mv', [partial, FILE])
  } finally {
    stopAll()
    rmSync(dir, { recursive: true, force: true })
    rmSync(partial, { force: true })
  }
}

/**
 * A script that reads the file and runs only the pcap importer (bundled from core/ with esbuild),
 * to tell the import's share of the CLI's time and memory from the correlator's and the report's.
 */
async function importOnlyScript() {
  const { build } = await import('esbuild')
  const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-bench-import-'))
  const out = join(dir, 'import-only.mjs')
  await build({
    stdin: {
      contents: `import { readFileSync } from 'node:fs'
import { pcapImporter } from './core/importers/pcap.ts'
import { DnsTable } from './core/model/dns-table.ts'
const [file, port] = process.argv.slice(2)
const bytes = readFileSync(file)
// As the pipeline imports: messages into a DnsTable, by column.
const dns = new DnsTable()
pcapImporter.parse({ index: 0, path: file, bytes, vantage: file }, { dnsPorts: new Set([53, Number(port)]), dns })
console.log(dns.length)`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  })
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return out
}

async function main() {
  need('tshark')
  if (flag('--regenerate') || !existsSync(FILE)) await generate()
  const packets = countPcapRecords(FILE)
  const bytes = statSync(FILE).size
  if (packets < MIN_PACKETS)
    throw new Error(`${FILE} has ${packets} packets; need ${MIN_PACKETS} (use --regenerate)`)
  console.log(`capture: ${FILE}: ${packets} packets, ${(bytes / 1e6).toFixed(1)} MB`)
  const cli = join(ROOT, 'dist/dnsbundle.mjs')
  if (!existsSync(cli)) spawnSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'inherit' })
  const decodeAs = ['-d', `udp.port==${PORT},dns`]
  const fields = [
    'frame.time_epoch',
    'ip.src',
    'udp.srcport',
    'dns.id',
    'dns.flags.response',
    'dns.qry.name',
    'dns.qry.type',
    'dns.flags.rcode',
    'dns.time',
    'dns.retransmission',
  ].flatMap((f) => ['-e', f])
  const importOnly = await importOnlyScript()
  const results = [
    // Run as users run it (npx dnsbundle, or the file itself): through its shebang line.
    timed('dnsbundle analyze --format json', cli, [
      'analyze',
      '--format',
      'json',
      '--port',
      String(PORT),
      '-q',
      FILE,
    ]),
    // With the CLI's V8 flag (its shebang line), so the two compare like for like.
    timed('capture import alone (read file + pcap importer)', process.execPath, [
      '--max-semi-space-size=2',
      importOnly,
      FILE,
      String(PORT),
    ]),
    timed('tshark -T fields', 'tshark', ['-r', FILE, ...decodeAs, '-T', 'fields', ...fields]),
    timed('tshark -q -z dns,tree', 'tshark', ['-r', FILE, ...decodeAs, '-q', '-z', 'dns,tree']),
  ]
  console.log('')
  console.log('| tool | wall s | packets/s | MB/s | peak RSS MB |')
  console.log('|---|---:|---:|---:|---:|')
  for (const r of results) {
    const pps = Math.round(packets / r.seconds)
    console.log(
      `| ${r.label} | ${r.seconds.toFixed(2)} | ${pps.toLocaleString('en-US')} | ${(bytes / 1e6 / r.seconds).toFixed(1)} | ${r.rssMB.toFixed(0)} |`,
    )
  }
  const [ours, imported, fields_] = results
  console.log('')
  console.log(
    `speed-up over tshark -T fields: ${(fields_.seconds / ours.seconds).toFixed(1)}x for the whole analysis, ` +
      `${(fields_.seconds / imported.seconds).toFixed(1)}x for the import alone (target ≥ 5x)`,
  )
  console.log(
    `peak memory: ${ours.rssMB.toFixed(0)} MB for the whole analysis, ${imported.rssMB.toFixed(0)} MB for the ` +
      `import alone, ${fields_.rssMB.toFixed(0)} MB for tshark -T fields (target: below tshark)`,
  )
  if (flag('--json')) console.log(JSON.stringify({ packets, bytes, results }))
}

main().catch((e) => {
  stopAll()
  console.error(`bench/capture: ${e.message}`)
  process.exit(1)
})
