// Process helpers for the lab: run a command to completion, start a background process with its
// output in files, and stop exactly the processes the lab started (by pid, never by name).
import { execFileSync, spawn } from 'node:child_process'
import { openSync, closeSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { RUN_DIR } from './config.mjs'

const STATE = `${RUN_DIR}/pids.json`

/** Runs a command and returns its stdout; throws with stderr on failure unless `ok` lists the code. */
export function sh(cmd, args, { input, allowFail = false, quiet = false } = {}) {
  try {
    return execFileSync(cmd, args, {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    })
  } catch (e) {
    if (allowFail) return e.stdout ?? ''
    const msg = `${cmd} ${args.join(' ')} failed: ${(e.stderr || e.message || '').trim()}`
    if (!quiet) console.error(msg)
    throw new Error(msg)
  }
}

/** Runs `cmd args` inside network namespace `ns`. */
export function nsx(ns, cmd, args, opts) {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], opts)
}

/** The raw table's PREROUTING rules of namespace `ns` with their exact packet counters. */
export function rawPrerouting(ns) {
  return nsx(ns, 'iptables', ['-t', 'raw', '-L', 'PREROUTING', '-v', '-x', '-n'])
}

const live = new Map()

function saveState() {
  mkdirSync(RUN_DIR, { recursive: true })
  const entries = [...live.values()].map((p) => ({ name: p.name, pid: p.child.pid, exe: p.exe }))
  writeFileSync(STATE, JSON.stringify(entries, null, 1))
}

/**
 * Starts a background process with stdout/stderr written to files. Resolves once `ready` (a regex)
 * appears in either stream, or at once without `ready`.
 */
export async function startBg(name, cmd, args, { out, err, ready, timeoutMs = 30_000, env } = {}) {
  mkdirSync(dirname(out), { recursive: true })
  const outFd = openSync(out, 'w')
  const errFd = openSync(err ?? out + '.err', 'w')
  const child = spawn(cmd, args, { stdio: ['ignore', outFd, errFd], env: env ?? process.env })
  closeSync(outFd)
  closeSync(errFd)
  const exe = args[0] === 'netns' ? args[3] : cmd
  const entry = { name, child, exe, exited: null, done: null }
  entry.done = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      entry.exited = { code, signal }
      resolve(entry.exited)
    })
    child.on('error', (e) => {
      entry.exited = { code: -1, signal: null, error: e.message }
      resolve(entry.exited)
    })
  })
  live.set(name, entry)
  saveState()
  if (ready) {
    const files = [out, err ?? out + '.err']
    const start = Date.now()
    while (!files.some((f) => ready.test(safeRead(f)))) {
      if (entry.exited)
        throw new Error(`${name} exited before it was ready: ${safeRead(files[1]).slice(-800)}`)
      if (Date.now() - start > timeoutMs)
        throw new Error(
          `${name} not ready after ${timeoutMs} ms: ${safeRead(files[1]).slice(-800)}`,
        )
      await sleep(50)
    }
  }
  return entry
}

/** Stops one started process: `signal` first, SIGKILL after `graceMs`. */
export async function stopBg(name, signal = 'SIGTERM', graceMs = 5000) {
  const entry = live.get(name)
  if (!entry) return null
  if (!entry.exited) {
    try {
      process.kill(entry.child.pid, signal)
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(entry.child.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }, graceMs)
    await entry.done
    clearTimeout(timer)
  }
  live.delete(name)
  saveState()
  return entry.exited
}

export function isRunning(name) {
  const e = live.get(name)
  return !!e && !e.exited
}

/** Waits for a started process to exit on its own (bounded). */
export async function waitBg(name, timeoutMs) {
  const entry = live.get(name)
  if (!entry) return null
  let timer
  const t = new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))
  const r = await Promise.race([entry.done, t])
  clearTimeout(timer)
  if (r === 'timeout') throw new Error(`${name} still running after ${timeoutMs} ms`)
  live.delete(name)
  saveState()
  return r
}

/** Stops everything this process started, in reverse start order. */
export async function stopAll() {
  for (const name of [...live.keys()].reverse()) await stopBg(name, 'SIGTERM', 3000)
}

/**
 * Kills processes a crashed earlier run left behind, from the pid file. A pid is only killed when
 * /proc/PID/cmdline still names the program the lab started (pids get reused).
 */
export function killRecorded() {
  if (!existsSync(STATE)) return
  let entries = []
  try {
    entries = JSON.parse(readFileSync(STATE, 'utf8'))
  } catch {
    /* unreadable: nothing to do */
  }
  for (const { pid, exe } of entries) {
    const cmdline = safeRead(`/proc/${pid}/cmdline`).split('\0')
    if (cmdline.some((a) => a === exe || a.endsWith('/' + exe))) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  }
  writeFileSync(STATE, '[]')
}

export function safeRead(f) {
  try {
    return readFileSync(f, 'utf8')
  } catch {
    return ''
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Pid of a process the lab started (with `ip netns exec`, the program itself: it execs). */
export function pidOf(name) {
  return live.get(name)?.child.pid
}
