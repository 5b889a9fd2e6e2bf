import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, release } from 'node:os'
import { join } from 'node:path'
import { unzipSync, strFromU8 } from 'fflate'
import { REPO_ROOT } from '../corpus.js'

// Runs the real node collection inside a network namespace of its own: tcpdump, uname, conntrack,
// sysctl and dmesg for real, with dig sending queries nobody answers on the namespace's loopback.
const NETNS = `dnsb-collect-${process.pid}`
const CLI = join(REPO_ROOT, 'dist/dnsbundle.mjs')
const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-node-'))
const isRoot = process.getuid?.() === 0

beforeAll(() => {
  if (!isRoot) return
  execFileSync('ip', ['netns', 'add', NETNS])
  execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up'])
  // A rule that matches on conntrack state: the namespace's flows are then tracked.
  execFileSync('ip', [
    ...['netns', 'exec', NETNS, 'iptables', '-A', 'OUTPUT', '-p', 'udp', '--dport', '53'],
    ...['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT'],
  ])
})
afterAll(() => {
  if (isRoot) execFileSync('ip', ['netns', 'del', NETNS])
  rmSync(dir, { recursive: true, force: true })
})

describe.runIf(isRoot || process.env.CI)('dnsbundle collect --node', () => {
  it('captures port 53 and records the node facts for the window', async () => {
    const out = join(dir, 'node.zip')
    const collector = spawn(
      'ip',
      [
        'netns',
        'exec',
        NETNS,
        process.execPath,
        CLI,
        'collect',
        '--node',
        '--duration',
        '4',
        '--iface',
        'lo',
        '--node-name',
        'lab-node',
        '-o',
        out,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    collector.stderr.on('data', (d) => (stderr += d))
    // Give tcpdump a moment to open the interface, then ask three times.
    await new Promise((r) => setTimeout(r, 1500))
    for (const name of ['one.example', 'two.example', 'three.example'])
      spawn('ip', ['netns', 'exec', NETNS, 'dig', '@127.0.0.1', '+tries=1', '+timeout=1', name], {
        stdio: 'ignore',
      })
    const code = await new Promise((r) => collector.on('exit', r))
    expect(stderr).toContain('wrote')
    expect(code).toBe(0)
    const zip = unzipSync(readFileSync(out))
    const manifest = JSON.parse(strFromU8(zip['manifest.json']))
    const kinds = manifest.files.map((f: { kind: string }) => f.kind)
    expect(kinds).toContain('pcap')
    expect(kinds).toContain('uname')
    const kernel = manifest.files.find((f: { kind: string }) => f.kind === 'uname')
    expect(strFromU8(zip[kernel.path]).trim()).toBe(release())
    expect(kernel.vantage).toMatchObject({ type: 'node', name: 'lab-node' })
    const pcap = manifest.files.find((f: { kind: string }) => f.kind === 'pcap')
    // tshark, an independent decoder, sees the three queries in what was collected.
    const tmp = join(dir, 'got.pcap')
    writeFileSync(tmp, zip[pcap.path])
    const names = execFileSync(
      'tshark',
      ['-r', tmp, '-Y', 'dns.flags.response == 0', '-T', 'fields', '-e', 'dns.qry.name'],
      { encoding: 'utf8' },
    )
    expect(new Set(names.trim().split('\n'))).toEqual(
      new Set(['one.example', 'two.example', 'three.example']),
    )
    // The window's DNS flows, listed when it ended: the three unanswered queries, each from
    // the source port tshark saw it leave from.
    const flows = manifest.files.find((f: { kind: string }) => f.kind === 'conntrack-list')
    expect(flows?.command).toBe('conntrack -L -p udp --dport 53')
    const ports = execFileSync(
      'tshark',
      ['-r', tmp, '-Y', 'dns.flags.response == 0', '-T', 'fields', '-e', 'udp.srcport'],
      { encoding: 'utf8' },
    )
    const listed = strFromU8(zip[flows.path])
      .trim()
      .split('\n')
      .map((l) => /sport=(\d+) dport=53 \[UNREPLIED\]/.exec(l)?.[1])
    expect(new Set(listed)).toEqual(new Set(ports.trim().split('\n')))
  })
})
