// The `dnsbundle` command line: analyze, pack, collect, serve.
import { closeSync, openSync, writeSync } from 'node:fs'
import { analyzeBundle } from '../core/analyze.js'
import { renderReportChunks, type ReportFormat } from '../core/report/render.js'
import { readInputs } from './read-inputs.js'
import { VERSION } from './version.js'
import { ProgressBar } from './progress.js'
import { pack } from './pack.js'
import { collect } from './collect/index.js'
import { serve } from './serve.js'
import { shareReport } from './share.js'

const USAGE = `dnsbundle ${VERSION}: collect and analyze DNS evidence from Kubernetes incidents

Usage:
  dnsbundle analyze <path>... [--format text|json|md|html] [--out FILE] [--detail] [--port N]...
  dnsbundle pack <dir> -o bundle.zip
  dnsbundle collect [--cluster] [--node] -o bundle.zip [options]
      --kubeconfig F --context C   which cluster (kubectl's own flags)
      --namespace NS               where the DNS pods run (kube-system)
      --selector L --service S     DNS pods' label selector (k8s-app=kube-dns) and Service (kube-dns)
      --since SEC                  how far back CoreDNS logs go (600)
      --metrics-interval SEC       seconds between the two metrics snapshots (10; 0 = one)
      --node                       also collect on this node (root): facts, capture, drop trace
      --duration SEC --iface IF    node capture window (30) and interface (any)
  dnsbundle --version

Exit status: 0 when a report was produced, 2 when nothing could be read, 1 on a usage error.`

export interface ParsedArgs {
  positional: string[]
  flags: Map<string, string[]>
}

/** A small argv parser: --flag value, --flag=value, boolean flags listed in `booleans`. */
export function parseArgs(argv: string[], booleans: Set<string>): ParsedArgs {
  const positional: string[] = []
  const flags = new Map<string, string[]>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=')
      const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '')
      let value = eq > 0 ? a.slice(eq + 1) : 'true'
      if (eq < 0 && !booleans.has(name)) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
        value = argv[++i]
      }
      flags.set(name, [...(flags.get(name) ?? []), value])
    } else positional.push(a)
  }
  return { positional, flags }
}

