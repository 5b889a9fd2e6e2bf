// The rules on bundles assembled from the corpus's real outputs, through the real pipeline
// (analyzeBundle: importers, correlator, rules, report). These cover the evidence the lab cannot
// produce: a full conntrack table, conntrack counters, IPVS state after a rollout, CoreDNS versions
// with known bugs, CoreDNS error logs, Corefiles and resolv.conf files. Every case names its files.
// Each case first checks that every file was recognised, so a missing importer fails loudly.
import { CORPUS as SHARED_CORPUS } from '../corpus.js'
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { analyzeBundle } from '../../core/analyze.js'
import type { Manifest, ManifestFile } from '../../core/model/bundle.js'
import type { Report, ReportFinding } from '../../core/model/report.js'

const CORPUS = process.env.DNSBUNDLE_CORPUS ?? SHARED_CORPUS

function analyze(
  files: string[],
  opts: { cluster?: Manifest['cluster']; vantages?: Record<string, ManifestFile['vantage']> } = {},
): Report {
  if (!CORPUS)
    throw new Error('corpus not found: set DNSBUNDLE_CORPUS to the shared/corpus directory')
  const manifest: Manifest | undefined =
    opts.cluster || opts.vantages
      ? {
          schema: 'dnsbundle.manifest/v1',
          cluster: opts.cluster,
          files: files.map((path) => ({
            path,
            ...(opts.vantages?.[path] ? { vantage: opts.vantages[path] } : {}),
          })),
        }
      : undefined
  const report = analyzeBundle({
    files: files.map((path) => ({ path, bytes: readFileSync(join(CORPUS, path)) })),
    manifest,
    skipped: [],
  })
  for (const f of files) {
    // `events` counts a log's query lines only, so an errors-only log can be 0: recognition is the check.
    const input = report.inputs.find((i) => i.path === f)
    expect(input?.skipped, `${f}: no importer recognised it`).toBeUndefined()
    expect(input?.kind, `${f}: kind`).not.toBe('unknown')
  }
  return report
}

const found = (r: Report, id: string): ReportFinding[] => r.findings.filter((f) => f.id === id)

describe('conntrack', () => {
  it('conntrack-table-full: the dmesg lines (node/kernel-log/wballard-starphleet-352_*)', () => {
    const r = analyze([
      'node/kernel-log/wballard-starphleet-352_dmesg_nf_conntrack-table-full_wrapped.txt',
    ])
    const [f] = found(r, 'conntrack-table-full')
    expect(f?.data.tableFullLines).toBe(5)
    expect(f.severity).toBe('critical')
    expect(r.verdict?.findingId).toBe('conntrack-table-full')
  })
  it.each([
    'node/conntrack/kubernetes-kubernetes-56903_conntrack-1.4.4-summary-format_in-pod_permission-error.txt',
    'node/conntrack/concourse-concourse-4153_conntrack-S_per-cpu_with-ignore_tab-and-trailing-space.txt',
    'node/conntrack/rancher-rke2-3924_conntrack-S_per-cpu_no-ignore-field.txt',
  ])('no conntrack finding when insert_failed and drop are 0: %s', (file) => {
    const r = analyze([file])
    expect(found(r, 'conntrack-race')).toEqual([])
    expect(found(r, 'conntrack-table-full')).toEqual([])
  })
  it('conntrack-race, facts only: insert_failed=47646 (node/conntrack/netdata-netdata-11880_*, near-miss format)', () => {
    const r = analyze([
      'node/conntrack/netdata-netdata-11880_nfacct-plugin_nf_conntrack-stat-counters_insert_failed-nonzero.txt',
    ])
    const [f] = found(r, 'conntrack-race')
    expect(f?.data.insertFailed).toBe(47646)
    expect(f.confidence).toBe(0.35)
  })
})

describe('ipvs-port-reuse', () => {
  const files = [
    'node/ipvs/kubernetes-kubernetes-76664_ipvsadm-Ln_udp-weight0-inactconn.txt',
    'node/ipvs/kubernetes-kubernetes-76664_ipvsadm-Lnc_udp-conn-to-deleted-rs.txt',
  ]
  it('ipvsadm -Ln/-Lnc of kubernetes#76664, with the manifest naming 192.168.127.89 the DNS Service', () => {
    // #76664 shows the #71514 failure on a syslog Service (UDP/514); the manifest declares it the
    // cluster DNS so the rule reads it as it would read kube-dns.
    const r = analyze(files, {
      cluster: { dnsServiceIps: ['192.168.127.89'], kubeProxyMode: 'ipvs' },
    })
    const [f] = found(r, 'ipvs-port-reuse')
    expect(f?.data).toMatchObject({
      staleConnections: 1,
      staleDestinations: ['192.168.129.116:514'],
      drainedServices: 1,
    })
  })
  it('the same output without the manifest: UDP/514 is not DNS', () => {
    expect(found(analyze(files), 'ipvs-port-reuse')).toEqual([])
  })
})

describe('coredns-known-bug', () => {
  it('coredns#3860 on 1.6.9 with 99 panics (metrics/netdata-go.d/version169_no_load.prom)', () => {
    const r = analyze(['metrics/netdata-go.d/version169_no_load.prom'])
    const [f] = found(r, 'coredns-known-bug')
    expect(f?.data).toMatchObject({ bug: 'coredns#3860', version: '1.6.9' })
    expect(r.verdict?.findingId).toBe('coredns-known-bug')
  })
  it.each([
    'metrics/netdata-go.d/version170_no_load.prom',
    'metrics/netdata-go.d/no_version_no_load.prom',
    'coredns-log/coredns-deployment-225_startup-banner_hinfo-loop-probe-timeouts.log',
  ])('no known bug: %s', (file) => expect(found(analyze([file]), 'coredns-known-bug')).toEqual([]))
})

