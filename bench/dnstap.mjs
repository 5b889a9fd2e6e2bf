#!/usr/bin/env node
// dnstap import benchmark: a file of >= 1,000,000 messages made by real software (unbound's dnstap
// through fstrm_capture, under dnsperf load), imported by our importer beside `dnstap-ldns -r`
// timed in the same run. Usage: node bench/dnstap.mjs [--regenerate] [--data-only]
// The file is kept in bench/.data/ and reused. Needs unbound (with dnstap), fstrm-bin, dnsperf,
// dnstap-ldns, dig; GNU time (/usr/bin/time) for peak RSS of the external commands.
import { spawn, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const DATA_DIR = join(ROOT, 'bench/.data')
const FILE = join(DATA_DIR, 'dnstap-1m.fstrm')
const META = join(DATA_DIR, 'dnstap-1m.json')
const PORT = 5392
const TARGET_MESSAGES = 1_000_000
/** CQ + CR per query; a little over half a million so that drops cannot take us under 1M. */
const QUERIES = 520_000
/** dnsperf rate cap: unbound drops dnstap messages when its 1 MB per-worker queue fills up. */
const MAX_QPS = 30_000

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

/** Message counts by dnstap-ldns's two-letter type (the third column of its quiet output). */
function ldnsCounts(file) {
  const r = spawnSync(
    'sh',
    ['-c', `dnstap-ldns -q -r '${file}' | awk '{c[$3]++} END {for (t in c) print t, c[t]}'`],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  )
  if (r.status !== 0) throw new Error(`dnstap-ldns failed: ${r.stderr}`)
  const byType = {}
  let total = 0
  for (const line of r.stdout.trim().split('\n')) {
    const [t, n] = line.split(' ')
    byType[t] = Number(n)
    total += Number(n)
  }
  return { total, byType }
}

/** Local data the server answers from, and the query mix dnsperf sends (names, AAAA, NXDOMAIN). */
function zoneAndQueries() {
  const data = []
  const queries = []
  for (let i = 0; i < 200; i++) {
    data.push(`local-data: "svc-${i}.bench.test. 300 IN A 10.96.${i >> 8}.${i & 255}"`)
    if (i % 4 === 0)
      data.push(`local-data: "svc-${i}.bench.test. 300 IN AAAA fd00::${i.toString(16)}"`)
    queries.push(`svc-${i}.bench.test A`, `svc-${i}.bench.test AAAA`)
    queries.push(`svc-${i}.default.svc.bench.test A`) // NXDOMAIN, as a search-path expansion would be
  }
  data.push('local-data: "bench.test. 300 IN TXT \\"dnsbundle bench\\""')
  queries.push('bench.test TXT', 'bench.test SOA')
  return { data, queries }
}

function spawnLogged(cmd, args, log) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  p.stderr.on('data', (d) => log.push(String(d)))
  return p
}

async function stop(p, signal = 'SIGTERM', ms = 10_000) {
  if (p.exitCode !== null || p.signalCode !== null) return
  const done = new Promise((r) => p.once('exit', r))
  p.kill(signal)
  if ((await Promise.race([done.then(() => true), sleep(ms).then(() => false)])) === false) {
    p.kill('SIGKILL')
    await done
  }
}

