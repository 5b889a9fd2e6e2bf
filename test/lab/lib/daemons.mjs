// The real DNS software and the recorders: nsd (upstream), unbound with dnstap through
// fstrm_capture (the "CoreDNS"), tcpdump at each vantage, bpftrace on skb:kfree_skb.
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { NS, ADDR, RUN_DIR, DROPS_SCRIPT } from './config.mjs'
import { unboundLocalData, nsdRootZone } from './zones.mjs'
import { startBg, stopBg, sleep, nsx } from './proc.mjs'

/**
 * Resolver `n` (1, or 2 for the second endpoint): its namespace, address, dnstap identity, and the
 * names of its files and processes (the first keeps the names it always had).
 */
export function resolverOf(n = 1) {
  const sfx = n === 1 ? '' : String(n)
  return {
    ns: n === 1 ? NS.dns : NS.dns2,
    addr: n === 1 ? ADDR.dns : ADDR.dns2,
    // The first talks to the upstream from its second interface; the second has none (it answers
    // cluster names from its own data, as each CoreDNS pod does).
    outgoing: n === 1 ? ADDR.dnsUpSide : ADDR.dns2,
    identity: n === 1 ? 'coredns-lab' : `coredns-lab-${n}`,
    dir: `${RUN_DIR}/unbound${sfx}`,
    sock: `${RUN_DIR}/dnstap${sfx}.sock`,
    unbound: `unbound${sfx}`,
    fstrm: `fstrm_capture${sfx}`,
  }
}

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
function unboundConf(r) {
  const dir = r.dir
  return `server:
  interface: ${r.addr}
  port: 53
  outgoing-interface: ${r.outgoing}
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
  dnstap-socket-path: "${r.sock}"
  dnstap-send-identity: yes
  dnstap-identity: "${r.identity}"
  dnstap-send-version: yes
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
  dnstap-log-forwarder-query-messages: yes
  dnstap-log-forwarder-response-messages: yes
`
}

/**
 * Starts fstrm_capture, then unbound (which connects to it), and waits until unbound listens.
 * `n` is the resolver (resolverOf).
 */
export async function startResolver(dnstapFile, n = 1) {
  const r = resolverOf(n)
  mkdirSync(r.dir, { recursive: true })
  writeFileSync(join(r.dir, 'unbound.conf'), unboundConf(r))
  const fstrm = await startBg(
    r.fstrm,
    'fstrm_capture',
    ['-t', 'protobuf:dnstap.Dnstap', '-u', r.sock, '-w', dnstapFile],
    { out: `${RUN_DIR}/${r.fstrm}.log` },
  )
  for (let i = 0; i < 200 && !existsSync(r.sock); i++) await sleep(25)
  if (!existsSync(r.sock)) throw new Error(`${r.fstrm} did not create its socket`)
  const unbound = await startBg(
    r.unbound,
    'ip',
    ['netns', 'exec', r.ns, 'unbound', '-d', '-c', join(r.dir, 'unbound.conf')],
    { out: `${RUN_DIR}/${r.unbound}.log`, ready: /start of service/ },
  )
  await waitUdpListen(r.ns, r.addr)
  // unbound's dnstap thread connects in the background: give it a moment so the first client
  // messages are not queued before the connection exists.
  await sleep(300)
  return { fstrm, unbound }
}

/** Stops unbound first so it flushes dnstap, then fstrm_capture so it closes the file cleanly. */
export async function stopResolver(n = 1) {
  const r = resolverOf(n)
  await stopBg(r.unbound, 'SIGTERM', 5000)
  await sleep(200)
  await stopBg(r.fstrm, 'SIGTERM', 5000)
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
