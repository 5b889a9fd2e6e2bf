// The lab's application: real glibc getaddrinfo() lookups (Node's dns.lookup runs getaddrinfo on
// the libuv thread pool) with AF_UNSPEC and no AI_ADDRCONFIG, so glibc sends A and AAAA in
// parallel on one socket. Run it inside the pod namespace, where `ip netns exec` bind-mounts the
// pod's resolv.conf and nsswitch.conf.
//
// Usage: node client.mjs PLAN.json OUT.jsonl
//   PLAN: { "concurrency": 1, "lookups": [{ "name": "database", "at": 0 }, ...] }
//   `at` (ms after start) delays a lookup; lookups start in plan order, at most `concurrency` at once;
//   `gapMs` is a pause each worker takes between its lookups.
// Each finished lookup is one JSON line: { i, name, start, end (µs since epoch), ok, addresses, code }.
import { lookup } from 'node:dns'
import { readFileSync, appendFileSync, writeFileSync } from 'node:fs'

const [planPath, outPath] = process.argv.slice(2)
const plan = JSON.parse(readFileSync(planPath, 'utf8'))
writeFileSync(outPath, '')

const t0 = performance.now()
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000)

function resolve(name) {
  return new Promise((done) => {
    lookup(name, { all: true, family: 0, hints: 0, verbatim: true }, (err, addrs) =>
      done({ err, addrs }),
    )
  })
}

let next = 0
async function worker() {
  while (next < plan.lookups.length) {
    const i = next++
    const { name, at = 0 } = plan.lookups[i]
    const wait = at - (performance.now() - t0)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const start = nowUs()
    const { err, addrs } = await resolve(name)
    const end = nowUs()
    const rec = err
      ? { i, name, start, end, ok: false, addresses: [], code: err.code ?? String(err) }
      : { i, name, start, end, ok: true, addresses: addrs.map((a) => a.address), code: null }
    appendFileSync(outPath, JSON.stringify(rec) + '\n')
    if (plan.gapMs) await new Promise((r) => setTimeout(r, plan.gapMs))
  }
}

const concurrency = Math.max(1, Math.min(plan.concurrency ?? 1, 4))
await Promise.all(Array.from({ length: concurrency }, worker))
