// collector/scripts/dns-drops.bt for real: in a network namespace of our own, an iptables INPUT
// DROP rule eats a dig query to port 53; the script must print that drop with reason
// NETFILTER_DROP, and the bpf-drop-table importer must read it back. Needs root and bpftrace
// (CI has both); elsewhere it is skipped, and in CI a missing prerequisite fails it.
// bpftrace takes tens of seconds to start here (it reads the kernel's BTF for struct sk_buff).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DropEvent } from '../../core/model/event.js'
import { bpfDropTable } from '../../core/importers/bpf-drop-table.js'
import { detectImporter } from '../../core/importers/index.js'
import { repoRoot, run } from './nodefacts-helpers.js'
import { acquireTracefs, releaseTracefs, TRACEFS } from '../support/tracefs.mjs'

const script = join(repoRoot, 'collector/scripts/dns-drops.bt')
const isRoot = process.getuid?.() === 0
const hasBpftrace = spawnSync('bpftrace', ['--version']).status === 0
const live = isRoot && hasBpftrace
const ns = `nf-test-drops-${process.pid}`
let usingTracefs = false
let tracer: ChildProcess | null = null

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`)
  return r.stdout
}

async function waitFor(what: string, check: () => boolean, ms: number) {
  const end = performance.now() + ms
  while (performance.now() < end) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

afterAll(async () => {
  if (tracer && tracer.exitCode === null) {
    tracer.kill('SIGINT')
    await new Promise((r) => setTimeout(r, 500))
    if (tracer.exitCode === null) tracer.kill('SIGKILL')
  }
  if (tracer && tracer.exitCode === null && tracer.signalCode === null)
    await new Promise((r) => tracer!.once('exit', r))
  if (existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'del', ns])
  // Shared with the DNS lab: unmounted only when the last user leaves and no bpftrace runs.
  if (usingTracefs) releaseTracefs()
})

describe('dns-drops.bt, live', () => {
  it(
    'catches an iptables DROP of a DNS query as NETFILTER_DROP, and imports it',
    { timeout: 180_000 },
    async (ctx) => {
      if (!live) {
        // CI runs as root with bpftrace installed (.ci/run): there a missing prerequisite is a failure.
        if (process.env.CI)
          expect({ isRoot, hasBpftrace }).toEqual({ isRoot: true, hasBpftrace: true })
        ctx.skip('needs root and bpftrace')
      }
      usingTracefs = true
      expect(acquireTracefs().mounted, `tracefs at ${TRACEFS}`).toBe(true)
      sh('ip', ['netns', 'add', ns])
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      sh('ip', [
        'netns',
        'exec',
        ns,
        'iptables',
        '-A',
        'INPUT',
        '-p',
        'udp',
        '--dport',
        '53',
        '-j',
        'DROP',
      ])
      const nsInode = sh('stat', ['-L', '-c', '%i', `/run/netns/${ns}`]).trim()

      // Line-buffered stdout: each row arrives as it is printed (a -o file is block-buffered).
      tracer = spawn('bpftrace', ['-B', 'line', script], { stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      let stderr = ''
      tracer.stdout!.on('data', (d) => (output += d))
      tracer.stderr!.on('data', (d) => (stderr += d))
      const read = () => output
      await waitFor(
        'the header (probes attached)',
        () => read().includes('TIME NSECS PID COMM REASON'),
        120_000,
      ).catch((e) => {
        throw new Error(`${e.message}; bpftrace said: ${stderr}`)
      })

      // A source port of our own, so drops from anything else on this machine cannot match.
      const port = 40_000 + (process.pid % 20_000)
      const before = Date.now() * 1000
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'dig',
          '+tries=1',
          '+time=1',
          '-b',
          `127.0.0.1#${port}`,
          '@127.0.0.1',
          'dropped.example',
        ],
        {
          timeout: 10_000,
        },
      )
      const after = Date.now() * 1000
      await waitFor('the drop row', () => read().includes(`127.0.0.1:${port} 127.0.0.1:53`), 10_000)
      tracer.kill('SIGINT')
      await new Promise((r) => tracer!.once('exit', r))

      const bytes = new TextEncoder().encode(output)
      expect(detectImporter(bytes.subarray(0, 65536), 'trace-output')).toMatchObject({
        importer: { id: 'bpf-drop-table' },
      })
      const r = run(bpfDropTable, bytes)
      expect(r.problems).toEqual([])
      const mine = (r.events as DropEvent[]).filter((e) => e.srcPort === port)
      expect(mine).toHaveLength(1)
      expect(mine[0]).toMatchObject({
        kind: 'drop',
        tool: 'dns-drops.bt',
        protocol: 'udp',
        reason: 'NETFILTER_DROP',
        srcAddr: '127.0.0.1',
        dstAddr: '127.0.0.1',
        dstPort: 53,
        details: { netns: nsInode },
      })
      expect(mine[0].func).toMatch(/^(?:nft_do_chain|ipt_do_table|nf_hook_slow)$/)
      // An absolute wall-clock time, within the dig's run (1 ms slack for strftime's boot offset).
      expect(mine[0].time).toBeGreaterThanOrEqual(before - 1000)
      expect(mine[0].time).toBeLessThanOrEqual(after + 1000)
    },
  )
})
