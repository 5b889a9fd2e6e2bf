import { describe, expect, it } from 'vitest'
import type { DropEvent } from '../../core/model/event.js'
import { bpfDropTable } from '../../core/importers/bpf-drop-table.js'
import {
  atLine,
  bytesText,
  corpus,
  fixture,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
  text,
} from './nodefacts-helpers.js'

const drops = (r: { events: unknown[] }) => r.events as DropEvent[]

describe('bpf-drop-table: the seed talk table (TIME PID SKB FUNC LADDR:LPORT RADDR:RPORT)', () => {
  const bytes = fixture('bpftrace/seed-kubecon-china-2021/trace_dns_drop.txt')

  it('reads the six drops with function, 4-tuple, pid, skb and the time of day', () => {
    const r = importChecked(bpfDropTable, bytes, 'trace_dns_drop.txt')
    expect(r.problems).toEqual([])
    expect(drops(r).map((e) => e.func)).toEqual([
      'ip_vs_remote_request4',
      'ip_vs_local_request4',
      'ipt_do_table',
      'ipt_do_table',
      'ip_vs_local_request4',
      'ip_vs_remote_request4',
    ])
    const first = atLine<DropEvent>(r.events, bytes, 4)
    expect(first).toMatchObject({
      kind: 'drop',
      tool: 'bpftrace',
      srcAddr: '172.20.6.28',
      srcPort: 38888,
      dstAddr: '172.21.0.10',
      dstPort: 53,
      pid: 203751,
      reason: '',
      protocol: 'unknown',
      clock: '15:06:24',
      details: { skb: 'ffff8b8fe531a300' },
    })
    // HH:MM:SS has no date: the time stays unknown and the text is kept for anchoring.
    expect(first.time).toBeNaN()
    expect(drops(r)[5]).toMatchObject({
      clock: '15:08:10',
      srcAddr: '172.20.6.28',
      dstAddr: '172.21.0.10',
    })
  })
})

describe('bpf-drop-table: a kfree_skb table with a REASON column (bpftrace 0.17, real run)', () => {
  const bytes = fixture('bpftrace/0.17/kfree-skb-reason.txt')

  it('reads the reasons, and a COMM holding a space', () => {
    const r = importChecked(bpfDropTable, bytes, 'kfree-skb-reason.txt')
    expect(r.problems).toEqual([])
    const reasons = drops(r).map((e) => e.reason)
    expect(reasons.slice(0, 3)).toEqual(['NETFILTER_DROP', 'NO_SOCKET', 'SOCKET_RCVBUFF'])
    expect(reasons.filter((x) => x === 'SOCKET_RCVBUFF')).toHaveLength(10)
    expect(atLine<DropEvent>(r.events, bytes, 4)).toMatchObject({
      srcAddr: '127.0.0.2',
      srcPort: 34962,
      dstAddr: '127.0.0.1',
      dstPort: 53,
      comm: 'isc-net-0000',
      pid: 19524,
      clock: '10:22:43',
    })
    // The script printed a reason it had no name for as its number.
    expect(atLine<DropEvent>(r.events, bytes, 16)).toMatchObject({
      comm: 'V8 DefaultWorke',
      reason: '2',
    })
  })
})

describe('bpf-drop-table: collector/scripts/dns-drops.bt output (format v1)', () => {
  const bytes = fixture('dns-drops-bt/0.17/netns-udp-tcp-v6-kernel-6.18.txt')

  it('names numeric reasons from the printed kfree_skb format and keeps absolute times', () => {
    const r = importChecked(bpfDropTable, bytes, 'dns-drops.txt')
    expect(r.problems).toEqual([])
    expect(drops(r)).toHaveLength(4)
    const udp = atLine<DropEvent>(r.events, bytes, 19)
    expect(udp).toMatchObject({
      tool: 'dns-drops.bt',
      protocol: 'udp',
      reason: 'NETFILTER_DROP',
      func: 'nft_do_chain',
      srcAddr: '127.0.0.1',
      srcPort: 45353,
      dstAddr: '127.0.0.1',
      dstPort: 53,
      pid: 11549,
      comm: 'isc-net-0000',
      details: { netns: '4026532177' },
    })
    // 2026-11-26T10:18:45.151940+0000
    expect(udp.time).toBe(Date.UTC(2026, 10, 26, 10, 18, 45) * 1000 + 151940)
    expect(udp.sinceBootUs).toBe(423252185)
    expect(drops(r)[1]).toMatchObject({
      srcAddr: '::1',
      dstAddr: '::1',
      reason: 'NO_SOCKET',
      func: '__udp6_lib_rcv',
    })
    expect(drops(r)[3]).toMatchObject({ protocol: 'tcp', comm: 'ksoftirqd/0', pid: 14 })
  })

  it('keeps numbers, and says why, when the reason table is missing', () => {
    const cut = bytesText(bytes)
      .split('\n')
      .filter((l) => !l.startsWith('print fmt:'))
      .join('\n')
    const r = run(bpfDropTable, text(cut))
    expect(drops(r).map((e) => e.reason)).toEqual(['12', '3', '12', '12'])
    expect(r.problems[0].message).toMatch(/numeric drop reasons/)
  })
})

