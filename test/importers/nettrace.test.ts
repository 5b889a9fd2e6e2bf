import { describe, expect, it } from 'vitest'
import type { DropEvent } from '../../core/model/event.js'
import { nettrace } from '../../core/importers/nettrace.js'
import {
  atLine,
  corpus,
  fixture,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
} from './nodefacts-helpers.js'

const drops = (r: { events: unknown[] }) => r.events as DropEvent[]

describe('nettrace', () => {
  it('--diag --diag-stack analysis of a UDP drop (corpus, packet lines elided)', () => {
    const bytes = corpus('bpf/other/OpenCloudOS-nettrace-8_udp-drop-diag-stack___udp4_lib_rcv.txt')
    const r = importChecked(nettrace, bytes, 'nettrace.txt')
    expect(r.problems).toEqual([])
    expect(drops(r)).toHaveLength(1)
    const e = atLine<DropEvent>(r.events, bytes, 3)
    expect(e).toMatchObject({
      tool: 'nettrace',
      func: '__udp4_lib_rcv',
      reason: '',
      srcAddr: '',
      details: {
        analysis: 'kfree_skb',
        location: '__udp4_lib_rcv+0x8fe',
        message: 'packet is dropped by kernel',
      },
    })
    expect(e.stack).toHaveLength(13)
    expect(e.stack?.[9]).toBe('gro_normal_list.part.143')
  })

  // Transcribed from the nettrace README (diag mode, then --drop mode with a call stack).
  it('trace lines, analysis result with drop reason, and --drop lines with a call stack', () => {
    const bytes = fixture('nettrace/readme-diag-and-drop-examples.txt')
    const r = importChecked(nettrace, bytes, 'nettrace.txt')
    expect(r.problems).toEqual([])
    expect(drops(r)).toHaveLength(2)
    expect(atLine<DropEvent>(r.events, bytes, 7)).toMatchObject({
      protocol: 'icmp',
      srcAddr: '192.168.122.8',
      dstAddr: '10.123.119.98',
      func: 'nf_hook_slow',
      reason: 'NETFILTER_DROP',
      sinceBootUs: 4049295711,
    })
    expect(atLine<DropEvent>(r.events, bytes, 29)).toMatchObject({
      protocol: 'tcp',
      srcAddr: '192.168.1.4',
      srcPort: 61946,
      dstPort: 8000,
      func: 'tcp_v4_rcv',
      stack: ['kfree_skb+0x73', 'kfree_skb+0x73', 'tcp_v4_rcv+0x48', 'start_secondary+0x19b'],
    })
  })

  it('--detail brackets give pid and task; a UDP DNS drop keeps its ports', () => {
    const r = run(
      nettrace,
      insertAfter(
        fixture('nettrace/readme-diag-and-drop-examples.txt'),
        33,
        '[297286.084747] [c0103f00][kfree_skb][cpu:9  ][enp4s0][pid:4242   ][coredns     ][ns:0] UDP: 10.0.0.7:53000 -> 10.96.0.10:53 len: 40 *packet is dropped by kernel*',
      ),
    )
    expect(r.problems).toEqual([])
    expect(drops(r)[2]).toMatchObject({
      protocol: 'udp',
      srcPort: 53000,
      dstAddr: '10.96.0.10',
      dstPort: 53,
      pid: 4242,
      comm: 'coredns',
    })
  })

  it('garbage and hostile lines are problems; the drops stay', () => {
    const bytes = insertAfter(
      insertAfter(fixture('nettrace/readme-diag-and-drop-examples.txt'), 2, 'garbage'),
      30,
      HOSTILE_LINE,
    )
    const r = run(nettrace, bytes)
    expect(drops(r)).toHaveLength(2)
    expect(r.problems.map((p) => p.where)).toEqual(['line 3', 'line 31'])
  })

  it('a trace line with a bad address is a problem', () => {
    const r = run(
      nettrace,
      insertAfter(
        fixture('nettrace/readme-diag-and-drop-examples.txt'),
        2,
        '[1.5] [ip_rcv] UDP: nowhere -> 1.2.3.4:53 len: 3',
      ),
    )
    expect(r.problems).toEqual([
      expect.objectContaining({ where: 'line 3', message: expect.stringMatching(/^bad address/) }),
    ])
  })
})