export class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n')
    return command ? 0 : 1
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(VERSION + '\n')
    return 0
  }
  switch (command) {
    case 'analyze':
      return analyzeCommand(rest)
    case 'pack':
      return packCommand(rest)
    case 'collect':
      return collectCommand(rest)
    case 'serve':
      return serveCommand(rest)
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`)
  }
}

async function collectCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['cluster', 'node']))
  const out = args.flags.get('o')?.at(-1) ?? args.flags.get('out')?.at(-1)
  if (!out) throw new UsageError('collect needs -o bundle.zip')
  const one = (name: string) => args.flags.get(name)?.at(-1)
  const num = (name: string, dflt: number) => {
    const v = one(name)
    if (v === undefined) return dflt
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`--${name} ${v} is not a number of seconds`)
    return n
  }
  const kubectlArgs: string[] = []
  for (const f of ['kubeconfig', 'context', 'server', 'token'])
    if (one(f)) kubectlArgs.push(`--${f}=${one(f)}`)
  if (one('insecure-skip-tls-verify')) kubectlArgs.push('--insecure-skip-tls-verify')
  const node = args.flags.has('node')
  const result = await collect({
    out,
    cluster: args.flags.has('cluster') || !node,
    node,
    kubectl: one('kubectl') ?? 'kubectl',
    kubectlArgs,
    namespace: one('namespace') ?? 'kube-system',
    selector: one('selector') ?? 'k8s-app=kube-dns',
    service: one('service') ?? 'kube-dns',
    sinceSeconds: num('since', 600),
    metricsInterval: num('metrics-interval', 10),
    metricsPort: num('metrics-port', 9153),
    durationSec: num('duration', 30),
    iface: one('iface') ?? 'any',
    nodeName: one('node-name'),
    ports: (args.flags.get('port') ?? ['53']).map(Number),
    log: (m) => process.stderr.write(m + '\n'),
  })
  process.stderr.write(
    `dnsbundle: wrote ${out} (${result.files} files${result.notes ? `, ${result.notes} notes in manifest.json` : ''})\n`,
  )
  return result.files > 0 ? 0 : 2
}

function packCommand(argv: string[]): number {
  const args = parseArgs(argv, new Set())
  const out = args.flags.get('o')?.at(-1) ?? args.flags.get('out')?.at(-1)
  if (args.positional.length !== 1 || !out)
    throw new UsageError('pack needs <dir> and -o bundle.zip')
  const r = pack(args.positional[0], out)
  process.stderr.write(
    `dnsbundle: packed ${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB) into ${out}${r.manifestWritten ? ' with a generated manifest.json' : ''}\n`,
  )
  return 0
}

async function serveCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set())
  const port = Number(args.flags.get('port')?.at(-1) ?? 8787)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError('--port needs a port number')
  const server = await serve({
    port,
    persistTo: args.flags.get('persist-to')?.at(-1),
    example: args.positional[0],
    log: (line) => process.stderr.write(line + '\n'),
  })
  process.stdout.write(`dnsbundle is serving at ${server.url}\n`)
  if (server.example)
    process.stdout.write(`report of ${args.positional[0]}: ${server.example.url}\n`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.stop()
  return 0
}

async function analyzeCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['detail', 'quiet', 'q']))
  if (args.positional.length === 0) throw new UsageError('analyze needs at least one path')
  const format = (args.flags.get('format')?.at(-1) ?? 'text') as ReportFormat
  if (!['text', 'json', 'md', 'html'].includes(format))
    throw new UsageError(`--format must be text, json, md or html, not ${JSON.stringify(format)}`)
  const ports = (args.flags.get('port') ?? []).map((p) => {
    const n = Number(p)
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new UsageError(`--port ${p} is not a port`)
    return n
  })
  const bundle = readInputs(args.positional)
  const totalBytes = bundle.files.reduce((n, f) => n + f.bytes.length, 0)
  const bar =
    !args.flags.has('quiet') && !args.flags.has('q') && totalBytes > 4 * 1024 * 1024
      ? new ProgressBar(process.stderr)
      : null
  let collected = false
  const report = analyzeBundle(bundle, {
    detail: args.flags.has('detail'),
    dnsPorts: ports.length ? [53, ...ports] : undefined,
    version: VERSION,
    consumeInputs: true,
    onProgress: (p) => {
      // Once the inputs are read, their bytes (given up with consumeInputs) are garbage: they are
      // collected now, before the correlator allocates its columns, not whenever V8 next decides
      // to (that timing moved the peak of a 100 MB capture by 50 MB). `gc` is there when Node
      // runs with --expose-gc, as the shebang has it.
      if (p.phase !== 'import' && !collected) {
        collected = true
        ;(globalThis as { gc?: () => void }).gc?.()
      }
      bar?.update(p.done, p.total, p.phase)
    },
  })
  bar?.finish()
  const readable = report.inputs.some((i) => !i.skipped && i.events > 0)
  const outPath = args.flags.get('out')?.at(-1) ?? args.flags.get('o')?.at(-1)
  const fd = outPath ? openSync(outPath, 'w') : null
  try {
    writeInPieces(renderReportChunks(report, format), (s) =>
      fd === null ? process.stdout.write(s) : writeSync(fd, s),
    )
  } finally {
    if (fd !== null) closeSync(fd)
  }
  const shareUrl = args.flags.get('share')?.at(-1)
  if (shareUrl && readable) {
    const created = await shareReport(report, shareUrl)
    process.stderr.write(
      `dnsbundle: shared at ${created.url}\n  delete with: curl -X DELETE -H 'Authorization: Bearer ${created.deleteToken}' ${shareUrl.replace(/\/$/, '')}/api/reports/${created.id}\n`,
    )
  }
  if (!readable) {
    const why = report.inputs.map(
      (i) => `${i.path}: ${i.skipped ?? i.problems[0]?.message ?? 'no events'}`,
    )
    process.stderr.write(`dnsbundle: nothing could be read (${why.join('; ') || 'no inputs'})\n`)
    return 2
  }
  return 0
}

// `dnsbundle analyze … | head` closes the pipe early: that is the reader's choice, not an error.
/** Writes `chunks` in pieces of about a megabyte: a --detail report can exceed a string's limit. */
function writeInPieces(chunks: Iterable<string>, write: (s: string) => unknown): void {
  let piece = ''
  for (const c of chunks) {
    piece += c
    if (piece.length >= 1 << 20) {
      write(piece)
      piece = ''
    }
  }
  if (piece) write(piece)
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw e
})

// Exit through exitCode, never process.exit(): a large report written to a pipe must be flushed.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`dnsbundle: ${e.message}\n\n${USAGE}\n`)
      process.exitCode = 1
      return
    }
    process.stderr.write(`dnsbundle: ${(e as Error).stack ?? e}\n`)
    process.exitCode = 3
  },
)
