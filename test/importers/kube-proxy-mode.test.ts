import { describe, expect, it } from 'vitest'
import { kubeProxyMode } from '../../core/importers/kube-proxy-mode.js'
import { facts, HOSTILE_LINE, importChecked, run, text } from './nodefacts-helpers.js'

// kubectl -n kube-system get cm kube-proxy -o yaml (kubeadm layout, trimmed)
const configMap = (mode: string) => `apiVersion: v1
data:
  config.conf: |-
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    bindAddress: 0.0.0.0
    ipvs:
      scheduler: ""
      strictARP: false
    kind: KubeProxyConfiguration
    metricsBindAddress: ""
    mode: ${mode}
    winkernel:
      networkName: ""
kind: ConfigMap
metadata:
  name: kube-proxy
  namespace: kube-system
`

describe('kube-proxy-mode', () => {
  it('the /proxyMode endpoint body', () => {
    for (const mode of ['ipvs', 'iptables', 'nftables']) {
      const r = importChecked(kubeProxyMode, text(mode), 'proxyMode')
      expect(r.problems).toEqual([])
      expect(facts(r.events, 'kube-proxy-mode')).toEqual([{ type: 'kube-proxy-mode', mode }])
    }
    expect(
      facts(
        importChecked(kubeProxyMode, text('$ curl localhost:10249/proxyMode\nipvs\n')).events,
        'kube-proxy-mode',
      )[0].mode,
    ).toBe('ipvs')
  })

  it('the kube-proxy ConfigMap: quoted, bare and empty (the Linux default, iptables)', () => {
    for (const [written, mode] of [
      ['"ipvs"', 'ipvs'],
      ['nftables', 'nftables'],
      ['""', 'iptables'],
    ]) {
      const r = importChecked(kubeProxyMode, text(configMap(written)), 'kube-proxy.yaml')
      expect(r.problems).toEqual([])
      expect(facts(r.events, 'kube-proxy-mode')).toEqual([{ type: 'kube-proxy-mode', mode }])
      expect(r.events[0].ref).toBe(11)
    }
  })

  it("the ConfigMap's config.conf on its own, as the collector stores it", () => {
    const conf = configMap('"ipvs"')
      .split('\n')
      .slice(3, 13)
      .map((l) => l.slice(4))
      .join('\n')
    expect(conf.startsWith('apiVersion: kubeproxy.config.k8s.io/v1alpha1\n')).toBe(true)
    const r = importChecked(kubeProxyMode, text(conf), 'kube-proxy-config.conf')
    expect(facts(r.events, 'kube-proxy-mode')).toEqual([{ type: 'kube-proxy-mode', mode: 'ipvs' }])
    expect(r.events[0].ref).toBe(8)
  })

  it('an unknown mode is kept with a problem; garbage around a word is a problem', () => {
    const r = run(kubeProxyMode, text(configMap('"ebpf"')))
    expect(facts(r.events, 'kube-proxy-mode')[0].mode).toBe('ebpf')
    expect(r.problems[0].message).toMatch(/unknown kube-proxy mode/)
    const g = run(kubeProxyMode, text(`ipvs\n${HOSTILE_LINE}\n`))
    expect(facts(g.events, 'kube-proxy-mode')[0].mode).toBe('ipvs')
    expect(g.problems.map((p) => p.where)).toEqual(['line 2'])
  })
})