describe('upstream-failure', () => {
  it('i/o timeouts to two upstreams (coredns-log/coredns-coredns-7200_*)', () => {
    const r = analyze([
      'coredns-log/coredns-coredns-7200_coredns-1.8.6-banner_timeouts-two-upstreams.log',
    ])
    const [f] = found(r, 'upstream-failure')
    expect(f?.data.timeoutLogs).toBe(11)
    expect((f.data.upstreams as { upstream: string }[]).map((u) => u.upstream)).toEqual([
      '10.30.0.3:53',
      '114.114.114.114:53',
    ])
    expect(r.verdict?.findingId).toBe('upstream-failure')
  })
  it('ten timeouts to Azure DNS (coredns-log/syseleven-designate-certmanager-webhook-34_*)', () => {
    const [f] = found(
      analyze([
        'coredns-log/syseleven-designate-certmanager-webhook-34_errors_repeated-io-timeout.log',
      ]),
      'upstream-failure',
    )
    expect(f?.data.upstreams).toEqual([
      { upstream: '168.63.129.16:53', forwarded: 0, unanswered: 0, timeouts: 10 },
    ])
  })
  it('loop-plugin probes timing out at startup (coredns-log/coredns-deployment-225_*): a warning', () => {
    const [f] = found(
      analyze(['coredns-log/coredns-deployment-225_startup-banner_hinfo-loop-probe-timeouts.log']),
      'upstream-failure',
    )
    expect(f?.data.loopProbeTimeouts).toBe(7)
    expect(f.severity).toBe('warning')
  })
  it('an upstream that is the kube-dns ClusterIP (coredns-log/kubernetes-kubernetes-86762_*)', () => {
    const r = analyze(
      ['coredns-log/kubernetes-kubernetes-86762_errors_mixed-upstreams-incl-clusterip.log'],
      { cluster: { dnsServiceIps: ['10.96.0.10'] } },
    )
    expect(found(r, 'upstream-failure')[0]?.data.upstreamIsClusterDns).toEqual(['10.96.0.10'])
  })
})

describe('config-error', () => {
  it('the proxy plugin (config/corefile/coredns-coredns-2340_*)', () => {
    const r = analyze(['config/corefile/coredns-coredns-2340_kops_proxy-plugin_autopath.Corefile'])
    expect(found(r, 'config-error').map((f) => f.data.check)).toEqual(['proxy-plugin'])
  })
  it('no log in the kube-up addon Corefile (config/corefile/kubernetes_cluster-addons_coredns.yaml.base.Corefile): info', () => {
    const [f] = found(
      analyze(['config/corefile/kubernetes_cluster-addons_coredns.yaml.base.Corefile']),
      'config-error',
    )
    expect(f?.data).toMatchObject({ check: 'missing-observability', missing: ['log'] })
    expect(f.severity).toBe('info')
  })
  it('node-cache binding the cluster IP is not a loop (config/corefile/kubernetes-dns-394_node-cache-rendered.Corefile)', () => {
    const r = analyze(['config/corefile/kubernetes-dns-394_node-cache-rendered.Corefile'], {
      cluster: { dnsServiceIps: ['172.21.0.10'] },
    })
    expect(found(r, 'config-error').map((f) => f.data.check)).not.toContain('forward-loop')
  })
  it('a pod resolv.conf against the cluster DNS IP (config/resolv.conf/coredns-coredns-2340_kops-aws_ndots5.resolv.conf)', () => {
    const file = 'config/resolv.conf/coredns-coredns-2340_kops-aws_ndots5.resolv.conf'
    const pod = { [file]: { id: 'pod', type: 'pod' as const, name: 'pod' } }
    expect(
      found(
        analyze([file], { cluster: { dnsServiceIps: ['100.64.0.10'] }, vantages: pod }),
        'config-error',
      ),
    ).toEqual([])
    const [f] = found(
      analyze([file], { cluster: { dnsServiceIps: ['10.96.0.10'] }, vantages: pod }),
      'config-error',
    )
    expect(f?.data).toMatchObject({ check: 'foreign-nameserver', nameservers: ['100.64.0.10'] })
  })
})

describe('waste and storms from CoreDNS logs', () => {
  it('ndots-amplification from a log alone (coredns-log/kubernetes-kubernetes-80243_rfc3339-ts_mixed.log)', () => {
    const [f] = found(
      analyze(['coredns-log/kubernetes-kubernetes-80243_rfc3339-ts_mixed.log']),
      'ndots-amplification',
    )
    expect(f?.data.wasted).toBeGreaterThanOrEqual(3)
  })
  it('search candidates are not an NXDOMAIN storm (coredns-log/coredns-coredns-2494_rfc3339-ts_searchpath-nxdomain.log)', () => {
    expect(
      found(
        analyze(['coredns-log/coredns-coredns-2494_rfc3339-ts_searchpath-nxdomain.log']),
        'nxdomain-storm',
      ),
    ).toEqual([])
  })
})

describe('kernel drop counters', () => {
  it.each([
    'bpf/metrics/cloudflare-ebpf_exporter-235_kfree_skb-by-proto-port-reason.prom',
    'bpf/metrics/cloudflare-ebpf_exporter-233_kfree_skb-reasons.prom',
  ])('SOCKET_RCVBUFF drops not on port 53 are not cpu-starvation: %s', (file) =>
    expect(found(analyze([file]), 'cpu-starvation')).toEqual([]),
  )
})