async function generate() {
  for (const cmd of ['unbound', 'fstrm_capture', 'dnsperf', 'dnstap-ldns', 'dig'])
    if (!have(cmd))
      throw new Error(
        `${cmd} is not installed (apt-get install unbound fstrm-bin dnsperf dnstap-ldns bind9-dnsutils)`,
      )
  const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-bench-dnstap-'))
  const sock = join(dir, 'dnstap.sock')
  const out = join(dir, 'out.fstrm')
  const { data, queries } = zoneAndQueries()
  writeFileSync(join(dir, 'queries.txt'), queries.join('\n') + '\n')
  writeFileSync(
    join(dir, 'unbound.conf'),
    [
      'server:',
      `  interface: 127.0.0.1@${PORT}`,
      '  do-daemonize: no',
      '  chroot: ""',
      '  username: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      '  use-syslog: no',
      '  logfile: ""',
      '  verbosity: 0',
      '  do-ip6: no',
      '  num-threads: 1',
      '  local-zone: "bench.test." static',
      ...data.map((l) => '  ' + l),
      'dnstap:',
      '  dnstap-enable: yes',
      `  dnstap-socket-path: "${sock}"`,
      '  dnstap-send-identity: yes',
      '  dnstap-identity: "bench-unbound"',
      '  dnstap-send-version: yes',
      '  dnstap-log-client-query-messages: yes',
      '  dnstap-log-client-response-messages: yes',
      '',
    ].join('\n'),
  )
  const logs = { capture: [], unbound: [] }
  const capture = spawnLogged(
    'fstrm_capture',
    ['-t', 'protobuf:dnstap.Dnstap', '-u', sock, '-w', out],
    logs.capture,
  )
  let unbound
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(50)
    unbound = spawnLogged('unbound', ['-d', '-c', join(dir, 'unbound.conf')], logs.unbound)
    let up = false
    for (let i = 0; i < 100 && !up; i++) {
      up =
        spawnSync('dig', [
          '@127.0.0.1',
          '-p',
          String(PORT),
          'bench.test',
          'TXT',
          '+tries=1',
          '+time=1',
        ]).status === 0
      if (!up) await sleep(100)
    }
    if (!up) throw new Error(`unbound did not answer on port ${PORT}: ${logs.unbound.join('')}`)
    const passes = Math.ceil(QUERIES / queries.length)
    console.log(
      `generating: dnsperf ${passes * queries.length} queries at <= ${MAX_QPS} qps against unbound :${PORT} ...`,
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
        String(passes),
        '-Q',
        String(MAX_QPS),
        '-c',
        '4',
        '-q',
        '200',
      ],
      { encoding: 'utf8' },
    )
    if (perf.status !== 0) throw new Error(`dnsperf failed: ${perf.stderr}`)
    const sent = /Queries sent:\s+(\d+)/.exec(perf.stdout)?.[1]
    const completed = /Queries completed:\s+(\d+)/.exec(perf.stdout)?.[1]
    // unbound hands queued dnstap messages to its writer thread on a 1 s timer (dnstap/dtstream.c,
    // dt_msg_queue_start_timer): wait for it before stopping, or the tail of the queue is lost.
    await sleep(2500)
    await stop(unbound)
    await stop(capture)
    const counts = ldnsCounts(out)
    if (counts.total < TARGET_MESSAGES)
      throw new Error(
        `only ${counts.total} dnstap messages were written (dnsperf sent ${sent}); unbound dropped some`,
      )
    mkdirSync(DATA_DIR, { recursive: true })
    renameSync(out, FILE)
    const meta = {
      producer: `unbound ${/Version (\S+)/.exec(spawnSync('unbound', ['-V'], { encoding: 'utf8' }).stdout)?.[1] ?? '?'} + fstrm_capture, dnsperf load`,
      queriesSent: Number(sent),
      queriesCompleted: Number(completed),
      ...counts,
    }
    writeFileSync(META, JSON.stringify(meta, null, 2) + '\n')
    return meta
  } finally {
    if (unbound) await stop(unbound)
    await stop(capture)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs a shell command with stdout to /dev/null; wall time from here, peak RSS from GNU time. */
function timeCommand(cmd) {
  const gnuTime = existsSync('/usr/bin/time')
  const t0 = process.hrtime.bigint()
  const r = spawnSync(
    'sh',
    ['-c', gnuTime ? `/usr/bin/time -f '%M' ${cmd} > /dev/null` : `${cmd} > /dev/null`],
    { encoding: 'utf8' },
  )
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`)
  const rssKb = gnuTime ? Number(r.stderr.trim().split('\n').at(-1)) : NaN
  return { seconds, rssMb: rssKb / 1024 }
}

/** Bundles the importer once and runs parse() in a fresh process: pure import rate and its RSS. */
async function timeImporter() {
  const bundle = join(DATA_DIR, 'dnstap-importer.mjs')
  await build({
    stdin: {
      contents: [
        "export { dnstapImporter } from './core/importers/dnstap.ts'",
        "export { FrameStreamReader } from './core/codec/frame-stream.ts'",
        "export { decodeDnstap, newDnstapFields } from './core/codec/dnstap-message.ts'",
        "export { dnstap } from './core/codec/dnstap-pb.js'",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    outfile: bundle,
    logLevel: 'warning',
  })
  const script = `
    import { readFileSync } from 'node:fs'
    const { dnstapImporter } = await import(${JSON.stringify(bundle)})
    const bytes = new Uint8Array(readFileSync(${JSON.stringify(FILE)}))
    const t0 = process.hrtime.bigint()
    const r = dnstapImporter.parse({ index: 0, path: 'bench.fstrm', bytes, vantage: 'bench.fstrm' }, { dnsPorts: new Set([53]) })
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const byType = {}
    for (const e of r.events) if (e.kind === 'dns') byType[e.dnstapType] = (byType[e.dnstapType] ?? 0) + 1
    console.log(JSON.stringify({ seconds, messages: r.eventCount, problems: r.problems.length, byType, rssMb: process.resourceUsage().maxRSS / 1024 }))
  `
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', '--input-type=module', '-e', script],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  )
  if (r.status !== 0) throw new Error(`importer run failed: ${r.stderr}`)
  return { ...JSON.parse(r.stdout), bundle }
}

/** The protobuf layer alone, both ways: our reader (used) and protobufjs static code (the oracle). */
function timeDecoders(bundle) {
  const script = `
    import { readFileSync } from 'node:fs'
    const { FrameStreamReader, decodeDnstap, newDnstapFields, dnstap } = await import(${JSON.stringify(bundle)})
    const bytes = new Uint8Array(readFileSync(${JSON.stringify(FILE)}))
    const time = (decode) => {
      const r = new FrameStreamReader(bytes)
      r.open()
      let n = 0
      const t0 = process.hrtime.bigint()
      while (r.next()) n += decode(r.dataStart, r.dataEnd)
      return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, n }
    }
    const f = newDnstapFields()
    const ours = () => time((s, e) => (decodeDnstap(bytes, s, e, f), f.type > 0 ? 1 : 0))
    const pbjs = () => time((s, e) => (dnstap.Dnstap.decode(bytes.subarray(s, e)).message.type > 0 ? 1 : 0))
    ours(); pbjs() // warm up both the same way
    console.log(JSON.stringify({ ours: ours(), pbjs: pbjs() }))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`decoder run failed: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

const MNEMONIC = {
  AUTH_QUERY: 'AQ',
  AUTH_RESPONSE: 'AR',
  RESOLVER_QUERY: 'RQ',
  RESOLVER_RESPONSE: 'RR',
  CLIENT_QUERY: 'CQ',
  CLIENT_RESPONSE: 'CR',
  FORWARDER_QUERY: 'FQ',
  FORWARDER_RESPONSE: 'FR',
  STUB_QUERY: 'SQ',
  STUB_RESPONSE: 'SR',
  TOOL_QUERY: 'TQ',
  TOOL_RESPONSE: 'TR',
  UPDATE_QUERY: 'UQ',
  UPDATE_RESPONSE: 'UR',
}

async function main() {
  let meta =
    !process.argv.includes('--regenerate') && existsSync(FILE) && existsSync(META)
      ? JSON.parse(readFileSync(META, 'utf8'))
      : null
  if (!meta) meta = await generate()
  const size = statSync(FILE).size
  const mb = size / 1e6
  console.log(
    `file: ${FILE} (${mb.toFixed(1)} MB, ${meta.total} messages by dnstap-ldns: ${JSON.stringify(meta.byType)}, made by ${meta.producer})`,
  )
  if (process.argv.includes('--data-only')) return

  const rows = []
  const row = (name, seconds, rssMb, messages) =>
    rows.push({
      tool: name,
      seconds: seconds.toFixed(2),
      'messages/s': Math.round(messages / seconds).toLocaleString('en'),
      'MB/s': (mb / seconds).toFixed(1),
      'peak RSS MB': Number.isNaN(rssMb) ? 'n/a' : rssMb.toFixed(0),
    })

  const ldns = timeCommand(`dnstap-ldns -r '${FILE}'`)
  row('dnstap-ldns -r FILE > /dev/null', ldns.seconds, ldns.rssMb, meta.total)

  const imp = await timeImporter()
  row('dnsbundle dnstap importer parse() (in-process)', imp.seconds, imp.rssMb, imp.messages)
  const dec = timeDecoders(imp.bundle)
  row('  protobuf layer only: our Dnstap reader (used)', dec.ours.seconds, NaN, dec.ours.n)
  row('  protobuf layer only: protobufjs static code', dec.pbjs.seconds, NaN, dec.pbjs.n)
  const agree =
    imp.messages === meta.total &&
    Object.entries(imp.byType).every(([t, n]) => meta.byType[MNEMONIC[t]] === n)

  const cli = join(ROOT, 'dist/dnsbundle.mjs')
  if (existsSync(cli)) {
    try {
      const a = timeCommand(
        `'${process.execPath}' --max-old-space-size=4096 '${cli}' analyze --quiet --format json '${FILE}'`,
      )
      row('node dist/dnsbundle.mjs analyze --format json FILE', a.seconds, a.rssMb, meta.total)
    } catch (e) {
      console.log(`(dist/dnsbundle.mjs analyze failed: ${e.message.split('\n')[0]})`)
    }
  } else console.log('(dist/dnsbundle.mjs not built: npm run build to time the CLI too)')

  console.table(rows)
  console.log(
    `importer: ${imp.messages} messages, ${imp.problems} problems; counts by type ${agree ? 'EQUAL' : 'DIFFER FROM'} dnstap-ldns`,
  )
  console.log(`import rate vs dnstap-ldns: ${(ldns.seconds / imp.seconds).toFixed(2)}x`)
  if (!agree) process.exitCode = 1
}

await main()
