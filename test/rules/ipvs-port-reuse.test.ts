// ipvs-port-reuse. Facts mirror corpus/node/ipvs/kubernetes-kubernetes-76664_ipvsadm-Ln_udp-weight0-inactconn.txt
// (UDP 192.168.127.89:514 lc -> .128.193 weight 1, .129.116 weight 0 InActConn 1) and
// corpus/node/ipvs/kubernetes-kubernetes-76664_ipvsadm-Lnc_udp-conn-to-deleted-rs.txt (a UDP entry
// still pointing at .129.116), moved to the DNS port where the test says so; the drops mirror the
// seed talk's ip_vs_remote_request4 rows.
import { expect } from 'vitest'
import { ipvsPortReuse } from '../../core/rules/ipvs-port-reuse.js'
import type { Manifest } from '../../core/model/bundle.js'
import { ctx, drop, fact, tx } from './context.js'
import { ruleTable } from './table.js'

const service = (vip: string, port: number) =>
  fact({
    type: 'ipvs-service',
    protocol: 'UDP',
    vip,
    port,
    scheduler: 'lc',
    realServers: [
      { addr: '192.168.128.193', port, weight: 1, activeConn: 0, inactConn: 1 },
      { addr: '192.168.129.116', port, weight: 0, activeConn: 0, inactConn: 1 },
    ],
  })
const conns = (vip: string, port: number) => [
  fact({
    type: 'ipvs-connection',
    protocol: 'UDP',
    expireSec: 264,
    state: 'UDP',
    source: `${vip}:44117`,
    virtual: `${vip}:${port}`,
    destination: `192.168.129.116:${port}`,
  }),
  fact({
    type: 'ipvs-connection',
    protocol: 'UDP',
    expireSec: 252,
    state: 'UDP',
    source: '192.168.128.178:42898',
    virtual: `${vip}:${port}`,
    destination: `192.168.128.193:${port}`,
  }),
]
const ipvsMode = () => fact({ type: 'kube-proxy-mode', mode: 'ipvs' })
const manifest76664: Manifest = {
  schema: 'dnsbundle.manifest/v1',
  files: [],
  cluster: { dnsServiceIps: ['192.168.127.89'], kubeProxyMode: 'ipvs' },
}

ruleTable(ipvsPortReuse, {
  fires: [
    {
      name: 'UDP/53 connection to a weight-0 endpoint, IPVS mode, kernel 4.19',
      ctx: () =>
        ctx({
          events: [
            ipvsMode(),
            service('10.96.0.10', 53),
            ...conns('10.96.0.10', 53),
            fact({ type: 'kernel', release: '4.19.0-16-amd64' }),
          ],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.75)
        expect(f.data).toMatchObject({
          services: ['10.96.0.10:53'],
          staleConnections: 1,
          staleDestinations: ['192.168.129.116:53'],
          drainedServices: 1,
          kernelOlderThan59: true,
        })
        expect(f.evidence[0].kind).toBe('fact')
      },
    },
    {
      name: 'the #76664 output as is, with the manifest naming 192.168.127.89 as the DNS Service',
      ctx: () =>
        ctx({
          events: [service('192.168.127.89', 514), ...conns('192.168.127.89', 514)],
          manifest: manifest76664,
        }),
      expect: (f) => {
        expect(f.data.staleConnections).toBe(1)
        expect(f.data.kernel).toBeNull()
        expect(f.confidence).toBe(0.55)
      },
    },
    {
      name: 'ip_vs_remote_request4 drops of DNS, timeouts to the Service (no ipvsadm output)',
      ctx: () =>
        ctx({
          events: [
            ipvsMode(),
            drop('172.20.6.28:38888', '172.21.0.10:53', 'ip_vs_remote_request4', ''),
            drop('172.20.6.28:38888', '172.21.0.10:53', 'ip_vs_remote_request4', ''),
          ],
          transactions: [
            tx({
              client: '172.20.6.28',
              clientPort: 38888,
              server: '172.21.0.10',
              qname: 'db.default.svc.cluster.local.',
              latencyMs: null,
            }),
          ],
        }),
      expect: (f) => {
        expect(f.data.ipvsDrops).toBe(2)
        expect(f.data.unansweredToService).toBe(1)
        expect(f.confidence).toBe(0.7)
      },
    },
  ],
  quiet: [
    {
      name: 'kernel 5.10 has the fix',
      ctx: () =>
        ctx({
          events: [
            ipvsMode(),
            service('10.96.0.10', 53),
            ...conns('10.96.0.10', 53),
            fact({ type: 'kernel', release: '5.10.0-28-cloud-amd64' }),
          ],
        }),
    },
    {
      name: 'kube-proxy in iptables mode',
      ctx: () =>
        ctx({
          events: [
            fact({ type: 'kube-proxy-mode', mode: 'iptables' }),
            service('10.96.0.10', 53),
            ...conns('10.96.0.10', 53),
          ],
        }),
    },
    {
      name: 'connections only to live endpoints',
      ctx: () =>
        ctx({ events: [ipvsMode(), service('10.96.0.10', 53), conns('10.96.0.10', 53)[1]] }),
    },
    {
      name: 'the #76664 syslog service (UDP/514) without a manifest saying it is DNS',
      ctx: () => ctx({ events: [service('192.168.127.89', 514), ...conns('192.168.127.89', 514)] }),
    },
  ],
})
