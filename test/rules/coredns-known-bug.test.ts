// coredns-known-bug. Versions and symptoms mirror corpus/metrics/netdata-go.d/version169_no_load.prom
// (coredns_build_info version 1.6.9, coredns_panic_count_total 99 -> coredns_panics_total),
// version170_no_load.prom (1.7.0, panics 0), corpus/coredns-log/coredns-coredns-7200_* (banner
// CoreDNS-1.8.6), coredns-deployment-225_* (banner CoreDNS-1.6.7), coredns-coredns-4513_* (a
// cluster name flipping NOERROR -> NXDOMAIN), the watch error of coredns#4022 (CoreDNS 1.6.6) and
// corpus/config/corefile/coredns-coredns-2340_kops_proxy-plugin_autopath.Corefile (autopath @kubernetes).
import { expect } from 'vitest'
import { corednsKnownBug } from '../../core/rules/coredns-known-bug.js'
import type { CorefileServer } from '../../core/model/event.js'
import { ctx, fact, log, metric, tx } from './context.js'
import { ruleTable } from './table.js'

const buildInfo = (version: string) =>
  metric('coredns_build_info', { goversion: 'go1.14.1', revision: '1766568', version }, 1, {
    type: 'gauge',
  })
const panics = (n: number) =>
  metric('coredns_panics_total', {}, n, {
    originalName: n ? 'coredns_panic_count_total' : undefined,
  })
const banner = (v: string) => log(`CoreDNS-${v}`, { level: 'info' })
const watchError = () =>
  log(
    'pkg/mod/k8s.io/client-go@v0.0.0-20190620085101-78d2af792bab/tools/cache/reflector.go:98: watch of *v1.Endpoints ended with: an error on the server ("unable to decode an event from the watch stream: read tcp 10.0.38.33:52434->172.20.0.1:443: read: connection timed out") has prevented the request from succeeding',
    { level: 'warning', plugin: 'kubernetes' },
  )
/** coredns#4513: rwc.default.svc.cluster.local. A answered NOERROR, one second later NXDOMAIN. */
const flip4513 = () => [
  tx({
    client: '172.27.172.128',
    clientPort: 34346,
    id: 7481,
    qname: 'rwc.default.svc.cluster.local.',
    source: 'log',
    path: ['coredns'],
    answerAddrs: -1,
  }),
  tx({
    client: '172.27.172.128',
    clientPort: 34346,
    id: 5318,
    qname: 'rwc.default.svc.cluster.local.',
    at: 5_015_000,
    rcode: 3,
    source: 'log',
    path: ['coredns'],
  }),
]
const corefile2340 = (withAutopath: boolean) => {
  const servers: CorefileServer[] = [
    {
      zones: ['.'],
      port: 53,
      plugins: [
        { name: 'errors', args: [], block: [] },
        { name: 'log', args: ['.'], block: [{ name: 'class', args: ['denial', 'error'] }] },
        { name: 'health', args: [], block: [] },
        {
          name: 'kubernetes',
          args: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
          block: [
            { name: 'pods', args: ['verified'] },
            { name: 'upstream', args: [] },
            { name: 'fallthrough', args: ['in-addr.arpa', 'ip6.arpa'] },
          ],
        },
        ...(withAutopath ? [{ name: 'autopath', args: ['@kubernetes'], block: [] }] : []),
        { name: 'prometheus', args: ['0.0.0.0:9153'], block: [] },
        { name: 'proxy', args: ['.', '10.143.0.2'], block: [] },
        {
          name: 'cache',
          args: [],
          block: [
            { name: 'success', args: ['10000'] },
            { name: 'denial', args: ['1024', '10'] },
          ],
        },
      ],
    },
  ]
  return fact({ type: 'corefile', servers }, { vantage: 'coredns' })
}
/** api.prod.domain.local (coredns#4366) answered for one pod, NXDOMAIN for another. */
const externalFlip = () => [
  tx({ client: '10.1.0.4', qname: 'api.prod.domain.local.', source: 'log', path: ['coredns'] }),
  tx({
    client: '10.1.0.9',
    qname: 'api.prod.domain.local.',
    at: 3e6,
    rcode: 3,
    source: 'log',
    path: ['coredns'],
  }),
]

ruleTable(corednsKnownBug, {
  fires: [
    {
      name: 'coredns#3860: 1.6.9 with panics counted (netdata version169 dump)',
      ctx: () => ctx({ events: [buildInfo('1.6.9'), panics(99)] }),
      expect: (f) => {
        expect(f.confidence).toBe(0.8)
        expect(f.data).toMatchObject({
          bug: 'coredns#3860',
          version: '1.6.9',
          versionSource: 'build_info',
          affected: '>= 1.2.3, < 1.7.0',
          fixedIn: '1.7.0',
        })
        expect(
          (f.data.symptoms as Record<string, number>)['panics counted by coredns_panics_total'],
        ).toBe(99)
      },
    },
    {
      name: 'coredns#3860: 1.6.6 (log banner) with a kubernetes watch error (coredns#4022)',
      ctx: () => ctx({ events: [banner('1.6.6'), watchError()] }),
      expect: (f) => {
        expect(f.confidence).toBe(0.6)
        expect(f.data.versionSource).toBe('log-banner')
      },
    },
    {
      name: 'coredns#3860: 1.6.7 with a cluster name flipping to NXDOMAIN (coredns#4513)',
      ctx: () => ctx({ events: [banner('1.6.7')], transactions: flip4513() }),
      expect: (f) => {
        expect(f.confidence).toBe(0.55)
        expect(f.data.flippedNames).toEqual(['rwc.default.svc.cluster.local.'])
      },
    },
    {
      name: 'coredns#4366: autopath in the Corefile, 1.6.6, an external name answered then NXDOMAIN',
      ctx: () =>
        ctx({
          events: [fact({ type: 'coredns-version', version: '1.6.6' }), corefile2340(true)],
          transactions: externalFlip(),
        }),
      expect: (f, all) => {
        expect(all.map((x) => x.data.bug)).toEqual(['coredns#4366'])
        expect(f.confidence).toBe(0.75)
        expect(f.data.autopathInCorefile).toBe(true)
      },
    },
  ],
  quiet: [
    {
      name: '1.7.0 with no panics (netdata version170 dump)',
      ctx: () => ctx({ events: [buildInfo('1.7.0'), panics(0)] }),
    },
    {
      name: '1.6.9 without any symptom',
      ctx: () => ctx({ events: [buildInfo('1.6.9'), panics(0)] }),
    },
    {
      name: '1.8.6 (coredns#7200 banner) with a watch error: outside both ranges',
      ctx: () => ctx({ events: [banner('1.8.6'), watchError()] }),
    },
    {
      name: 'panics but no version anywhere (netdata no_version dump)',
      ctx: () => ctx({ events: [panics(99)] }),
    },
    {
      name: 'external flips on 1.6.6 but the Corefile has no autopath',
      ctx: () =>
        ctx({
          events: [fact({ type: 'coredns-version', version: '1.6.6' }), corefile2340(false)],
          transactions: externalFlip(),
        }),
    },
    {
      name: 'pre-1.0 banner "CoreDNS-004" (coredns#503) is not a version',
      ctx: () => ctx({ events: [log('CoreDNS-004', { level: 'info' }), panics(3)] }),
    },
  ],
})
