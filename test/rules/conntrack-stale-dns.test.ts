// conntrack-stale-dns. The unanswered entry is kubernetes#125467's (corpus/node/conntrack/
// kubernetes-kubernetes-125467_…): a pod's query to the DNS Service translated to 10.103.78.37,
// a CoreDNS pod that was terminated. Which endpoints are alive comes from the manifest, IPVS, the
// captures or the answered entries of the same listing.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { conntrackStaleDns, isIpAddress } from '../../core/rules/conntrack-stale-dns.js'
import { analyzeBundle } from '../../core/analyze.js'
import type { FactEvent, NodeFact } from '../../core/model/event.js'
import type { Manifest } from '../../core/model/bundle.js'
import { CORPUS } from '../corpus.js'
import { ctx, fact } from './context.js'
import { ruleTable } from './table.js'

const SVC = '10.96.0.10'
const DEAD = '10.103.78.37'
const LIVE = '10.103.78.40'

/** A `conntrack -L` UDP entry of a query to the Service from `client`:`sport`. */
function entry(client: string, sport: number, endpoint: string, unreplied: boolean): FactEvent {
  const f: NodeFact = {
    type: 'conntrack-entry',
    protocol: 'udp',
    state: '',
    src: client,
    dst: SVC,
    sport,
    dport: 53,
    replySrc: endpoint,
    replySport: 53,
    unreplied,
    assured: false,
    timeoutSec: 27,
  }
  return fact(f, { vantage: 'node-a' })
}

const manifest = (endpoints: string[]): Manifest => ({
  schema: 'dnsbundle.manifest/v1',
  cluster: { dnsServiceIps: [SVC], dnsEndpoints: endpoints },
  files: [],
})

const stale = () => [
  entry('10.103.83.53', 21667, DEAD, true),
  entry('10.103.83.53', 40001, DEAD, true),
  entry('10.103.83.60', 33000, DEAD, true),
]

ruleTable(conntrackStaleDns, {
  fires: [
    {
      name: 'entries translated to an endpoint the manifest does not list',
      ctx: () => ctx({ events: stale(), manifest: manifest([LIVE]), dnsServers: [] }),
      expect: (f) => {
        expect(f.severity).toBe('critical')
        expect(f.confidence).toBe(0.85)
        expect(f.data).toMatchObject({
          staleEntries: 3,
          clients: 2,
          liveKnown: true,
          liveEndpoints: [LIVE],
          targets: [{ endpoint: DEAD, entries: 3, clients: 2 }],
        })
        expect(f.evidence).toHaveLength(3)
        expect(f.mitigation).toContain(`\`conntrack -D -p udp --dport 53 --reply-src ${DEAD}\``)
        expect(conntrackStaleDns.describe!(f.data)).toBe(
          `3 unanswered DNS conntrack entries from 2 client(s) are translated to ${DEAD} (3), which is not a live DNS endpoint (live: ${LIVE}).`,
        )
      },
    },
    {
      name: 'the live endpoint known only from answered entries of the same listing',
      ctx: () =>
        ctx({
          events: [...stale(), entry('10.103.83.61', 5000, LIVE, false)],
          dnsServers: [],
        }),
      expect: (f) => {
        expect(f.confidence).toBe(0.7)
        expect(f.data).toMatchObject({ staleEntries: 3, liveEndpoints: [LIVE] })
      },
    },
    {
      name: 'the live endpoints from IPVS real servers with weight (the dead one drained, weight 0)',
      ctx: () =>
        ctx({
          events: [
            ...stale(),
            fact({
              type: 'ipvs-service',
              protocol: 'UDP',
              vip: SVC,
              port: 53,
              scheduler: 'rr',
              realServers: [
                { addr: LIVE, port: 53, weight: 1, activeConn: 0, inactConn: 3 },
                { addr: DEAD, port: 53, weight: 0, activeConn: 0, inactConn: 1 },
              ],
            }),
          ],
          dnsServers: [],
        }),
      expect: (f) => expect(f.data).toMatchObject({ staleEntries: 3, liveEndpoints: [LIVE] }),
    },
    {
      name: 'nothing says which endpoints live: info, with where the entries point',
      ctx: () => ctx({ events: stale(), dnsServers: [] }),
      expect: (f) => {
        expect(f.severity).toBe('info')
        expect(f.confidence).toBe(0.3)
        expect(f.data).toMatchObject({ liveKnown: false, targets: [{ endpoint: DEAD }] })
        expect(f.mitigation).toContain('kubectl -n kube-system get endpoints kube-dns')
      },
    },
  ],
  quiet: [
    {
      name: 'unanswered entries to a live endpoint (a query in flight, or lost another way)',
      ctx: () =>
        ctx({
          events: [entry('10.0.0.1', 1, LIVE, true)],
          manifest: manifest([LIVE]),
          dnsServers: [],
        }),
    },
    {
      name: 'answered entries only',
      ctx: () => ctx({ events: [entry('10.0.0.1', 1, DEAD, false)], dnsServers: [] }),
    },
    {
      // The reply source would go into the suggested command: `x;rm${IFS}-rf${IFS}/` must not.
      name: 'entries whose reply source is not an IP address',
      ctx: () =>
        ctx({
          events: [
            entry('10.0.0.1', 1, 'x;rm${IFS}-rf${IFS}/', true),
            entry('10.0.0.1', 2, '10.0.0.256', true),
            entry('10.0.0.1', 3, 'fe80::1`', true),
          ],
          manifest: manifest([LIVE]),
          dnsServers: [],
        }),
    },
    {
      name: 'no conntrack listing',
      ctx: () => ctx({ manifest: manifest([LIVE]), dnsServers: [] }),
    },
  ],
})

describe('isIpAddress', () => {
  it('takes IPv4 and IPv6 literals only', () => {
    for (const ok of ['10.0.0.1', '255.255.255.255', 'fe80::1', '::ffff:10.0.0.1', '2001:db8::53'])
      expect(isIpAddress(ok), ok).toBe(true)
    for (const bad of ['10.0.0.256', '10.0.0', '<clusterIp>', 'a;b', 'fe80::1`', '', 'x:y'])
      expect(isIpAddress(bad), bad).toBe(false)
  })
})

describe('conntrack-stale-dns on kubernetes#125467', () => {
  it('finds the entry to the terminated pod, with the listing line as evidence', () => {
    const file =
      'node/conntrack/kubernetes-kubernetes-125467_conntrack-L-udp_stale-unreplied-to-dead-coredns_redacted-clusterip.txt'
    const bytes = new Uint8Array(readFileSync(path.join(CORPUS, file)))
    const m: Manifest = {
      schema: 'dnsbundle.manifest/v1',
      // The user redacted the ClusterIP as `<clusterIp>`; the live pod is made up.
      cluster: { dnsServiceIps: ['<clusterIp>'], dnsEndpoints: [LIVE] },
      files: [{ path: 'node/conntrack-L.txt' }],
    }
    const report = analyzeBundle({
      files: [
        { path: 'manifest.json', bytes: new TextEncoder().encode(JSON.stringify(m)) },
        { path: 'node/conntrack-L.txt', bytes },
      ],
      skipped: [],
    })
    const f = report.findings.find((x) => x.id === 'conntrack-stale-dns')
    expect(f?.data).toMatchObject({ staleEntries: 1, targets: [{ endpoint: DEAD, entries: 1 }] })
    expect(f?.evidence[0]).toMatchObject({ input: 'node/conntrack-L.txt', where: 'line 1' })
  })
})
