// A tracefs mount that test processes share: bpftrace needs /sys/kernel/tracing, and two tests
// that each "mount if missing, unmount what I mounted" pull it from under each other when they
// run at once (the DNS lab in test/lab, test/importers/bpftrace-live.test.ts).
//
// Protocol: each user registers as /run/dnsbundle-tracefs/users/PID-STARTTIME. Whoever finds
// tracefs missing mounts it and leaves the marker /run/dnsbundle-tracefs/mounted. The last user
// to leave unmounts it, if the marker says we mounted it and no bpftrace is running anywhere.
// Every step runs under flock(1) on /run/dnsbundle-tracefs.lock: the kernel drops that lock
// when its holder dies, so a killed test cannot wedge the next one. A user whose process is gone
// (its pid's start time no longer matches) is dropped at the next acquire or release.
//
// Plain JavaScript, not TypeScript: the lab runs under plain `node` (20), which cannot load .ts.
// Types: tracefs.d.mts.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const TRACEFS = '/sys/kernel/tracing'
const STATE = process.env.DNSBUNDLE_TRACEFS_STATE ?? '/run/dnsbundle-tracefs'
const LOCK = `${STATE}.lock`
const USERS = join(STATE, 'users')
const MARKER = join(STATE, 'mounted')
const SELF = fileURLToPath(import.meta.url)

/**
 * Registers this process as a tracefs user and mounts tracefs if it is missing. Throws when
 * tracefs is still missing afterwards. Example: `acquireTracefs(); ...bpftrace...; releaseTracefs()`
 */
export function acquireTracefs() {
  return locked('acquire')
}

/**
 * Unregisters this process; the last user unmounts tracefs if one of us mounted it and no
 * bpftrace is running. Safe to call when not registered.
 */
export function releaseTracefs() {
  return locked('release')
}

/** Whether tracefs is mounted at /sys/kernel/tracing (per /proc/self/mounts). */
export function tracefsMounted() {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => {
      const [, where, type] = l.split(' ')
      return where === TRACEFS && type === 'tracefs'
    })
}

/** Runs `op` for this process in a child that holds the lock (flock -w 60). */
function locked(op) {
  const args = ['-w', '60', LOCK, process.execPath, SELF, op, String(process.pid)]
  const r = spawnSync('flock', args, { encoding: 'utf8', timeout: 90_000 })
  if (r.status !== 0)
    throw new Error(`tracefs ${op}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`)
  return JSON.parse(r.stdout)
}

/** Field 22 of /proc/PID/stat (after the parenthesised comm, which may hold spaces), or null. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

/** Drops the users whose process is gone; returns the ones left. */
function liveUsers() {
  mkdirSync(USERS, { recursive: true })
  const left = []
  for (const name of readdirSync(USERS)) {
    const [pid, start] = name.split('-')
    if (startTime(pid) === start) left.push(name)
    else rmSync(join(USERS, name), { force: true })
  }
  return left
}

function bpftraceRunning() {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bpftrace') return true
    } catch {
      /* exited meanwhile */
    }
  }
  return false
}

/** The locked section, run as `flock LOCK node tracefs.mjs acquire|release PID`. */
function main(op, pid) {
  const me = `${pid}-${startTime(pid)}`
  if (op === 'acquire') {
    liveUsers()
    if (!tracefsMounted()) {
      const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`mount -t tracefs: ${r.stderr.trim()}`)
      writeFileSync(MARKER, `${me}\n`)
    }
    writeFileSync(join(USERS, me), '')
    return { mounted: tracefsMounted(), users: liveUsers().length }
  }
  if (op === 'release') {
    rmSync(join(USERS, me), { force: true })
    const users = liveUsers().length
    let unmounted = false
    if (!users && existsSync(MARKER) && !bpftraceRunning()) {
      if (tracefsMounted()) unmounted = spawnSync('umount', [TRACEFS]).status === 0
      if (unmounted || !tracefsMounted()) rmSync(MARKER, { force: true })
    }
    return { users, unmounted }
  }
  throw new Error(`unknown op ${op}`)
}

if (process.argv[1] === SELF) {
  try {
    const [op, pid] = process.argv.slice(2)
    process.stdout.write(JSON.stringify(main(op, pid)) + '\n')
  } catch (e) {
    process.stderr.write(`${e.message}\n`)
    process.exitCode = 1
  }
}
