// What the benchmarks share: timing a command as a process of its own.
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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
