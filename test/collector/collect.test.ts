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
})
