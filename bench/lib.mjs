// What the benchmarks share: timing a command as a process of its own, and the core bundled
// for plain Node.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))

/** Runs a command under /usr/bin/time -v with stdout to /dev/null; returns wall seconds and peak RSS. */
export function timed(label, cmd, cmdArgs) {
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...cmdArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  const err = r.stderr ?? ''
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${err.slice(-800)}`)
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    err,
  )
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err)
  if (!wall || !rss) throw new Error(`cannot read /usr/bin/time output for ${label}`)
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3])
  return { label, seconds, rssMB: Number(rss[1]) / 1024 }
}

/**
 * Bundles the TypeScript core for plain Node with esbuild and imports it: `exports` is the body of
 * the entry module (export lines with paths from the repository's root).
 */
export async function importCore(exports) {
  const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-bench-'))
  const entry = join(dir, 'entry.mjs')
  await build({
    stdin: { contents: exports, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: entry,
    logLevel: 'warning',
  })
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return import(pathToFileURL(entry).href)
}
