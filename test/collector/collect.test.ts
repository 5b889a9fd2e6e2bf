import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync, strFromU8 } from 'fflate'
import { startFakeApiServer, type FakeApiServer, type FakeCluster } from './fake-apiserver.js'
import { corpus, REPO_ROOT } from '../corpus.js'

const CLI = join(REPO_ROOT, 'dist/dnsbundle.mjs')
const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-collect-test-'))

const cluster: FakeCluster = {
  serviceIp: '10.96.0.10',
  pods: [
    {
      name: 'coredns-5d78c9869d-abcde',
      node: 'node-a',
      ip: '10.244.0.3',
      log: readFileSync(
        corpus(
          'coredns-log/coredns-coredns-3211_kubectl--timestamps_double-timestamp_variable-fraction-digits.log',
        ),
        'utf8',
      ),
      metrics: [
        readFileSync(corpus('metrics/netdata-go.d/version170_no_load.prom'), 'utf8'),
        readFileSync(corpus('metrics/netdata-go.d/version170_some_load.prom'), 'utf8'),
      ],
    },
  ],
  corefile: readFileSync(
    corpus('config/corefile/kubernetes_cluster-addons_coredns.yaml.base.Corefile'),
    'utf8',
  ),
  kubeProxyConf:
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "ipvs"\n',
  nodes: [{ name: 'node-a', kernel: '4.19.0-27-amd64', ip: '192.168.0.10' }],
  cpuLimit: '200m',
}

let api: FakeApiServer
let kubeconfig: string

beforeAll(async () => {
  api = await startFakeApiServer(cluster)
  kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "${api.url}"}}]
