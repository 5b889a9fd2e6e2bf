// The lab's network: four namespaces joined by veth pairs, and the node's kube-proxy-style DNAT.
//
//   dnslab-pod  eth0 10.253.1.2 (+ .3 for dnsperf)
//        |  veth
//   dnslab-node vethpod 10.253.1.1 | vethdns 10.253.2.1   (Service 10.253.255.10:53 -> 10.253.2.2:53)
//        |  veth
//   dnslab-dns  eth0 10.253.2.2 (unbound, "CoreDNS") | eth1 10.253.3.1
//        |  veth
//   dnslab-up   eth0 10.253.3.2 (nsd, the "external" upstream)
//
//   dnslab-dns2 eth0 10.253.4.2, on the node's vethdns2 10.253.4.1: a second resolver, which the
//               `replica` scenario adds to the Service as kube-proxy adds a second endpoint
import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { NS, ADDR, RUN_DIR, PREFIX, resolvConf } from './config.mjs'
import { sh, nsx, killRecorded, sleep } from './proc.mjs'
import { acquireTracefs, releaseTracefs } from '../../support/tracefs.mjs'

export const CGROUP = `/sys/fs/cgroup/cpu/${PREFIX}unbound`
/** Whether this process holds a share of the tracefs mount (test/support/tracefs.mjs). */
let usingTracefs = false

// The chain names kube-proxy (iptables mode) derives for kube-system/kube-dns ports dns and dns-tcp.
const SVC_UDP = 'KUBE-SVC-TCOU7JCQXEZGVUNU'
const SVC_TCP = 'KUBE-SVC-ERIFXISQEP7F7OF4'
const SEP_UDP = 'KUBE-SEP-DNSLABUDP0000001'
const SEP_TCP = 'KUBE-SEP-DNSLABTCP0000001'

export function netnsExists(name) {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .some((l) => l.split(' ')[0] === name)
}

/** Creates the namespaces, links, routes and the Service DNAT. Call teardown() first. */
export function setup({ resolvOptions } = {}) {
  mkdirSync(RUN_DIR, { recursive: true })
  for (const ns of Object.values(NS)) {
    sh('ip', ['netns', 'add', ns])
    nsx(ns, 'ip', ['link', 'set', 'lo', 'up'])
    netnsSysctl(ns, 'net/ipv6/conf/all/disable_ipv6', 1)
    netnsSysctl(ns, 'net/ipv6/conf/default/disable_ipv6', 1)
  }
  veth(NS.pod, 'eth0', NS.node, 'vethpod')
  veth(NS.node, 'vethdns', NS.dns, 'eth0')
  veth(NS.dns, 'eth1', NS.up, 'eth0')
  veth(NS.node, 'vethdns2', NS.dns2, 'eth0')
  addr(NS.pod, 'eth0', `${ADDR.pod}/24`)
  addr(NS.pod, 'eth0', `${ADDR.podPerf}/24`)
  addr(NS.node, 'vethpod', `${ADDR.nodePodSide}/24`)
  addr(NS.node, 'vethdns', `${ADDR.nodeDnsSide}/24`)
  addr(NS.dns, 'eth0', `${ADDR.dns}/24`)
  addr(NS.dns, 'eth1', `${ADDR.dnsUpSide}/24`)
  addr(NS.up, 'eth0', `${ADDR.upstream}/24`)
  addr(NS.node, 'vethdns2', `${ADDR.nodeDns2Side}/24`)
  addr(NS.dns2, 'eth0', `${ADDR.dns2}/24`)
  // Routes stay inside 10.253.0.0/16: no namespace has a default route.
  nsx(NS.pod, 'ip', ['route', 'add', '10.253.0.0/16', 'via', ADDR.nodePodSide])
  nsx(NS.dns, 'ip', ['route', 'add', '10.253.1.0/24', 'via', ADDR.nodeDnsSide])
  nsx(NS.dns2, 'ip', ['route', 'add', '10.253.1.0/24', 'via', ADDR.nodeDns2Side])
  netnsSysctl(NS.node, 'net/ipv4/ip_forward', 1)
  kubeProxyRules()

  // The pod's own view of /etc: resolv.conf as the kubelet writes it, and an nsswitch.conf without
  // mdns (the host's `mdns4_minimal [NOTFOUND=return]` would swallow *.local names).
  const etc = `/etc/netns/${NS.pod}`
  mkdirSync(etc, { recursive: true })
  writeFileSync(`${etc}/resolv.conf`, resolvConf(resolvOptions))
  writeFileSync(`${etc}/nsswitch.conf`, 'hosts: files dns\n')
  writeFileSync(`${etc}/hosts`, '127.0.0.1\tlocalhost\n10.253.1.2\tclient-7d9f8b6c5-x2x9z\n')
  mountTracefs()
}

