// The `dnsbundle` command line: analyze, pack, collect, serve.
import { writeFileSync } from 'node:fs'
import { analyzeBundle } from '../core/analyze.js'
import { renderReport, type ReportFormat } from '../core/report/render.js'
import { readInputs } from './read-inputs.js'
import { VERSION } from './version.js'
import { ProgressBar } from './progress.js'
import { pack } from './pack.js'

const USAGE = `dnsbundle ${VERSION}: collect and analyze DNS evidence from Kubernetes incidents

Usage:
  dnsbundle analyze <path>... [--format text|json|md|html] [--out FILE] [--detail] [--port N]...
  dnsbundle pack <dir> -o bundle.zip
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
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`)
  }
}

function packCommand(argv: string[]): number {
  const args = parseArgs(argv, new Set())
  const out = args.flags.get('o')?.at(-1) ?? args.flags.get('out')?.at(-1)
  if (args.positional.length !== 1 || !out) throw new UsageError('pack needs <dir> and -o bundle.zip')
  const r = pack(args.positional[0], out)
  process.stderr.write(
    `dnsbundle: packed ${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB) into ${out}${r.manifestWritten ? ' with a generated manifest.json' : ''}\n`,
  )
  return 0
}

function analyzeCommand(argv: string[]): number {
  const args = parseArgs(argv, new Set(['detail', 'quiet', 'q']))
  if (args.positional.length === 0) throw new UsageError('analyze needs at least one path')
  const format = (args.flags.get('format')?.at(-1) ?? 'text') as ReportFormat
  if (!['text', 'json', 'md', 'html'].includes(format))
    throw new UsageError(`--format must be text, json, md or html, not ${JSON.stringify(format)}`)
  const ports = (args.flags.get('port') ?? []).map((p) => {
    const n = Number(p)
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port ${p} is not a port`)
    return n
  })
  const bundle = readInputs(args.positional)
  const totalBytes = bundle.files.reduce((n, f) => n + f.bytes.length, 0)
  const bar = !args.flags.has('quiet') && !args.flags.has('q') && totalBytes > 4 * 1024 * 1024
    ? new ProgressBar(process.stderr)
    : null
  const report = analyzeBundle(bundle, {
    detail: args.flags.has('detail'),
    dnsPorts: ports.length ? [53, ...ports] : undefined,
    version: VERSION,
    onProgress: bar ? (p) => bar.update(p.done, p.total, p.phase) : undefined,
  })
  bar?.finish()
  const readable = report.inputs.some((i) => !i.skipped && i.events > 0)
  const out = renderReport(report, format)
  const outPath = args.flags.get('out')?.at(-1) ?? args.flags.get('o')?.at(-1)
  if (outPath) writeFileSync(outPath, out)
  else process.stdout.write(out)
  if (!readable) {
    const why = report.inputs.map((i) => `${i.path}: ${i.skipped ?? i.problems[0]?.message ?? 'no events'}`)
    process.stderr.write(`dnsbundle: nothing could be read (${why.join('; ') || 'no inputs'})\n`)
    return 2
  }
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`dnsbundle: ${e.message}\n\n${USAGE}\n`)
      process.exit(1)
    }
    process.stderr.write(`dnsbundle: ${(e as Error).stack ?? e}\n`)
    process.exit(3)
  },
)
