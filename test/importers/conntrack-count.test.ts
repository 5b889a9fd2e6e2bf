import { describe, expect, it } from 'vitest'
import { conntrackCount } from '../../core/importers/conntrack-count.js'
import { facts, fixture, HOSTILE_LINE, importChecked, run, text } from './nodefacts-helpers.js'

describe('conntrack-count: nf_conntrack_count and nf_conntrack_max', () => {
  it('sysctl output (real run), other nf_conntrack keys skipped', () => {
    const r = importChecked(
      conntrackCount,
      fixture('sysctl/debian-12_nf_conntrack.txt'),
      'sysctl.txt',
    )
    expect(r.problems).toEqual([])
    expect(facts(r.events, 'conntrack-count')).toEqual([
      { type: 'conntrack-count', count: 0, max: 262144 },
    ])
    expect(r.events[0].ref).toBe(1)
  })

  it('grep -H over /proc/sys (real run)', () => {
    const r = importChecked(conntrackCount, fixture('sysctl/grep-H_proc.txt'), 'proc.txt')
    expect(facts(r.events, 'conntrack-count')).toEqual([
      { type: 'conntrack-count', count: 0, max: 262144 },
    ])
  })

  it('the collector format, sampled twice, and the old net.nf_conntrack_max alias', () => {
    const r = importChecked(
      conntrackCount,
      text(
        'nf_conntrack_count 1234\nnf_conntrack_max 262144\nnf_conntrack_count 262144\nnet.nf_conntrack_max = 262144\n',
      ),
    )
    expect(facts(r.events, 'conntrack-count')).toEqual([
      { type: 'conntrack-count', count: 1234, max: 262144 },
      { type: 'conntrack-count', count: 262144, max: 262144 },
    ])
    expect(r.events.map((e) => e.ref)).toEqual([1, 3])
  })

  it('count alone is a fact without max', () => {
    const r = importChecked(conntrackCount, text('net.netfilter.nf_conntrack_count = 17\n'))
    expect(facts(r.events, 'conntrack-count')).toEqual([{ type: 'conntrack-count', count: 17 }])
  })

  it('garbage and hostile lines are problems; the numbers stay', () => {
    const r = run(
      conntrackCount,
      text(
        `nf_conntrack_count 5\ngarbage\n${HOSTILE_LINE}\nnf_conntrack_max x\nnf_conntrack_max 9\n`,
      ),
    )
    expect(facts(r.events, 'conntrack-count')).toEqual([
      { type: 'conntrack-count', count: 5, max: 9 },
    ])
    expect(r.problems.map((p) => p.where)).toEqual(['line 2', 'line 3', 'line 4'])
  })
})
