import { describe, expect, it } from 'vitest'
import type { DropEvent } from '../../core/model/event.js'
import { pwru } from '../../core/importers/pwru.js'
import {
  atLine,
  corpus,
  corpusFiles,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
  text,
} from './nodefacts-helpers.js'

const drops = (r: { events: unknown[] }) => r.events as DropEvent[]

describe('pwru: the four output generations', () => {
  it('v0 (SKB CPU [COMM] FUNC TUPLE): kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)', () => {
    const bytes = corpus('bpf/pwru/cilium-pwru-148_v0-format_kfree_skb_reason-NETFILTER_DROP.txt')
    const r = importChecked(pwru, bytes, 'pwru.txt')
    expect(r.problems).toEqual([])
    expect(drops(r)).toHaveLength(1)
    expect(atLine<DropEvent>(r.events, bytes, 2)).toMatchObject({
      tool: 'pwru',
      reason: 'NETFILTER_DROP',
      // the function the skb was in just before it was freed
      func: 'nf_hook_slow',
      path: ['nf_hook_slow', 'kfree_skb_reason'],
      protocol: 'tcp',
      srcAddr: '172.20.10.2',
      srcPort: 33918,
      dstAddr: '1.1.1.1',
      dstPort: 4240,
      comm: 'curl',
      details: { skb: '0xffff936378692ce8', cpu: '6' },
    })
  })

  it('v1 (header, --output-meta key=value): traced rows without a drop give no event and no problem', () => {
    const bytes = corpus('bpf/pwru/cilium-pwru-194_v1-format_header_meta-kv_filter-track-skb.txt')
    const r = importChecked(pwru, bytes, 'pwru.txt')
    expect(r).toEqual({ events: [], problems: [] })
    // The same skb freed as dropped: its path and metadata come with the drop.
    const dropped = insertAfter(
      bytes,
      11,
      '0xffff90f72f43fae8      2             [nc] kfree_skb_reason(SKB_DROP_REASON_NO_SOCKET) netns=4026533589 mark=0x0 ifindex=8 proto=8 mtu=1500 len=60 10.244.1.165:34998->10.244.0.88:80(tcp)',
    )
    const d = run(pwru, dropped)
    expect(d.problems).toEqual([])
    expect(drops(d)[0]).toMatchObject({
      reason: 'NO_SOCKET',
      func: '__netif_receive_skb',
      path: [
        '__netif_rx',
        'netif_rx_internal',
        'enqueue_to_backlog',
        '__netif_receive_skb',
        'kfree_skb_reason',
      ],
      details: { netns: '4026533589', ifindex: '8', len: '60' },
      ref: 12,
    })
  })

  it('v2 columns with CALLER: no drop rows', () => {
    const bytes = corpus('bpf/pwru/cilium-pwru-416_v2-format_columns_output-skb-meta-tuple.txt')
    const r = importChecked(pwru, bytes, 'pwru.txt')
    expect(r).toEqual({ events: [], problems: [] })
    const dropped = insertAfter(
      bytes,
      5,
      '0xff452c7c65ea9e00 4   <empty>:0        4026531840 0            ens1f0:2     0x0800 9000  74    10.14.134.20:35676->10.14.134.10:443(tcp) kfree_skb_reason(SKB_DROP_REASON_TCP_CSUM) tcp_v4_rcv',
    )
    expect(drops(run(pwru, dropped))[0]).toMatchObject({
      reason: 'TCP_CSUM',
      func: 'tcp_v4_rcv',
      details: { netns: '4026531840', iface: 'ens1f0:2', proto: '0x0800', mtu: '9000', len: '74' },
    })
  })

  it('v2 on kernel 6.11: sk_skb_reason_drop without a reason, process path:pid', () => {
    const bytes = corpus(
      'bpf/pwru/cilium-pwru-429_v2-format_sk_skb_reason_drop_no-reason_kernel-6.11.txt',
    )
    const r = importChecked(pwru, bytes, 'pwru.txt')
    expect(r.problems).toEqual([])
    expect(atLine<DropEvent>(r.events, bytes, 1)).toMatchObject({
      func: 'sk_skb_reason_drop',
      reason: '',
      protocol: 'icmp',
      srcAddr: '172.16.0.1',
      dstAddr: '172.16.0.2',
      comm: '~system-x86',
      pid: 3433,
      details: { iface: 'vgif_r2_1:13', netns: '4026531840' },
    })
  })

  it('an unnamed reason number, an absolute TIME column and --output-stack frames', () => {
    const r = run(
      pwru,
      text(
        [
          'TIME                    SKB                CPU PROCESS          FUNC',
          '2024-10-04T10:01:02.123 0xffff997d135cf300 1   [dig]            ip_rcv',
          '2024-10-04T10:01:02.124 0xffff997d135cf300 1   [dig]            kfree_skb_reason (77)',
          'nf_hook_slow+0x9c',
          'ip_rcv+0x2f',
        ].join('\n'),
      ),
    )
    expect(r.problems).toEqual([])
    expect(drops(r)[0]).toMatchObject({
      reason: '77',
      func: 'ip_rcv',
      clock: '2024-10-04T10:01:02.124',
      stack: ['nf_hook_slow+0x9c', 'ip_rcv+0x2f'],
    })
  })

  it('garbage and hostile lines after the header are problems; drops stay', () => {
    const bytes = insertAfter(
      corpus('bpf/pwru/cilium-pwru-148_v0-format_kfree_skb_reason-NETFILTER_DROP.txt'),
      1,
      `this is not pwru\n${HOSTILE_LINE}\n0xffff 6 [curl] bad(func)name 1.2.3.4:1->5.6.7.8:53(udp)`,
    )
    const r = run(pwru, bytes)
    expect(drops(r)).toHaveLength(1)
    expect(r.problems.map((p) => p.where)).toEqual(['line 2', 'line 3', 'line 4'])
  })

  it('every corpus file imports without problems', () => {
    for (const f of corpusFiles('bpf/pwru')) expect(run(pwru, corpus(f)).problems, f).toEqual([])
  })
})