users: [{name: lab, user: {token: test-token}}]
contexts: [{name: lab, context: {cluster: lab, user: lab}}]
current-context: lab
`,
  )
})
afterAll(async () => {
  await api.close()
  rmSync(dir, { recursive: true, force: true })
})

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

function readZip(path: string): Record<string, Uint8Array> {
  return unzipSync(readFileSync(path))
}

describe('dnsbundle collect --cluster (real kubectl, stand-in API server)', () => {
  it('collects the DNS service, logs, metrics, Corefile, deployment, kube-proxy mode and kernels', async () => {
    const out = join(dir, 'cluster.zip')
    const r = await cli([
      'collect',
      '--cluster',
      '--kubeconfig',
      kubeconfig,
      '--metrics-interval',
      '0.2',
      '-o',
      out,
    ])
    expect(r.stderr).toContain('wrote')
    expect(r.code).toBe(0)
    // The real kubectl made the requests.
    expect(api.requests.every((q) => /kubectl/.test(q.userAgent))).toBe(true)
    expect(api.requests.map((q) => q.path)).toContain(
      '/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns',
    )

    const zip = readZip(out)
    const manifest = JSON.parse(strFromU8(zip['manifest.json']))
    expect(manifest.schema).toBe('dnsbundle.manifest/v1')
    expect(manifest.cluster).toEqual({
      dnsServiceIps: ['10.96.0.10'],
      dnsEndpoints: ['10.244.0.3'],
      kubeProxyMode: 'ipvs',
    })
    const byKind = Object.fromEntries(
      manifest.files.map((f: { kind: string; path: string }) => [f.kind, f.path]),
    )
    expect(Object.keys(byKind).sort()).toEqual([
      'coredns-log',
      'corefile',
      'k8s-manifest',
      'kube-proxy-mode',
      'prometheus',
      'uname',
    ])
    expect(strFromU8(zip[byKind['coredns-log']])).toBe(cluster.pods[0].log)
    expect(strFromU8(zip[byKind['corefile']])).toBe(cluster.corefile)
    expect(strFromU8(zip[byKind['uname']])).toBe('4.19.0-27-amd64\n')
    expect(strFromU8(zip[byKind['k8s-manifest']])).toMatch(/limits:\n\s+cpu: 200m/)
    const metrics = strFromU8(zip[byKind['prometheus']])
    expect(metrics.match(/^# dnsbundle-snapshot /gm)).toHaveLength(2)
    const logEntry = manifest.files.find((f: { kind: string }) => f.kind === 'coredns-log')
    expect(logEntry.vantage).toMatchObject({
      type: 'dns-server',
      name: 'coredns-5d78c9869d-abcde',
      node: 'node-a',
      addresses: ['10.244.0.3'],
    })
  })

  it('notes what the API refused and still writes the rest', async () => {
    const limited = await startFakeApiServer({ ...cluster, forbidden: /\/log$|\/proxy\// })
    try {
      const out = join(dir, 'partial.zip')
      const r = await cli([
        'collect',
        '--server',
        limited.url,
        '--metrics-interval',
        '0',
        '-o',
        out,
      ])
      expect(r.code).toBe(0)
      const manifest = JSON.parse(strFromU8(readZip(out)['manifest.json']))
      expect(manifest.notes.join('\n')).toMatch(/logs of coredns-5d78c9869d-abcde: .*forbidden/i)
      expect(manifest.files.map((f: { kind: string }) => f.kind)).not.toContain('coredns-log')
      expect(manifest.files.map((f: { kind: string }) => f.kind)).toContain('corefile')
    } finally {
      await limited.close()
    }
  })

  it('fails with exit 2 when nothing at all could be collected', async () => {
    const out = join(dir, 'nothing.zip')
    const r = await cli([
      'collect',
      '--server',
      'http://127.0.0.1:1',
      '--metrics-interval',
      '0',
      '-o',
      out,
    ])
    expect(r.code).toBe(2)
  })

  it('two CoreDNS pods: collect names each, and analyze finds the one whose answers fail by its metrics', async () => {
    // What CoreDNS's prometheus plugin serves (the 1.7+ names and labels), at two snapshots:
    // the second pod answers a fifth of its queries SERVFAIL between them (its upstream path).
    const metrics = (noerror: number, servfail: number) =>
      [
        '# HELP coredns_dns_responses_total Counter of response status codes.',
        '# TYPE coredns_dns_responses_total counter',
        `coredns_dns_responses_total{plugin="kubernetes",rcode="NOERROR",server="dns://:53",zone="."} ${noerror}`,
        `coredns_dns_responses_total{plugin="",rcode="SERVFAIL",server="dns://:53",zone="."} ${servfail}`,
        '',
      ].join('\n')
    const two: FakeCluster = {
      ...cluster,
      pods: [
        { ...cluster.pods[0], log: '', metrics: [metrics(1000, 1), metrics(1400, 1)] },
        {
          name: 'coredns-5d78c9869d-fghij',
          node: 'node-b',
          ip: '10.244.1.4',
          log: '',
          metrics: [metrics(900, 10), metrics(1220, 90)],
        },
      ],
      nodes: [
        ...cluster.nodes,
        { name: 'node-b', kernel: '5.15.0-105-generic', ip: '192.168.0.11' },
      ],
    }
    const server = await startFakeApiServer(two)
    try {
      const out = join(dir, 'two-pods.zip')
      const r = await cli([
        'collect',
        '--server',
        server.url,
        '--metrics-interval',
        '0.2',
        '-o',
        out,
      ])
      expect(r.code).toBe(0)
      const a = await cli(['analyze', '--format', 'json', out])
      expect(a.code).toBe(0)
      const report = JSON.parse(a.stdout)
      const f = report.findings.find((x: { id: string }) => x.id === 'replica-unhealthy')
      expect(f?.data.server).toBe('dns/coredns-5d78c9869d-fghij')
      expect(f?.data.source).toBe('metrics between two snapshots')
      expect(f?.data.stats).toMatchObject({
        address: '10.244.1.4',
        transactions: 400,
        failed: 80,
        failureRate: 0.2,
      })
      expect(f?.data.others).toEqual({ transactions: 400, failed: 0, failureRate: 0 })
      expect(f?.mitigation).toContain('kubectl -n kube-system logs coredns-5d78c9869d-fghij')
      expect(f?.mitigation).toContain('node node-b')
      expect(f?.evidence[0].input).toBe('dns/coredns-5d78c9869d-fghij/metrics.prom')
    } finally {
      await server.close()
    }
  })
})
