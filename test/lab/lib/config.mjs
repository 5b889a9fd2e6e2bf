// Names, addresses and paths of the lab. Everything is prefixed `dnslab-` and lives in
// 10.253.0.0/16, inside network namespaces the lab creates; nothing is routed outside them.
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

export const LAB_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
export const OUT_DIR = join(LAB_DIR, '.out')
/** The product's kernel drop script, run exactly as `dnsbundle collect --node` runs it. */
export const DROPS_SCRIPT = join(LAB_DIR, '../../collector/scripts/dns-drops.bt')
/** Runtime files (configs, sockets, pid file). Short, fixed path: unix socket paths are limited. */
/**
 * The prefix of every name the lab gives the machine: namespaces, run dir, cgroup, lock.
 * `DNSLAB_PREFIX=dnslab-x-` runs a second lab beside a default one (bundles are the same).
 */
export const PREFIX = process.env.DNSLAB_PREFIX ?? 'dnslab-'
if (!/^dnslab-(?:[a-z0-9]+-)?$/.test(PREFIX))
  throw new Error(`DNSLAB_PREFIX must look like dnslab- or dnslab-x-, not ${PREFIX}`)
export const RUN_DIR = `/tmp/${PREFIX}run`
/** One lab per prefix at a time (lab.mjs holds it): a second teardown would kill the first run. */
export const LAB_LOCK = `/run/${PREFIX.slice(0, -1)}.lock`

export const NS = {
  pod: `${PREFIX}pod`,
  node: `${PREFIX}node`,
  dns: `${PREFIX}dns`,
  /** A second resolver, the Service's second endpoint (the `replica` scenario). */
  dns2: `${PREFIX}dns2`,
  up: `${PREFIX}up`,
}

export const ADDR = {
  /** The glibc client (the application container). */
  pod: '10.253.1.2',
  /** dnsperf's source address, a second address of the same pod interface. */
  podPerf: '10.253.1.3',
  nodePodSide: '10.253.1.1',
  nodeDnsSide: '10.253.2.1',
  /** The resolver's endpoint (the "CoreDNS pod" IP). */
  dns: '10.253.2.2',
  nodeDns2Side: '10.253.4.1',
  /** The second resolver's endpoint (a second CoreDNS pod). */
  dns2: '10.253.4.2',
  dnsUpSide: '10.253.3.1',
  upstream: '10.253.3.2',
  /** The kube-dns Service ClusterIP that kube-proxy DNATs to the endpoint. */
  service: '10.253.255.10',
}

/** resolv.conf a kubelet writes for a pod in namespace `default` (ClusterFirst). */
export function resolvConf(options = 'ndots:5') {
  return (
    `nameserver ${ADDR.service}\n` +
    'search default.svc.cluster.local svc.cluster.local cluster.local\n' +
    `options ${options}\n`
  )
}

export const SEARCH = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']
