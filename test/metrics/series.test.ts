import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { prometheusImporter } from '../../core/importers/prometheus.js'
import {
  changesBetween,
  coreDnsVersion,
  counterChange,
  familySamples,
  groupSeries,
  histogramBuckets,
  histogramQuantile,
  rate,
  seriesKey,
  snapshotTimes,
  sumBy,
} from '../../core/metrics/series.js'
import type { FactEvent, MetricEvent } from '../../core/model/event.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const fixtures = path.join(repoRoot, 'test/fixtures/prometheus')

function load(rel: string): MetricEvent[] {
  const bytes = new Uint8Array(readFileSync(path.join(fixtures, rel)))
  const r = prometheusImporter.parse(
    { index: 0, path: rel, bytes, vantage: '' },
    { dnsPorts: new Set([53]) },
  )
  expect(r.problems).toEqual([])
  return r.events.filter((e): e is MetricEvent => e.kind === 'metric')
}

function sample(
  name: string,
  labels: Record<string, string>,
  value: number,
  time = NaN,
  originalName?: string,
): MetricEvent {
  return {
    kind: 'metric',
    input: 0,
    ref: 1,
    offset: 0,
    vantage: '',
    time,
    name,
    labels,
    value,
    type: 'counter',
    ...(originalName ? { originalName } : {}),
  }
}

describe('counter rates', () => {
  it('rate between two points of a counter', () => {
    expect(counterChange({ time: 0, value: 10 }, { time: 10e6, value: 30 })).toEqual({
      increase: 20,
      rate: 2,
      reset: false,
    })
    expect(rate({ time: 1e6, value: 5 }, { time: 1.5e6, value: 6 })).toBe(2)
  })

  it('a decrease is a restart: the increase is the later value', () => {
    expect(counterChange({ time: 0, value: 100 }, { time: 20e6, value: 5 })).toEqual({
      increase: 5,
      rate: 0.25,
      reset: true,
    })
  })

  it('no rate without times or with a non-positive interval', () => {
    expect(rate({ time: NaN, value: 1 }, { time: 1e6, value: 2 })).toBeNaN()
    expect(rate({ time: 5e6, value: 1 }, { time: 5e6, value: 2 })).toBeNaN()
    expect(rate({ time: 6e6, value: 1 }, { time: 5e6, value: 2 })).toBeNaN()
  })

  it('rates of every series between the two scrapes of a constructed pair', () => {
    const all = load('1.7.0/two-snapshots.prom')
    const [t1, t2] = snapshotTimes(all)
    expect(t2 - t1).toBe(30e6)
    const first = all.filter((m) => m.time === t1)
    const second = all.filter((m) => m.time === t2)
    const responses = changesBetween(first, second, 'coredns_dns_responses_total')
    const byKey = new Map(
      responses.map((c) => [`${c.labels.server} ${c.labels.zone} ${c.labels.rcode}`, c]),
    )
    expect(byKey.size).toBe(7)
    expect(byKey.get('dns://:53 coredns.io. NOERROR')).toEqual(
      expect.objectContaining({ increase: 60, rate: 2, reset: false }),
    )
    expect(byKey.get(' dropped REFUSED')).toEqual(
      expect.objectContaining({ increase: 5, rate: 5 / 30, reset: true }),
    )
    expect(byKey.get('dns://:54 ya.ru. SERVFAIL')).toEqual(
      expect.objectContaining({ increase: 900, rate: 30 }),
    )
    expect(byKey.get('dns://:53 ya.ru. SERVFAIL')).toEqual(
      expect.objectContaining({ increase: 0, rate: 0 }),
    )
    const requests = changesBetween(first, second, 'coredns_dns_requests_total')
    expect(requests).toHaveLength(21)
    expect(
      requests.filter((c) => c.increase > 0).map((c) => [c.labels.type, c.labels.zone, c.rate]),
    ).toEqual([['A', 'coredns.io.', 2]])
  })

  it('groups samples into series with their points in time order', () => {
    const all = load('1.7.0/two-snapshots.prom')
    const series = groupSeries([...all].reverse())
    expect(series.size).toBe(30)
    const noerror = series.get(
      seriesKey('coredns_dns_responses_total', {
        zone: 'coredns.io.',
        rcode: 'NOERROR',
        server: 'dns://:53',
      }),
    )
    expect(noerror?.points.map((p) => p.value)).toEqual([6, 66])
    expect(noerror?.type).toBe('counter')
  })
})

