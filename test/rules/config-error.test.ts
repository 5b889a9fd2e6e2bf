// config-error. Corefiles mirror corpus/config/corefile/: kubernetes_cluster-addons_coredns.yaml.base.Corefile
// (errors, health, kubernetes, prometheus, forward . /etc/resolv.conf, cache 30, loop: no log),
// coredns-coredns-2340_kops_proxy-plugin_autopath.Corefile (proxy . 10.143.0.2),
// kubernetes-dns-394_node-cache-rendered.Corefile (binds the cluster IP 172.21.0.10, forwards to
// 172.21.122.96: not a loop); resolv.conf files mirror corpus/config/resolv.conf/ (2340: ndots:5 and
// four search domains; 4513: NodeLocal DNSCache 169.254.25.10).
import { expect } from 'vitest'
import { configError } from '../../core/rules/config-error.js'
import type { CorefileServer, NodeFact } from '../../core/model/event.js'
import type { Manifest } from '../../core/model/bundle.js'
import { ctx, fact, log } from './context.js'
import { ruleTable } from './table.js'

const p = (name: string, ...args: string[]) => ({ name, args, block: [] })
const corefile = (servers: CorefileServer[]) =>
  fact({ type: 'corefile', servers }, { vantage: 'coredns' })
const addon = (
  forwardTo = '/etc/resolv.conf',
  extra: ReturnType<typeof p>[] = [],
  drop: string[] = [],
): CorefileServer => ({
  zones: ['.'],
  port: 53,
  plugins: [
    p('errors'),
    p('health'),
    p('kubernetes', 'cluster.local', 'in-addr.arpa', 'ip6.arpa'),
    p('prometheus', ':9153'),
    p('forward', '.', forwardTo),
    p('cache', '30'),
    p('loop'),
    p('reload'),
    p('loadbalance'),
    ...extra,
  ].filter((x) => !drop.includes(x.name)),
})
const nodeCache = (): CorefileServer => ({
  zones: ['cluster.local'],
  port: 53,
  plugins: [
    p('errors'),
    p('cache'),
    p('reload'),
    p('loop'),
    p('bind', '169.254.20.10', '172.21.0.10'),
    p('forward', '.', '172.21.122.96'),
    p('prometheus', ':9253'),
    p('health', '169.254.20.10:8080'),
    p('log'),
  ],
})
const resolv = (r: Partial<Extract<NodeFact, { type: 'resolv-conf' }>>, vantage = 'pod-a') =>
  fact(
    {
      type: 'resolv-conf',
      nameservers: ['172.21.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeout: 5,
      attempts: 2,
      options: [],
      ...r,
    },
    { vantage },
  )
const cluster = (ip: string): Manifest => ({
  schema: 'dnsbundle.manifest/v1',
  files: [],
  cluster: { dnsServiceIps: [ip] },
})
const checks = (all: { data: Record<string, unknown> }[]) => all.map((f) => f.data.check)

ruleTable(configError, {
  fires: [
    {
      name: 'CoreDNS forwards to the cluster DNS Service IP: a loop',
      ctx: () =>
        ctx({
          events: [corefile([addon('10.96.0.10', [p('log')])])],
          manifest: cluster('10.96.0.10'),
        }),
      expect: (f, all) => {
        expect(checks(all)).toEqual(['forward-loop'])
        expect(f.severity).toBe('critical')
        expect(f.data).toMatchObject({ server: '.:53', targets: ['10.96.0.10'] })
      },
    },
    {
      name: 'the loop plugin reporting a loop',
      ctx: () =>
        ctx({
          events: [
            log(
              'Loop (127.0.0.1:55953 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."',
              { level: 'fatal', plugin: 'loop' },
            ),
          ],
        }),
      expect: (f) => expect(f.data).toMatchObject({ check: 'loop-detected', lines: 1 }),
    },
    {
      name: 'forward without cache',
      ctx: () => ctx({ events: [corefile([addon('/etc/resolv.conf', [p('log')], ['cache'])])] }),
      expect: (f, all) => {
        expect(checks(all)).toEqual(['no-cache'])
        expect(f.mitigation).toContain('`cache 30`')
      },
    },
    {
      name: 'the removed proxy plugin (coredns#2340 Corefile)',
      ctx: () =>
        ctx({
          events: [
            corefile([
              {
                zones: ['.'],
                port: 53,
                plugins: [
                  p('errors'),
                  p('log', '.'),
                  p('health'),
                  p('kubernetes', 'cluster.local'),
                  p('autopath', '@kubernetes'),
                  p('prometheus', '0.0.0.0:9153'),
                  p('proxy', '.', '10.143.0.2'),
                  p('cache'),
                  p('nsid'),
                  p('reload'),
                ],
              },
            ]),
          ],
        }),
      expect: (_f, all) => expect(checks(all)).toEqual(['proxy-plugin']),
    },
    {
      name: 'the kube-up addon Corefile has no log: info',
      ctx: () => ctx({ events: [corefile([addon()])] }),
      expect: (f) => {
        expect(f.severity).toBe('info')
        expect(f.data).toMatchObject({ check: 'missing-observability', missing: ['log'] })
      },
    },
    {
      name: 'four nameservers and seven search domains',
      ctx: () =>
        ctx({
          events: [
            resolv(
              {
                nameservers: ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'],
                search: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
              },
              'node-a',
            ),
          ],
        }),
      expect: (_f, all) => {
        expect(checks(all)).toEqual(['too-many-nameservers', 'too-many-search-domains'])
        expect(all[0].data.ignored).toEqual(['10.0.0.5'])
      },
    },
    {
      name: 'a pod whose resolv.conf points at 8.8.8.8, not the cluster DNS',
      ctx: () =>
        ctx({ events: [resolv({ nameservers: ['8.8.8.8'] })], manifest: cluster('172.21.0.10') }),
      expect: (f) => {
        expect(f.data).toMatchObject({
          check: 'foreign-nameserver',
          nameservers: ['8.8.8.8'],
          clusterDns: ['172.21.0.10'],
        })
        expect(f.mitigation).toContain('dnsConfig: {nameservers: [172.21.0.10]}')
      },
    },
  ],
  quiet: [
    {
      name: 'node-local-dns binding the cluster IP and forwarding to kube-dns-upstream',
      ctx: () => ctx({ events: [corefile([nodeCache()])], manifest: cluster('172.21.0.10') }),
    },
    {
      name: 'a complete Corefile',
      ctx: () =>
        ctx({
          events: [corefile([addon('/etc/resolv.conf', [p('log')])])],
          manifest: cluster('10.96.0.10'),
        }),
    },
    {
      name: 'pods pointing at NodeLocal DNSCache (coredns#4513 resolv.conf) and at the cluster DNS (coredns#2340)',
      ctx: () =>
        ctx({
          events: [
            resolv({
              nameservers: ['169.254.25.10'],
              ndots: 1,
              options: ['ndots:1', 'single-request-reopen'],
            }),
            resolv({
              nameservers: ['100.64.0.10'],
              search: [
                'default.svc.cluster.local',
                'svc.cluster.local',
                'cluster.local',
                'ec2.internal',
              ],
            }),
          ],
          manifest: cluster('100.64.0.10'),
        }),
    },
    {
      name: "a node's own resolv.conf pointing upstream",
      ctx: () =>
        ctx({
          events: [resolv({ nameservers: ['10.0.0.2'], search: ['ec2.internal'] }, 'node-a')],
          manifest: cluster('172.21.0.10'),
        }),
    },
  ],
})
