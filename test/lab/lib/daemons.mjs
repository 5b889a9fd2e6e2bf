// The real DNS software and the recorders: nsd (upstream), unbound with dnstap through
// fstrm_capture (the "CoreDNS"), tcpdump at each vantage, bpftrace on skb:kfree_skb.
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { NS, ADDR, RUN_DIR, DROPS_SCRIPT } from './config.mjs'
import { unboundLocalData, nsdRootZone } from './zones.mjs'
import { startBg, stopBg, sleep, nsx } from './proc.mjs'

export const DNSTAP_SOCK = `${RUN_DIR}/dnstap.sock`

export async function startUpstream() {
  const dir = `${RUN_DIR}/nsd`
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'root.zone'), nsdRootZone())
  writeFileSync(
    join(dir, 'nsd.conf'),
    `server:
  ip-address: ${ADDR.upstream}
  port: 53
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  verbosity: 1
  hide-version: yes
  # nsd rate-limits responses by default; the lab's load must not be shaped by RRL.
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "."
  zonefile: "root.zone"
`,
  )
  return startBg('nsd', 'ip', ['netns', 'exec', NS.up, 'nsd', '-d', '-c', join(dir, 'nsd.conf')], {
    out: `${RUN_DIR}/nsd.log`,
    ready: /nsd started|zone \. read|serving/i,
  }).then(async (p) => {
    await waitUdpListen(NS.up, ADDR.upstream)
    return p
  })
}

/** unbound config: cluster.local from local-data, everything else forwarded to the upstream. */
function unboundConf(dir) {
  return `server:
  interface: ${ADDR.dns}
  port: 53
  outgoing-interface: ${ADDR.dnsUpSide}
  access-control: 10.253.0.0/16 allow
  do-ip6: no
  num-threads: 1
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "iterator"
  qname-minimisation: no
  minimal-responses: yes
  prefetch: no
  # unbound waits a long time on a dead forwarder before it answers SERVFAIL; keep it bounded.
  infra-cache-max-rtt: 2000
  local-zone: "cluster.local." static
${unboundLocalData()}

forward-zone:
  name: "."
  forward-addr: ${ADDR.upstream}

remote-control:
  control-enable: no

dnstap:
  dnstap-enable: yes
  dnstap-socket-path: "${DNSTAP_SOCK}"
  dnstap-send-identity: yes
  dnstap-identity: "coredns-lab"
  dnstap-send-version: yes
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
  dnstap-log-forwarder-query-messages: yes
  dnstap-log-forwarder-response-messages: yes
`
}

/** Starts fstrm_capture, then unbound (which connects to it), and waits until unbound listens. */
export async function startResolver(dnstapFile) {
  const dir = `${RUN_DIR}/unbound`
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'unbound.conf'), unboundConf(dir))
  const fstrm = await startBg(
    'fstrm_capture',
    'fstrm_capture',
    ['-t', 'protobuf:dnstap.Dnstap', '-u', DNSTAP_SOCK, '-w', dnstapFile],
    { out: `${RUN_DIR}/fstrm_capture.log` },
  )
  for (let i = 0; i < 200 && !existsSync(DNSTAP_SOCK); i++) await sleep(25)
  if (!existsSync(DNSTAP_SOCK)) throw new Error('fstrm_capture did not create its socket')
  const unbound = await startBg(
    'unbound',
    'ip',
    ['netns', 'exec', NS.dns, 'unbound', '-d', '-c', join(dir, 'unbound.conf')],
    { out: `${RUN_DIR}/unbound.log`, ready: /start of service/ },
  )
  await waitUdpListen(NS.dns, ADDR.dns)
  // unbound's dnstap thread connects in the background: give it a moment so the first client
  // messages are not queued before the connection exists.
  await sleep(300)
  return { fstrm, unbound }
}

/** Stops unbound first so it flushes dnstap, then fstrm_capture so it closes the file cleanly. */
export async function stopResolver() {
  await stopBg('unbound', 'SIGTERM', 5000)
  await sleep(200)
  await stopBg('fstrm_capture', 'SIGTERM', 5000)
}

async function waitUdpListen(ns, addr) {
  for (let i = 0; i < 200; i++) {
    const out = nsx(ns, 'ss', ['-ulnH'], { allowFail: true })
    if (out.includes(`${addr}:53`)) return
    await sleep(25)
  }
  throw new Error(`nothing listens on ${addr}:53 in ${ns}`)
}

/**
 * tcpdump on every interface of a namespace (`-i any`: SLL2), DNS and ICMP only, unbuffered.
 * Immediate mode uses TPACKET_V2, whose ring slots are snaplen-sized: a small snaplen keeps
 * thousands of slots in the buffer, so a busy machine does not make tcpdump drop.
 */
export function startCapture(name, ns, file) {
  return startBg(
    name,
    'ip',
    [
      'netns',
      'exec',
      ns,
      'tcpdump',
      '-i',
      'any',
      '-n',
      '-U',
      '--immediate-mode',
      '-Z',
      'root',
      '-s',
      '2048',
      '-B',
      '32768',
      '-w',
      file,
      'port 53 or icmp',
    ],
    { out: `${RUN_DIR}/${name}.log`, err: `${RUN_DIR}/${name}.log.err`, ready: /listening on/ },
  )
}

/** Stops a tcpdump and returns its own counters (captured / dropped by kernel). */
export async function stopCapture(name) {
  await stopBg(name, 'SIGINT', 5000)
  const text = readFileSync(`${RUN_DIR}/${name}.log.err`, 'utf8')
  const num = (re) => Number((text.match(re) ?? [])[1] ?? NaN)
  return {
    captured: num(/(\d+) packets? captured/),
    received: num(/(\d+) packets? received by filter/),
    droppedByKernel: num(/(\d+) packets? dropped by kernel/),
  }
}

/**
 * The product's collector/scripts/dns-drops.bt, as `dnsbundle collect --node` runs it
 * (`bpftrace -B line dns-drops.bt > FILE`). It traces every port-53 drop on the machine; the
 * lab splits its rows by the NETNS column. Ready once BEGIN has printed the column header.
 */
export async function startDropTrace(out) {
  // A bigger perf ring per CPU: a burst of socket drops must not cost bpftrace lost events.
  const env = { ...process.env, BPFTRACE_PERF_RB_PAGES: '1024' }
  return startBg('bpftrace', 'bpftrace', ['-B', 'line', DROPS_SCRIPT], {
    env,
    out,
    err: `${RUN_DIR}/bpftrace.err`,
    ready: /^TIME NSECS PID COMM REASON /m,
    timeoutMs: 120_000,
  })
}

export function netnsInode(ns) {
  const link = nsx(ns, 'readlink', ['/proc/self/ns/net']).trim()
  return (link.match(/\[(\d+)\]/) ?? [])[1] ?? ''
}