describe('bpf-drop-table: tcpdrop (BCC and bpftrace)', () => {
  it('BCC: REASON (CODE), STATE (FLAGS) and the b-literal stack', () => {
    const bytes = corpus('bpf/bcc/tcpdrop_example.txt')
    const r = importChecked(bpfDropTable, bytes, 'tcpdrop_example.txt')
    expect(r.problems).toEqual([])
    expect(drops(r)).toHaveLength(1)
    const e = atLine<DropEvent>(r.events, bytes, 9)
    expect(e).toMatchObject({
      tool: 'tcpdrop',
      protocol: 'tcp',
      srcAddr: '39.156.66.10',
      srcPort: 80,
      dstAddr: '10.211.55.10',
      dstPort: 33280,
      reason: 'NETFILTER_DROP',
      // the first frame that is not the freeing machinery
      func: 'nft_do_chain',
      clock: '14:46:49',
      details: { ip: '4', state: 'SYN_SENT', flags: 'SYN|ACK', code: '12' },
    })
    expect(e.stack).toHaveLength(31)
    expect(e.stack?.[0]).toBe('__traceiter_kfree_skb+0x90')
  })

  it('bpftrace: truncated STATE, tab-indented stack', () => {
    const bytes = corpus('bpf/bpftrace/tcpdrop_example.txt')
    const r = importChecked(bpfDropTable, bytes, 'tcpdrop_example.txt')
    expect(r.problems).toEqual([])
    expect(drops(r)).toHaveLength(1)
    expect(drops(r)[0]).toMatchObject({
      comm: 'swapper/2',
      srcAddr: '10.231.244.31',
      srcPort: 3306,
      dstPort: 50552,
      func: 'tcp_v4_do_rcv',
      details: { state: 'ESTABLISHE' },
    })
    expect(drops(r)[0].stack).toHaveLength(29)
  })
})

describe('bpf-drop-table: other column layouts', () => {
  it('address and port in columns of their own, a LOCATION with offset, no TIME', () => {
    const r = importChecked(
      bpfDropTable,
      text(
        [
          'Attaching 1 probe...',
          'PID    COMM             SADDR        SPORT  DADDR        DPORT  REASON          LOCATION',
          '0      swapper/1        10.0.0.7     41234  10.96.0.10   53     QDISC_DROP      __dev_queue_xmit+0x5d1',
          '4242   coredns          10.0.0.9     53     10.0.0.7     41234  SKB_DROP_REASON_SOCKET_RCVBUFF  __udp_enqueue_schedule_skb+0x2b',
        ].join('\n'),
      ),
    )
    expect(r.problems).toEqual([])
    expect(drops(r)).toEqual([
      expect.objectContaining({
        srcAddr: '10.0.0.7',
        srcPort: 41234,
        dstAddr: '10.96.0.10',
        dstPort: 53,
        reason: 'QDISC_DROP',
        func: '__dev_queue_xmit',
        details: { location: '__dev_queue_xmit+0x5d1' },
        comm: 'swapper/1',
        pid: 0,
      }),
      expect.objectContaining({
        srcPort: 53,
        reason: 'SOCKET_RCVBUFF',
        func: '__udp_enqueue_schedule_skb',
        comm: 'coredns',
      }),
    ])
    expect(drops(r)[0].time).toBeNaN()
    expect(drops(r)[0]).not.toHaveProperty('clock')
  })

  it('does not take tables of other tools: tcpretrans, tcpconnect', () => {
    expect(
      bpfDropTable.sniff(
        text(
          'TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE\n01:55:05 0      4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED\n',
        ),
        'x',
      ),
    ).toBe(false)
    expect(
      bpfDropTable.sniff(
        text(
          'PID    COMM         IP SADDR            DADDR            DPORT\n1479   telnet       4  127.0.0.1        127.0.0.1        23\n',
        ),
        'x',
      ),
    ).toBe(false)
  })
})

describe('bpf-drop-table: malformed input', () => {
  const bytes = fixture('bpftrace/seed-kubecon-china-2021/trace_dns_drop.txt')

  it('skips garbage and hostile lines inside the table with a problem each, keeping the rows', () => {
    const bad = insertAfter(insertAfter(bytes, 5, 'garbage here'), 7, HOSTILE_LINE)
    const r = run(bpfDropTable, bad)
    expect(drops(r)).toHaveLength(6)
    expect(r.problems.map((p) => p.where)).toEqual(['line 6', 'line 8'])
    expect(r.problems[1].message.length).toBeLessThan(200)
  })

  it('a row with a bad address or time is a problem, not a drop', () => {
    const r = run(
      bpfDropTable,
      insertAfter(
        bytes,
        3,
        '15:06:2x\t1\tffff\tipt_do_table\t1.2.3.4:1\t5.6.7.8:53\n15:06:24\t1\tffff\tf\tnot-an-addr\t5.6.7.8:53',
      ),
    )
    expect(drops(r)).toHaveLength(6)
    expect(r.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^bad TIME/),
      expect.stringMatching(/^bad address LADDR:LPORT/),
    ])
  })

  it('a table cut mid-row keeps the complete rows', () => {
    const s = bytesText(bytes)
    const r = run(bpfDropTable, text(s.slice(0, s.indexOf('ipt_do_table') + 5)))
    expect(drops(r)).toHaveLength(2)
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0].where).toBe('line 6')
  })

  it('reports lost events', () => {
    const r = run(bpfDropTable, insertAfter(bytes, 9, 'Lost 42 events'))
    expect(r.problems).toEqual([{ where: 'line 10', message: 'the tracer lost 42 events here' }])
  })
})
