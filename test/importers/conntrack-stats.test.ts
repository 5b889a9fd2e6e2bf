import { describe, expect, it } from 'vitest'
import { conntrackStats } from '../../core/importers/conntrack-stats.js'
import {
  corpus,
  facts,
  fixture,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
  text,
} from './nodefacts-helpers.js'

const dir = 'node/conntrack/'
const stats = (bytes: Uint8Array, name = 'conntrack-S.txt') => {
  const r = importChecked(conntrackStats, bytes, name)
  return { r, s: facts(r.events, 'conntrack-stats') }
}

describe('conntrack-stats: conntrack -S in every layout', () => {
  it('per-CPU with ignore=, a tab after cpu=N and a trailing space (prompt line skipped)', () => {
    const { r, s } = stats(
      corpus(
        dir + 'concourse-concourse-4153_conntrack-S_per-cpu_with-ignore_tab-and-trailing-space.txt',
      ),
    )
    expect(r.problems).toEqual([])
    expect(s).toHaveLength(1)
    expect(s[0].perCpu).toHaveLength(8)
    expect(s[0].perCpu[7]).toEqual({
      cpu: 7,
      found: 109,
      invalid: 336,
      ignore: 2373314,
      insert: 0,
      insert_failed: 0,
      drop: 0,
      early_drop: 0,
      error: 0,
      search_restart: 3938,
    })
    expect(s[0].totals).toMatchObject({
      invalid: 338,
      found: 696,
      search_restart: 6771,
      insert_failed: 0,
    })
    expect(r.events[0].ref).toBe(2)
  })

  it('four CPUs collapsed onto one line', () => {
    const { r, s } = stats(
      corpus(dir + 'imroc-learning-kubernetes-61_conntrack-S_whitespace-collapsed-single-line.txt'),
    )
    expect(r.problems).toEqual([])
    expect(s[0].perCpu.map((c) => c.cpu)).toEqual([0, 1, 2, 3])
    expect(s[0].perCpu[3]).toMatchObject({ error: 18, search_restart: 2320376 })
    expect(s[0].totals.error).toBe(18)
  })

  it('per-CPU without ignore= (newer kernels)', () => {
    const { r, s } = stats(
      corpus(dir + 'rancher-rke2-3924_conntrack-S_per-cpu_no-ignore-field.txt'),
    )
    expect(r.problems).toEqual([])
    expect(s[0].perCpu).toHaveLength(8)
    expect(s[0].perCpu[4]).not.toHaveProperty('ignore')
    expect(s[0].totals).toMatchObject({ error: 1, invalid: 549 })
  })

  it('conntrack-tools 1.4.7 with clash_resolve and chaintoolong (real run)', () => {
    const { r, s } = stats(fixture('conntrack/1.4.7/conntrack-S_per-cpu_clash_resolve.txt'))
    expect(r.problems).toEqual([])
    expect(s[0].perCpu[1]).toHaveProperty('clash_resolve')
    expect(s[0].totals).toHaveProperty('chaintoolong')
  })

  it('the 1.4.4 summary format, then the CAP_NET_ADMIN error as a problem', () => {
    const { r, s } = stats(
      corpus(
        dir +
          'kubernetes-kubernetes-56903_conntrack-1.4.4-summary-format_in-pod_permission-error.txt',
      ),
    )
    expect(s).toHaveLength(1)
    expect(s[0].perCpu).toEqual([])
    expect(s[0].totals).toMatchObject({
      entries: 90,
      found: 3774748,
      insert_failed: 0,
      delete_list: 327481,
      search_restart: 0,
    })
    expect(Object.keys(s[0].totals)).toHaveLength(17)
    expect(r.problems).toEqual([
      { where: 'line 2', message: 'not a conntrack -S line: "22"' },
      expect.objectContaining({
        where: 'line 21',
        message: expect.stringMatching(/^conntrack failed: .*CAP_NET_ADMIN/),
      }),
    ])
  })

  it('the netdata nfacct dump with a non-zero insert_failed', () => {
    const { r, s } = stats(
      corpus(
        dir +
          'netdata-netdata-11880_nfacct-plugin_nf_conntrack-stat-counters_insert_failed-nonzero.txt',
      ),
    )
    expect(r.problems).toEqual([])
    expect(s[0].totals).toMatchObject({
      insert_failed: 47646,
      drop: 47649,
      icmp_error: 86040,
      invalid: 34647317,
      found: 0,
    })
    // netlink_expect's found/new/searched are expectation counters, kept apart.
    expect(s[0].totals).toMatchObject({ expect_found: 0, expect_new: 0, expect_searched: 0 })
  })

  it('VyOS tabulated key=value cells', () => {
    const { r, s } = stats(
      corpus(dir + 'vyos-vyos-1x-1489_show-conntrack-statistics_tabulated.txt'),
    )
    expect(r.problems).toEqual([])
    expect(s[0].perCpu).toHaveLength(4)
    expect(s[0].totals.search_restart).toBe(48)
  })

  it('two runs in one file are two snapshots', () => {
    const one = '\n' + 'cpu=0 found=1 insert_failed=2\ncpu=1 found=3 insert_failed=4'
    const r = run(conntrackStats, text(one + '\n' + one.replace('=2', '=9')))
    const s = facts(r.events, 'conntrack-stats')
    expect(s.map((x) => x.totals.insert_failed)).toEqual([6, 13])
  })

  it('garbage and hostile lines are problems; the counters stay', () => {
    const bytes = insertAfter(
      corpus(dir + 'rancher-rke2-3924_conntrack-S_per-cpu_no-ignore-field.txt'),
      4,
      `garbage\n${HOSTILE_LINE}`,
    )
    const r = run(conntrackStats, bytes)
    expect(facts(r.events, 'conntrack-stats')[0].perCpu).toHaveLength(8)
    expect(r.problems.map((p) => p.where)).toEqual(['line 5', 'line 6'])
  })
})
