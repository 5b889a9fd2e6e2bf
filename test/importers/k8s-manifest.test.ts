import { describe, expect, it } from 'vitest'
import { cpuMillicores, k8sManifest } from '../../core/importers/k8s-manifest.js'
import { toYaml } from '../../collector/collect/to-yaml.js'
import { bytesText, corpus, facts, importChecked, run, text } from './nodefacts-helpers.js'

const manifest = 'config/k8s-manifests/coredns-deployment_coredns.yaml.sed'

describe('k8s-manifest', () => {
  it('coredns.yaml.sed: the version from the image, the ConfigMap Corefile, no CPU limit (requests only)', () => {
    const bytes = corpus(manifest)
    const r = importChecked(k8sManifest, bytes, 'coredns.yaml')
    expect(facts(r.events, 'coredns-version')).toEqual([
      { type: 'coredns-version', version: '1.9.4' },
    ])
    expect(facts(r.events, 'cpu-limit')).toEqual([])
    const cf = facts(r.events, 'corefile')
    expect(cf).toHaveLength(1)
    expect(cf[0].servers[0].zones).toEqual(['.'])
    expect(cf[0].servers[0].plugins.map((p) => p.name)).toEqual([
      'errors',
      'health',
      'ready',
      'kubernetes',
      'prometheus',
      'forward',
      'cache',
      'loop',
      'reload',
      'loadbalance',
    ])
    // The placeholder glued to the closing brace, at its line in the manifest.
    expect(r.problems).toEqual([
      { where: 'line 73', message: 'text after a closing brace: "STUBDOMAINS"' },
    ])
  })

  it('resources.limits.cpu of the CoreDNS container, not requests, not other containers', () => {
    const s = bytesText(corpus(manifest))
      .replace('            memory: 170Mi\n', '            memory: 170Mi\n            cpu: "1.5"\n')
      .replace(
        '      dnsPolicy: Default\n',
        '      - name: sidecar\n        image: busybox\n        resources:\n          limits:\n            cpu: 2\n      dnsPolicy: Default\n',
      )
    const r = importChecked(k8sManifest, text(s), 'coredns.yaml')
    expect(facts(r.events, 'cpu-limit')).toEqual([
      { type: 'cpu-limit', container: 'coredns', millicores: 1500 },
    ])
    const ev = r.events.find((e) => e.kind === 'fact' && e.fact.type === 'cpu-limit')!
    expect(bytesText(corpus(manifest)).split('\n')[ev.ref - 2]).toBe('            memory: 170Mi')
  })

  it('a pod from kubectl get pod -o yaml with a millicore limit and a registry image', () => {
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: coredns-5d78c9869d-abcde
spec:
  containers:
  - args:
    - -conf
    - /etc/coredns/Corefile
    image: registry.k8s.io/coredns/coredns:v1.10.1
    name: coredns
    resources:
      limits:
        cpu: 200m # throttled under load
        memory: 170Mi
      requests:
        cpu: 100m
`
    const r = importChecked(k8sManifest, text(pod), 'pod.yaml')
    expect(r.problems).toEqual([])
    expect(facts(r.events, 'cpu-limit')).toEqual([
      { type: 'cpu-limit', container: 'coredns', millicores: 200 },
    ])
    expect(facts(r.events, 'coredns-version')).toEqual([
      { type: 'coredns-version', version: '1.10.1' },
    ])
  })

  it("the collector's YAML of a Deployment from the API (lists indented under their key)", () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                args: ['-conf', '/etc/coredns/Corefile'],
                image: 'registry.k8s.io/coredns/coredns:v1.11.1',
                name: 'coredns',
                ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }],
                resources: { limits: { cpu: '0.5', memory: '170Mi' }, requests: { cpu: '100m' } },
              },
              { name: 'sidecar', image: 'busybox', resources: { limits: { cpu: 2 } } },
            ],
          },
        },
      },
    }
    const r = importChecked(k8sManifest, text(toYaml(deployment)), 'coredns-deployment.yaml')
    expect(r.problems).toEqual([])
    expect(facts(r.events, 'cpu-limit')).toEqual([
      { type: 'cpu-limit', container: 'coredns', millicores: 500 },
    ])
    expect(facts(r.events, 'coredns-version')).toEqual([
      { type: 'coredns-version', version: '1.11.1' },
    ])
  })

  it('a bad CPU quantity is a problem', () => {
    const r = run(
      k8sManifest,
      text(
        'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: coredns\n    resources:\n      limits:\n        cpu: lots\n',
      ),
    )
    expect(facts(r.events, 'cpu-limit')).toEqual([])
    expect(r.problems).toEqual([{ where: 'line 8', message: 'bad CPU quantity "lots"' }])
  })

  it('CPU quantities', () => {
    expect([
      cpuMillicores('100m'),
      cpuMillicores('0.5'),
      cpuMillicores('2'),
      cpuMillicores('x'),
    ]).toEqual([100, 500, 2000, NaN])
  })
})
