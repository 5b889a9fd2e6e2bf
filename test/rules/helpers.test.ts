// The helpers the rules share: version comparisons, search-suffix matching, rank correlation and
// evidence mixing.
import { describe, expect, it } from 'vitest'
import { kernelOlderThan, parseKernelRelease } from '../../core/rules/kernel-version.js'
import { compareVersions, versionInRange } from '../../core/rules/coredns-version.js'
import {
  looksLikeSearchExpansion,
  matchSearchSuffix,
  nameScope,
} from '../../core/rules/cluster-names.js'
import { evidenceMix, spearman, topCounts } from '../../core/rules/transaction-views.js'
import { log } from './context.js'

describe('kernel releases', () => {
  it.each([
    ['4.15.0-1032-aws', [4, 15, 0], true],
    ['4.19.0-16-amd64', [4, 19, 0], true],
    ['5.9.0', [5, 9, 0], false],
    ['5.10.0-28-cloud-amd64', [5, 10, 0], false],
    ['6.18.44-fc-v509', [6, 18, 44], false],
  ] as const)('%s', (release, parsed, olderThan59) => {
    expect(parseKernelRelease(release)).toEqual(parsed)
    expect(kernelOlderThan(release, [5, 9])).toBe(olderThan59)
  })
  it('says null for what is not a release', () =>
    expect(kernelOlderThan('Linux', [5, 0])).toBeNull())
})

describe('CoreDNS versions', () => {
  it('compares numerically, not as text', () => {
    expect(compareVersions('1.10.1', '1.7.0')).toBeGreaterThan(0)
    expect(versionInRange('1.6.9', '1.2.3', '1.7.0')).toBe(true)
    expect(versionInRange('1.7.0', '1.2.3', '1.7.0')).toBe(false)
    expect(versionInRange('1.2.2', '1.2.3', '1.7.0')).toBe(false)
  })
})

describe('search suffixes', () => {
  const suffixes = ['svc.cluster.local.', 'cluster.local.']
  const domains = ['cluster.local.']
  it.each([
    [
      'kubernetes.default.svc.cluster.local.default.svc.cluster.local.',
      'default.svc.cluster.local.',
      true,
    ],
    ['kubernetes.default.svc.cluster.local.svc.cluster.local.', 'svc.cluster.local.', true],
    ['api.example.com.cluster.local.', 'cluster.local.', true],
    ['databse.default.svc.cluster.local.', 'default.svc.cluster.local.', false],
    ['kubernetes.default.svc.cluster.local.', 'default.svc.cluster.local.', false],
    ['www.example.com.', null, false],
  ] as const)('%s', (q, suffix, expansion) => {
    expect(matchSearchSuffix(q, suffixes, domains)).toBe(suffix)
    expect(looksLikeSearchExpansion(q, suffixes, domains)).toBe(expansion)
  })
  it('scopes names', () => {
    expect(nameScope('db.default.svc.cluster.local.', domains)).toBe('cluster')
    expect(nameScope('10.0.96.10.in-addr.arpa.', domains)).toBe('reverse')
    expect(nameScope('example.com.', domains)).toBe('external')
    // The domain itself is the cluster's; a name that only ends in its letters is not.
    expect(nameScope('cluster.local', domains)).toBe('cluster')
    expect(nameScope('mycluster.local.', domains)).toBe('external')
  })
})

describe('spearman', () => {
  it('is 1 for a monotone relation, -1 reversed, NaN without variation', () => {
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1)
    expect(spearman([1, 2, 3, 4], [8, 4, 2, 1])).toBeCloseTo(-1)
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN()
    expect(spearman([1, 2], [1, 2])).toBeNaN()
  })
})

describe('evidenceMix and topCounts', () => {
  it('takes one of each kind in turn, without duplicates', () => {
    const [a1, a2, a3, b1, c1] = ['a1', 'a2', 'a3', 'b1', 'c1'].map((m) => log(m))
    expect(
      evidenceMix([a1, a2, a3], [b1, a1], [], [c1]).map((e) => (e.kind === 'log' ? e.message : '')),
    ).toEqual(['a1', 'b1', 'c1', 'a2', 'a3'])
  })
  it('counts, largest first, ties by key', () => {
    expect(topCounts(['b', 'a', 'b', 'c', 'a', 'b'], 2)).toEqual([
      { key: 'b', count: 3 },
      { key: 'a', count: 2 },
    ])
  })
})