describe('histogramQuantile', () => {
  it('matches PromQL on the classic histograms of prometheus histograms.test', () => {
    const h = histogramBuckets(load('promql-testdata/histograms-at-50m.prom'), 'testhistogram')
    const h2 = histogramBuckets(load('promql-testdata/histograms-at-50m.prom'), 'testhistogram2')
    const h3 = histogramBuckets(load('promql-testdata/histograms-at-50m.prom'), 'testhistogram3')
    const q = (m: typeof h, labels: Record<string, string>, phi: number) =>
      histogramQuantile(
        phi,
        m.get(
          seriesKey(
            m === h ? 'testhistogram' : m === h2 ? 'testhistogram2' : 'testhistogram3',
            labels,
          ),
        )!.buckets,
      )
    const pos = { start: 'positive' }
    const neg = { start: 'negative' }
    // Expected values: the `eval instant at 50m histogram_quantile(...)` blocks of histograms.test.
    const cases: [typeof h, Record<string, string>, number, number][] = [
      [h, pos, 0, 0],
      [h, neg, 0, -0.2],
      [h, pos, 1, 1],
      [h, neg, 1, 0.3],
      [h, pos, 0.2, 0.048],
      [h, neg, 0.2, -0.2],
      [h, pos, 0.5, 0.15],
      [h, neg, 0.5, -0.15],
      [h, pos, 0.8, 0.72],
      [h, neg, 0.8, 0.3],
      [h2, {}, 1 / 6, 1],
      [h2, {}, 0.5, 3],
      [h2, {}, 5 / 6, 5],
      [h3, pos, 0, 0],
      [h3, neg, 0, -0.25],
      [h3, pos, 0.25, 0.055],
      [h3, neg, 0.25, -0.225],
      [h3, pos, 0.5, 0.125],
      [h3, neg, 0.5, -0.2],
      [h3, pos, 0.75, 0.45],
      [h3, neg, 0.75, -0.15],
      [h3, pos, 1, 1],
      [h3, neg, 1, -0.1],
    ]
    for (const [m, labels, phi, want] of cases)
      expect(q(m, labels, phi), `${JSON.stringify(labels)} q=${phi}`).toBeCloseTo(want, 12)
    expect(q(h, pos, -0.1)).toBe(-Infinity)
    expect(q(h, pos, 1.01)).toBe(Infinity)
    expect(q(h, pos, NaN)).toBeNaN()
  })

  it('a constructed CoreDNS request-duration histogram', () => {
    const buckets = [
      { le: 0.00025, count: 0 },
      { le: 0.0005, count: 10 },
      { le: 0.001, count: 30 },
      { le: Infinity, count: 40 },
    ]
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.00075, 15) // rank 20: halfway through (0.0005, 0.001]
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.0005, 15) // rank 10: top of (0.00025, 0.0005]
    expect(histogramQuantile(0.1, buckets)).toBeCloseTo(0.00035, 15) // rank 4 of 10 in (0.00025, 0.0005]: 0.00025 + 0.4 * 0.00025
    expect(histogramQuantile(0.99, buckets)).toBe(0.001) // in +Inf: the highest finite bound
    expect(histogramQuantile(0.5, [...buckets].reverse())).toBeCloseTo(0.00075, 15) // order does not matter
  })

  it('NaN where PromQL gives NaN; monotonicity forced', () => {
    expect(
      histogramQuantile(0.5, [
        { le: 1, count: 1 },
        { le: 2, count: 2 },
      ]),
    ).toBeNaN() // no +Inf
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 2 }])).toBeNaN() // one bucket
    expect(
      histogramQuantile(0.5, [
        { le: 1, count: 0 },
        { le: Infinity, count: 0 },
      ]),
    ).toBeNaN() // empty
    expect(histogramQuantile(0.5, [])).toBeNaN()
    // 2 < 3 at le=2 is impossible for a cumulative histogram: read as 3
    const broken = [
      { le: 1, count: 3 },
      { le: 2, count: 2 },
      { le: 4, count: 6 },
      { le: Infinity, count: 6 },
    ]
    expect(histogramQuantile(0.75, broken)).toBeCloseTo(2 + 2 * (1.5 / 3), 12)
  })

  it('reads the buckets of a real CoreDNS fragment (le labels as written)', () => {
    const text = readFileSync(path.join(fixtures, 'promql-testdata/histograms-at-50m.prom'), 'utf8')
    expect(text).toContain('le="1e0"')
    const buckets = histogramBuckets(
      load('promql-testdata/histograms-at-50m.prom'),
      'testhistogram3',
    )
    expect(
      buckets.get(seriesKey('testhistogram3', { start: 'negative' }))?.buckets.map((b) => b.le),
    ).toEqual([-0.25, -0.2, -0.1, 0.3, Infinity])
  })
})

describe('families and versions', () => {
  const v169 = [
    sample(
      'coredns_dns_requests_total',
      { zone: '.', proto: 'udp' },
      10,
      NaN,
      'coredns_dns_request_count_total',
    ),
    sample(
      'coredns_dns_requests_total',
      { zone: '.', proto: 'tcp' },
      2,
      NaN,
      'coredns_dns_request_count_total',
    ),
    sample(
      'coredns_dns_requests_total',
      { zone: '.', type: 'A' },
      7,
      NaN,
      'coredns_dns_request_type_count_total',
    ),
    sample(
      'coredns_dns_requests_total',
      { zone: '.', type: 'AAAA' },
      5,
      NaN,
      'coredns_dns_request_type_count_total',
    ),
  ]

  it('pre-1.7 requests are counted once: the type breakdown only when asked by type', () => {
    expect(sumBy(familySamples(v169, 'coredns_dns_requests_total'), [])).toEqual(
      new Map([['[]', 12]]),
    )
    expect(sumBy(familySamples(v169, 'coredns_dns_requests_total', ['type']), ['type'])).toEqual(
      new Map([
        ['["A"]', 7],
        ['["AAAA"]', 5],
      ]),
    )
    expect(sumBy(familySamples(v169, 'coredns_dns_requests_total', ['proto']), ['proto'])).toEqual(
      new Map([
        ['["udp"]', 10],
        ['["tcp"]', 2],
      ]),
    )
  })

  it('current dumps have one partition and are returned whole', () => {
    const v170 = [sample('coredns_dns_requests_total', { zone: '.', proto: 'udp', type: 'A' }, 7)]
    expect(familySamples(v170, 'coredns_dns_requests_total', ['type'])).toEqual(v170)
  })

  it('coreDnsVersion takes the version seen most often', () => {
    const fact = (version: string): FactEvent => ({
      kind: 'fact',
      input: 0,
      ref: 1,
      offset: 0,
      vantage: '',
      time: NaN,
      fact: { type: 'coredns-version', version },
    })
    expect(coreDnsVersion([])).toBe('')
    expect(coreDnsVersion([fact('1.8.6'), fact('1.11.1'), fact('1.11.1')])).toBe('1.11.1')
  })
})
