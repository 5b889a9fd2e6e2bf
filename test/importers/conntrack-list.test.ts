import { describe, expect, it } from 'vitest'
import { conntrackList } from '../../core/importers/conntrack-list.js'
import {
  corpus,
  facts,
  fixture,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
} from './nodefacts-helpers.js'

describe('conntrack-list: conntrack -L', () => {
  it('a stale UDP entry to a dead CoreDNS pod, with the trailer run onto the line', () => {
    const bytes = corpus(
      'node/conntrack/kubernetes-kubernetes-125467_conntrack-L-udp_stale-unreplied-to-dead-coredns_redacted-clusterip.txt',
    )
    const r = importChecked(conntrackList, bytes, 'conntrack-L.txt')
    expect(r.problems).toEqual([])
    expect(facts(r.events, 'conntrack-entry')).toEqual([
      {
        type: 'conntrack-entry',
        protocol: 'udp',
        state: '',
        src: '10.103.83.53',
        dst: '<clusterIp>',
        sport: 21667,
        dport: 53,
        replySrc: '10.103.78.37',
        replySport: 53,
        unreplied: true,
        assured: false,
        timeoutSec: 27,
      },
    ])
  })

  it('a Service IP DNATed to a pod, TCP TIME_WAIT [ASSURED] and an unreplied query (real run)', () => {
    for (const name of [
      'conntrack-L_dnat-service-ip_unreplied.txt',
      'conntrack-L-o-extended.txt',
    ]) {
      const bytes = fixture('conntrack/1.4.7/' + name)
      const r = importChecked(conntrackList, bytes, name)
      expect(r.problems).toEqual([])
      const e = facts(r.events, 'conntrack-entry')
      expect(e).toHaveLength(4)
      expect(e[0]).toMatchObject({
        protocol: 'tcp',
        state: 'TIME_WAIT',
        assured: true,
        dst: '10.96.0.10',
        replySrc: '10.244.1.10',
        timeoutSec: 117,
      })
      expect(e[1]).toMatchObject({
        protocol: 'udp',
        dst: '10.96.0.10',
        replySrc: '10.244.1.10',
        unreplied: false,
      })
      expect(e[2]).toMatchObject({ dst: '10.244.1.99', replySrc: '10.244.1.99', unreplied: true })
      expect(r.events.map((x) => x.ref)).toEqual([2, 3, 4, 5])
    }
  })

  it('reads the tokens as conntrack prints them: a second src= starts the reply, flags anywhere', () => {
    const text = [
      // A third src= is still the reply's; keys it does not use are skipped; an empty value.
      'udp 17 29 src=10.0.0.1 dst=10.96.0.10 sport=5000 dport=53 zone=2 src=10.244.0.5 dst=10.0.0.1 sport=53 dport=5000 src=10.244.0.6 mark=0',
      // Flags before the reply and at the end; a state; no ports (ICMP).
      'icmp 1 29 src=10.0.0.2 dst=10.0.0.3 type=8 code=0 id=7 [UNREPLIED] src=10.0.0.3 dst=10.0.0.2 type=0 code=0 id=7 [ASSURED] mark=0 use=1',
      'tcp 6 100 ESTABLISHED src=10.0.0.4 dst= sport=1 dport=2 src=10.0.0.5 dst=10.0.0.4 sport=2 dport=1',
      'udp 17 29 src=10.0.0.1 dst=10.96.0.10 sport=5000 dport=53 [unreplied]',
      'udp 17 29 src=10.0.0.1 dst=10.96.0.10 sport=5000 dport=53 mark-x=1',
    ].join('\n')
    const r = run(conntrackList, new TextEncoder().encode(text))
    expect(facts(r.events, 'conntrack-entry')).toEqual([
      {
        type: 'conntrack-entry',
        protocol: 'udp',
        state: '',
        src: '10.0.0.1',
        dst: '10.96.0.10',
        sport: 5000,
        dport: 53,
        replySrc: '10.244.0.6',
        replySport: 53,
        unreplied: false,
        assured: false,
        timeoutSec: 29,
      },
      {
        type: 'conntrack-entry',
        protocol: 'icmp',
        state: '',
        src: '10.0.0.2',
        dst: '10.0.0.3',
        sport: 0,
        dport: 0,
        replySrc: '10.0.0.3',
        replySport: 0,
        unreplied: true,
        assured: true,
        timeoutSec: 29,
      },
    ])
    // An empty destination, a lower-case flag, a key that is not a word: not entries.
    expect(r.problems.map((p) => p.where)).toEqual(['line 3', 'line 4', 'line 5'])
  })

  it('garbage and hostile lines are problems; the entries stay', () => {
    const bytes = insertAfter(
      fixture('conntrack/1.4.7/conntrack-L_dnat-service-ip_unreplied.txt'),
      2,
      `udp 17 x src=1.2.3.4\n${HOSTILE_LINE}`,
    )
    const r = run(conntrackList, bytes)
    expect(facts(r.events, 'conntrack-entry')).toHaveLength(4)
    expect(r.problems.map((p) => p.where)).toEqual(['line 3', 'line 4'])
  })
})
