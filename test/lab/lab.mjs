#!/usr/bin/env node
// The DNS lab: real glibc, unbound (dnstap), nsd, tcpdump and bpftrace in network namespaces.
// Usage (root):  node test/lab/lab.mjs setup | run <scenario>... | all | teardown | list
//                npm run lab -- <scenario>      (a bare scenario name means `run`)
// Each run writes test/lab/.out/<scenario>/bundle/ (manifest.json + evidence) and truth.json.
import { spawn } from 'node:child_process'
import { setup, teardown } from './lib/topology.mjs'
import { runScenario, scenarioIds } from './lib/run.mjs'
import { LAB_LOCK } from './lib/config.mjs'

const [cmd = 'list', ...rest] = process.argv.slice(2)
const BUSY = 75

/**
 * Re-runs this command as `flock -F LAB_LOCK node lab.mjs ...`: flock(1) execs the lab, which
 * holds the lock until it exits (the kernel releases it even on SIGKILL). SIGTERM is passed on;
 * a terminal's SIGINT reaches the lab itself. Resolves to the lab's exit code.
 */
async function underLabLock() {
  for (const wait of [false, true]) {
    const args = ['-F', '-E', String(BUSY), ...(wait ? ['-w', '1800'] : ['-n']), LAB_LOCK]
    const child = spawn('flock', [...args, process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, DNSLAB_LOCK_HELD: '1' },
    })
    const term = () => child.kill('SIGTERM')
    const ignore = () => {}
    process.on('SIGTERM', term)
    process.on('SIGINT', ignore)
    const code = await new Promise((r) => child.on('exit', (c, sig) => r(c ?? (sig ? 128 : 1))))
    process.removeListener('SIGTERM', term)
    process.removeListener('SIGINT', ignore)
    if (code !== BUSY) return code
    if (wait) throw new Error(`another lab run still holds ${LAB_LOCK} after 30 min`)
    console.log(`lab: another lab run holds ${LAB_LOCK}; waiting for it to finish`)
  }
}

async function main() {
  if (process.getuid?.() !== 0)
    throw new Error('the lab needs root (network namespaces, iptables, bpftrace)')
  if (cmd === 'list') return console.log(scenarioIds().join('\n'))
  if (!process.env.DNSLAB_LOCK_HELD) {
    process.exitCode = await underLabLock()
    return
  }
  if (cmd === 'setup') {
    await teardown()
    setup()
    return console.log('lab: namespaces up; `teardown` removes them')
  }
  if (cmd === 'teardown') {
    await teardown()
    return console.log('lab: removed')
  }
  const ids = cmd === 'all' ? scenarioIds() : cmd === 'run' ? rest : [cmd, ...rest]
  if (!ids.length) throw new Error('which scenario? ' + scenarioIds().join(', '))
  let failed = 0
  for (const id of ids) {
    const { truth } = await runScenario(id)
    failed += truth.checks.filter((c) => !c.ok).length
  }
  if (failed) {
    console.error(`lab: ${failed} truth check(s) failed: see truth.json "checks"`)
    process.exitCode = 1
  }
}

main().catch(async (e) => {
  console.error(`lab: ${e.message}`)
  if (process.env.DNSLAB_LOCK_HELD) await teardown().catch(() => {})
  process.exitCode = 1
})
