#!/usr/bin/env node
// The DNS lab: real glibc, unbound (dnstap), nsd, tcpdump and bpftrace in network namespaces.
// Usage (root):  node test/lab/lab.mjs setup | run <scenario>... | all | teardown | list
//                npm run lab -- <scenario>      (a bare scenario name means `run`)
// Each run writes test/lab/.out/<scenario>/bundle/ (manifest.json + evidence) and truth.json.
import { setup, teardown } from './lib/topology.mjs'
import { runScenario, scenarioIds } from './lib/run.mjs'

const [cmd = 'list', ...rest] = process.argv.slice(2)

async function main() {
  if (process.getuid?.() !== 0)
    throw new Error('the lab needs root (network namespaces, iptables, bpftrace)')
  if (cmd === 'list') return console.log(scenarioIds().join('\n'))
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
  await teardown().catch(() => {})
  process.exitCode = 1
})