/** /proc/sys/net inside `ns` is that namespace's own (no dependency on procps' sysctl). */
function netnsSysctl(ns, key, value) {
  nsx(ns, 'sh', ['-c', `echo ${value} > /proc/sys/${key}`])
}

function veth(nsA, a, nsB, b) {
  sh('ip', ['link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB])
  nsx(nsA, 'ip', ['link', 'set', a, 'up'])
  nsx(nsB, 'ip', ['link', 'set', b, 'up'])
}

function addr(ns, dev, cidr) {
  nsx(ns, 'ip', ['addr', 'add', cidr, 'dev', dev])
}

/** The nat rules kube-proxy in iptables mode writes for a ClusterIP Service with one endpoint. */
function kubeProxyRules() {
  const ep = `${ADDR.dns}:53`
  const rules = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    `:${SVC_UDP} - [0:0]`,
    `:${SVC_TCP} - [0:0]`,
    `:${SEP_UDP} - [0:0]`,
    `:${SEP_TCP} - [0:0]`,
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    `-A KUBE-SERVICES -d ${ADDR.service}/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j ${SVC_UDP}`,
    `-A KUBE-SERVICES -d ${ADDR.service}/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j ${SVC_TCP}`,
    `-A ${SVC_UDP} -m comment --comment "kube-system/kube-dns:dns -> ${ep}" -j ${SEP_UDP}`,
    `-A ${SVC_TCP} -m comment --comment "kube-system/kube-dns:dns-tcp -> ${ep}" -j ${SEP_TCP}`,
    `-A ${SEP_UDP} -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination ${ep}`,
    `-A ${SEP_TCP} -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp" -m tcp -j DNAT --to-destination ${ep}`,
    'COMMIT',
    '',
  ].join('\n')
  nsx(NS.node, 'iptables-restore', ['--noflush'], { input: rules })
}

const SEP_UDP2 = 'KUBE-SEP-DNSLABUDP0000002'

/**
 * The Service's UDP port gets a second endpoint, the second resolver, as kube-proxy (iptables
 * mode) writes it: the Service chain sends each new flow to the first endpoint with probability
 * 1/2, else to the second. conntrack keeps a flow (a client socket) on the endpoint it got.
 */
export function addSecondEndpoint() {
  const ep1 = `${ADDR.dns}:53`
  const ep2 = `${ADDR.dns2}:53`
  const rules = [
    '*nat',
    // Declaring a chain that exists flushes it (iptables-restore --noflush keeps the others).
    `:${SVC_UDP} - [0:0]`,
    `:${SEP_UDP2} - [0:0]`,
    `-A ${SVC_UDP} -m comment --comment "kube-system/kube-dns:dns -> ${ep1}" -m statistic --mode random --probability 0.50000000000 -j ${SEP_UDP}`,
    `-A ${SVC_UDP} -m comment --comment "kube-system/kube-dns:dns -> ${ep2}" -j ${SEP_UDP2}`,
    `-A ${SEP_UDP2} -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination ${ep2}`,
    'COMMIT',
    '',
  ].join('\n')
  nsx(NS.node, 'iptables-restore', ['--noflush'], { input: rules })
}

/** bpftrace needs tracefs; the mount is shared with other tests and unmounted by its last user. */
function mountTracefs() {
  usingTracefs = true
  if (!acquireTracefs().mounted) throw new Error('tracefs is not mounted at /sys/kernel/tracing')
}

/**
 * Removes everything the lab created, whatever state a previous run left: started processes (from
 * the pid file, then any process still inside a dnslab namespace), the namespaces, /etc/netns files,
 * the cgroup and this process's share of tracefs. Safe to call any number of times.
 */
export async function teardown() {
  killRecorded()
  for (const ns of Object.values(NS)) {
    if (!netnsExists(ns)) continue
    // Only processes inside our own namespaces: by construction, processes the lab started.
    const pids = sh('ip', ['netns', 'pids', ns], { allowFail: true }).split(/\s+/).filter(Boolean)
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  }
  await sleep(100)
  for (const ns of Object.values(NS)) {
    if (netnsExists(ns)) sh('ip', ['netns', 'del', ns], { allowFail: true })
  }
  rmSync(`/etc/netns/${NS.pod}`, { recursive: true, force: true })
  rmSync(RUN_DIR, { recursive: true, force: true })
  removeCgroup()
  if (usingTracefs) {
    releaseTracefs()
    usingTracefs = false
  }
}

export function removeCgroup() {
  if (!existsSync(CGROUP)) return
  // Move any task left back to the root cgroup, then remove ours.
  const tasks = readFileSync(`${CGROUP}/tasks`, 'utf8').split('\n').filter(Boolean)
  for (const t of tasks) {
    try {
      writeFileSync('/sys/fs/cgroup/cpu/tasks', t)
    } catch {
      /* exited */
    }
  }
  sh('rmdir', [CGROUP], { allowFail: true })
}
