import { describe, expect, it } from 'vitest'
import type { LogEvent } from '../../core/model/event.js'
import { kernelLog } from '../../core/importers/kernel-log.js'
import {
  corpus,
  facts,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
  text,
} from './nodefacts-helpers.js'

const logs = (r: { events: { kind: string }[] }) =>
  r.events.filter((e) => e.kind === 'log') as LogEvent[]

describe('kernel-log', () => {
  it('syslog kernel lines, one cut at the start, the others wrapped in two', () => {
    const bytes = corpus(
      'node/kernel-log/wballard-starphleet-352_dmesg_nf_conntrack-table-full_wrapped.txt',
    )
    const r = importChecked(kernelLog, bytes, 'dmesg.txt')
    expect(r.problems).toEqual([])
    expect(r.eventCount).toBe(5)
    const full = facts(r.events, 'conntrack-table-full')
    expect(full).toHaveLength(5)
    expect(full.every((f) => f.line === 'nf_conntrack: table full, dropping packet')).toBe(true)
    const l = logs(r)
    expect(l).toHaveLength(5)
    expect(l[0]).toMatchObject({
      plugin: 'kernel',
      level: 'warning',
      sinceBootUs: 38775494392631,
      ref: 1,
    })
    expect(l[0]).not.toHaveProperty('clock')
    // No year in a syslog stamp: the time stays unknown, the stamp is kept.
    expect(l[1]).toMatchObject({
      ref: 2,
      offset: 72,
      clock: 'Feb 23 16:44:36',
      sinceBootUs: 38775494393661,
    })
    expect(l[1].time).toBeNaN()
    expect(r.events.filter((e) => e.kind === 'fact').map((e) => e.ref)).toEqual([1, 2, 4, 6, 8])
  })

  it('dmesg, dmesg -T, dmesg -x and journalctl -o short-iso', () => {
    const r = importChecked(
      kernelLog,
      text(
        [
          '[    0.000000] Linux version 6.18.44 (builder@host) #1 SMP PREEMPT_DYNAMIC',
          '[12345.678901] nf_conntrack: nf_conntrack: table full, dropping packet',
          '[Thu Nov 26 10:11:41 2026] IPVS: rr: UDP 10.96.0.10:53 - no destination available',
          "kern  :warn  : [    0.000000] [Firmware Bug]: TSC doesn't count with P0 frequency!",
          '2026-11-26T10:11:41+0000 node-1 kernel: nf_conntrack: table full, dropping packet',
          '2026-11-26T10:11:42.250000+01:00 node-1 systemd[1]: Started foo.service.',
        ].join('\n'),
      ),
    )
    expect(r.problems).toEqual([])
    const l = logs(r)
    expect(l.map((e) => e.message)).toEqual([
      'Linux version 6.18.44 (builder@host) #1 SMP PREEMPT_DYNAMIC',
      'nf_conntrack: nf_conntrack: table full, dropping packet',
      'IPVS: rr: UDP 10.96.0.10:53 - no destination available',
      "[Firmware Bug]: TSC doesn't count with P0 frequency!",
      'nf_conntrack: table full, dropping packet',
    ])
    expect(l[2].clock).toBe('Thu Nov 26 10:11:41 2026')
    expect(l[3]).toMatchObject({ level: 'warning', sinceBootUs: 0 })
    expect(l[4].time).toBe(Date.UTC(2026, 10, 26, 10, 11, 41) * 1000)
    expect(facts(r.events, 'conntrack-table-full')).toHaveLength(2)
  })

  it('garbage after a blank line and a hostile binary line are problems; the messages stay', () => {
    const bytes = insertAfter(
      corpus('node/kernel-log/wballard-starphleet-352_dmesg_nf_conntrack-table-full_wrapped.txt'),
      3,
      `\nnot a kernel line\n\u0001\u0002${HOSTILE_LINE}`,
    )
    const r = run(kernelLog, bytes)
    expect(facts(r.events, 'conntrack-table-full')).toHaveLength(5)
    expect(r.problems.map((p) => p.where)).toEqual(['line 5', 'line 6'])
  })
})
