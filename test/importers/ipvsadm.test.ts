import { describe, expect, it } from 'vitest'
import { ipvsadm } from '../../core/importers/ipvsadm.js'
import {
  bytesText,
  corpus,
  facts,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
  text,
} from './nodefacts-helpers.js'

const ln = 'node/ipvs/kubernetes-kubernetes-76664_ipvsadm-Ln_udp-weight0-inactconn.txt'
const lnc = 'node/ipvs/kubernetes-kubernetes-76664_ipvsadm-Lnc_udp-conn-to-deleted-rs.txt'

describe('ipvsadm', () => {
  it('-Ln: a UDP service whose weight-0 real server still holds a connection', () => {
    const r = importChecked(ipvsadm, corpus(ln), 'ipvsadm-Ln.txt')
    expect(r.problems).toEqual([])
    expect(facts(r.events, 'ipvs-service')).toEqual([
      {
        type: 'ipvs-service',
        protocol: 'UDP',
        vip: '192.168.127.89',
        port: 514,
        scheduler: 'lc',
        realServers: [
          { addr: '192.168.128.193', port: 514, weight: 1, activeConn: 0, inactConn: 1 },
          { addr: '192.168.129.116', port: 514, weight: 0, activeConn: 0, inactConn: 1 },
        ],
      },
    ])
    expect(r.events[0].ref).toBe(5)
  })

  it('-Lnc: connection entries with mm:ss expiry', () => {
    const r = importChecked(ipvsadm, corpus(lnc), 'ipvsadm-Lnc.txt')
    expect(r.problems).toEqual([])
    expect(facts(r.events, 'ipvs-connection')[0]).toEqual({
      type: 'ipvs-connection',
      protocol: 'UDP',
      expireSec: 264,
      state: 'UDP',
      source: '192.168.127.89:44117',
      virtual: '192.168.127.89:514',
      destination: '192.168.129.116:514',
    })
    expect(facts(r.events, 'ipvs-connection')).toHaveLength(2)
  })

  it('both listings in one file, several services, IPv6 and persistence flags', () => {
    const both =
      bytesText(corpus(ln)) +
      bytesText(corpus(lnc)) +
      'TCP  [fd00::10]:53 rr persistent 60\n  -> [fd00::1:5]:53                Masq    1      3          0\n'
    const r = importChecked(ipvsadm, text(both))
    expect(r.problems).toEqual([])
    expect(
      facts(r.events, 'ipvs-service').map((s) => [s.vip, s.port, s.realServers.length]),
    ).toEqual([
      ['192.168.127.89', 514, 2],
      ['fd00::10', 53, 1],
    ])
    expect(facts(r.events, 'ipvs-service')[1].realServers[0]).toMatchObject({
      addr: 'fd00::1:5',
      activeConn: 3,
    })
    expect(facts(r.events, 'ipvs-connection')).toHaveLength(2)
  })

  it('garbage and hostile lines are problems; a real server before any service is one too', () => {
    const r = run(ipvsadm, insertAfter(corpus(ln), 5, `garbage\n${HOSTILE_LINE}`))
    expect(facts(r.events, 'ipvs-service')[0].realServers).toHaveLength(2)
    expect(r.problems.map((p) => p.where)).toEqual(['line 6', 'line 7'])
    const orphan = run(ipvsadm, text('  -> 10.0.0.1:53  Masq 1 0 0\n'))
    expect(orphan.problems[0].message).toMatch(/^real server without a service/)
  })
})
