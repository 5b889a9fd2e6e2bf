// Node-side collection, run on a Kubernetes node as root: kernel, conntrack statistics, table fill
// and DNS flows, the kernel log, IPVS tables, the node's resolv.conf, a capture of port 53 on
// every interface and a bpftrace trace of the kernel's DNS packet drops, both for the same window.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BundleWriter } from './bundle-writer.js'

export interface NodeOptions {
  durationSec: number
  /** tcpdump interface; `any` captures every interface (Linux SLL2). */
  iface: string
  ports: number[]
  nodeName: string
  log: (msg: string) => void
  now: () => Date
}

/** Commands whose output is a node fact: [file, manifest kind, argv]. */
const FACTS: [string, string, string[]][] = [
  ['uname-r.txt', 'uname', ['uname', '-r']],
  ['conntrack-S.txt', 'conntrack-stats', ['conntrack', '-S']],
  [
    'conntrack-count.txt',
    'conntrack-count',
    ['sysctl', 'net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'],
  ],
  ['dmesg.txt', 'kernel-log', ['dmesg']],
  ['ipvsadm-Ln.txt', 'ipvsadm', ['ipvsadm', '-Ln']],
  ['ipvsadm-Lnc.txt', 'ipvsadm', ['ipvsadm', '-Lnc']],
]

/**
 * Taken when the capture window ends, so that they hold its flows: the DNS flows of the conntrack
 * table (only those: a full table is hundreds of thousands of entries), which the
 * conntrack-stale-dns rule reads for an [UNREPLIED] entry to a CoreDNS pod that is gone.
 */
const AFTER_WINDOW: [string, string, string[]][] = [
  ['conntrack-L-dns.txt', 'conntrack-list', ['conntrack', '-L', '-p', 'udp', '--dport', '53']],
]

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      argv[0],
      argv.slice(1),
      { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error((stderr || err.message).trim().split('\n')[0]))
        else resolve(stdout)
      },
    )
  })
}

export async function collectNode(w: BundleWriter, o: NodeOptions): Promise<void> {
  const vantage = {
    id: `node/${o.nodeName}`,
    type: 'node' as const,
    name: o.nodeName,
    node: o.nodeName,
  }
  const facts = async (list: [string, string, string[]][]) => {
    for (const [file, kind, argv] of list) {
      try {
        const out = await run(argv)
        // Nothing printed (no DNS flow in the conntrack table) is said in the notes, not as an
        // empty file the analysis would list as skipped.
        if (out.trim() === '') w.note(`${argv.join(' ')}: printed nothing`)
        else w.add(`nodes/${o.nodeName}/${file}`, out, { kind, command: argv.join(' '), vantage })
      } catch (e) {
        w.note(`${argv.join(' ')}: ${(e as Error).message}`)
      }
    }
  }
  await facts(FACTS)
  if (existsSync('/etc/resolv.conf'))
    w.add(`nodes/${o.nodeName}/resolv.conf`, readFileSync('/etc/resolv.conf'), {
      kind: 'resolv-conf',
      command: 'cat /etc/resolv.conf',
      vantage,
    })

  const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-collect-'))
  try {
    const start = o.now()
    const filter = o.ports.map((p) => `port ${p}`).join(' or ')
    const pcap = join(dir, 'dns.pcap')
    const tcpdump = spawn('tcpdump', ['-i', o.iface, '-U', '-n', '-s', '0', '-w', pcap, filter], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let tcpdumpErr = ''
    tcpdump.stderr.on('data', (d) => (tcpdumpErr += d))
    tcpdump.on('error', (e) => (tcpdumpErr += e.message))
    const bt = startBpftrace(dir)
    o.log(`node: capturing port ${o.ports.join(',')} on ${o.iface} for ${o.durationSec}s`)
    await new Promise((r) => setTimeout(r, o.durationSec * 1000))
    const end = o.now()
    await facts(AFTER_WINDOW)
    await stop(tcpdump)
    const window = { start: start.toISOString(), end: end.toISOString() }
    if (existsSync(pcap))
      w.add(`nodes/${o.nodeName}/dns.pcap`, readFileSync(pcap), {
        kind: 'pcap',
        command: `tcpdump -i ${o.iface} -w dns.pcap ${filter}`,
        vantage,
        window,
      })
    else w.note(`tcpdump: ${tcpdumpErr.trim() || 'no capture written'}`)
    const drops = bt ? await bt.finish() : null
    if (drops?.output)
      w.add(`nodes/${o.nodeName}/dns-drops.txt`, drops.output, {
        kind: 'bpf-drop-table',
        command: 'bpftrace -B line dns-drops.bt',
        vantage,
        window,
      })
    else w.note(`bpftrace: ${drops?.error || 'not available'}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function stop(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.on('exit', () => resolve())
    child.kill('SIGINT')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })
}

function dropsScript(): string | null {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const p of [
    join(here, 'scripts/dns-drops.bt'),
    join(here, '../collector/scripts/dns-drops.bt'),
    join(here, '../scripts/dns-drops.bt'),
  ])
    if (existsSync(p)) return p
  return null
}

/** Starts bpftrace on the drop script when both exist; mounts tracefs only if it is missing. */
function startBpftrace(
  dir: string,
): { finish: () => Promise<{ output: string; error: string }> } | null {
  const script = dropsScript()
  if (!script) return null
  let mounted = false
  if (!existsSync('/sys/kernel/tracing/events')) {
    try {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'])
      mounted = true
    } catch {
      /* bpftrace will say what is wrong */
    }
  }
  const out = join(dir, 'drops.txt')
  // -B line: bpftrace 0.17 holds `-o` output in a buffer until it exits; line buffering does not.
  const fd = openSync(out, 'w')
  const child = spawn('bpftrace', ['-B', 'line', script], { stdio: ['ignore', fd, 'pipe'] })
  closeSync(fd)
  let error = ''
  child.stderr?.on('data', (d) => (error += d))
  child.on('error', (e) => (error += e.message))
  return {
    finish: async () => {
      await stop(child)
      // Unmount what we mounted, unless another tracer still uses it.
      if (mounted && !otherBpftrace()) execFileSync('umount', ['/sys/kernel/tracing'])
      return { output: existsSync(out) ? readFileSync(out, 'utf8') : '', error: error.trim() }
    },
  }
}

function otherBpftrace(): boolean {
  try {
    return execFileSync('pgrep', ['-x', 'bpftrace'], { encoding: 'utf8' }).trim() !== ''
  } catch {
    return false
  }
}

export function defaultNodeName(): string {
  return process.env.NODE_NAME || hostname()
}
