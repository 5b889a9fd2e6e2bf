import { describe, expect, it } from 'vitest'
import { CORPUS } from '../corpus.js'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  parseSampleLine,
  prometheusImporter,
  rfc3339Micros,
} from '../../core/importers/prometheus.js'
import { detectImporter, SNIFF_BYTES } from '../../core/importers/index.js'
import { familySamples, sumBy } from '../../core/metrics/series.js'
import type { FactEvent, MetricEvent } from '../../core/model/event.js'
import type { ImportResult } from '../../core/importers/importer.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const corpus = CORPUS
const fixtures = path.join(repoRoot, 'test/fixtures/prometheus')
const netdata = path.join(corpus, 'metrics/netdata-go.d')

function importBytes(bytes: Uint8Array, name = 'x.bin'): ImportResult {
  return prometheusImporter.parse(
    { index: 1, path: name, bytes, vantage: 'dns-server' },
    { dnsPorts: new Set([53]) },
  )
}
const importFile = (file: string) => importBytes(new Uint8Array(readFileSync(file)))
const importText = (text: string) => importBytes(new TextEncoder().encode(text))
const metrics = (r: ImportResult) => r.events.filter((e): e is MetricEvent => e.kind === 'metric')
const facts = (r: ImportResult) => r.events.filter((e): e is FactEvent => e.kind === 'fact')
const names = (r: ImportResult) => [...new Set(metrics(r).map((m) => m.name))].sort()

function* walk(dir: string): Generator<string> {
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f)
    if (statSync(p).isDirectory()) yield* walk(p)
    else yield p
  }
}

describe('prometheus importer on the corpus', () => {
  const promFiles = [...walk(corpus)].filter((f) => f.endsWith('.prom'))

  it('finds the corpus .prom files (18 CoreDNS dumps and fragments, 2 ebpf_exporter)', () => {
    expect(promFiles).toHaveLength(20)
  })

  for (const file of promFiles) {
    const rel = path.relative(corpus, file)
    it(`${rel}: every sample line is an event, no problem, same under a meaningless name`, () => {
      const bytes = new Uint8Array(readFileSync(file))
      const text = readFileSync(file, 'utf8')
      // Oracle: the non-blank lines that are not comments.
      const sampleLines = text
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('#')).length
      const r = importBytes(bytes, 'x.bin')
      expect(r.problems).toEqual([])
      expect(metrics(r)).toHaveLength(sampleLines)
      expect(r.eventCount).toBe(sampleLines)
      expect(detectImporter(bytes.subarray(0, SNIFF_BYTES), 'x.bin').importer?.id).toBe(
        'prometheus',
      )
      expect(importBytes(bytes, path.basename(file))).toEqual(r)
      for (const m of metrics(r)) expect(m.time).toBeNaN() // single scrapes without a marker
    })
  }

  it('no other corpus file is taken for Prometheus text', () => {
    for (const file of walk(corpus)) {
      if (file.endsWith('.prom')) continue
      const head = new Uint8Array(readFileSync(file)).subarray(0, SNIFF_BYTES)
      expect(prometheusImporter.sniff(head, 'x.bin'), file).toBe(false)
    }
  })
})

describe('CoreDNS names across versions', () => {
  const v169 = importFile(path.join(netdata, 'version169_some_load.prom'))
  const v170 = importFile(path.join(netdata, 'version170_some_load.prom'))

  it('1.6.9 and 1.7.0 dumps yield the same normalized series names', () => {
    // netdata derived the 1.7.0 file from the 1.6.9 one by hand and left the request-duration
    // histogram out: that family is in the 1.6.9 dump only. Every other name must coincide.
    const histogram = /^coredns_dns_request_duration_seconds_(bucket|sum|count)$/
    expect(names(v170)).toEqual(names(v169).filter((n) => !histogram.test(n)))
    expect(names(v170)).toEqual([
      'coredns_build_info',
      'coredns_dns_requests_total',
      'coredns_dns_responses_total',
      'coredns_panics_total',
    ])
    expect(names(v169).filter((n) => histogram.test(n))).toHaveLength(3)
  })

  it('keeps what the file said in originalName', () => {
    const original = new Set(metrics(v169).map((m) => m.originalName ?? m.name))
    expect([...original].sort()).toEqual([
      'coredns_build_info',
      'coredns_dns_request_count_total',
      'coredns_dns_request_duration_seconds_bucket',
      'coredns_dns_request_duration_seconds_count',
      'coredns_dns_request_duration_seconds_sum',
      'coredns_dns_request_type_count_total',
      'coredns_dns_response_rcode_count_total',
      'coredns_panic_count_total',
    ])
    expect(metrics(v170).every((m) => m.originalName === undefined)).toBe(true)
  })

  it('the same counts read the same in both versions once normalized', () => {
    // 1.6.9 splits requests over two families; 1.7.0 has one with both label sets.
    const byType = (r: ImportResult) =>
      sumBy(familySamples(metrics(r), 'coredns_dns_requests_total', ['type']), [
        'server',
        'zone',
        'type',
      ])
    const byZone = (r: ImportResult) =>
      sumBy(familySamples(metrics(r), 'coredns_dns_requests_total', ['zone']), ['server', 'zone'])
    expect(byType(v169)).toEqual(byType(v170))
    expect(byZone(v169)).toEqual(byZone(v170))
    expect([...byZone(v169).values()].reduce((a, b) => a + b)).toBe(82) // 21+6+9+9+13+12+12
    const rcodes = (r: ImportResult) =>
      sumBy(familySamples(metrics(r), 'coredns_dns_responses_total'), ['server', 'zone', 'rcode'])
    expect(rcodes(v169)).toEqual(rcodes(v170))
    expect(metrics(v169).find((m) => m.name === 'coredns_dns_responses_total')?.type).toBe(
      'counter',
    )
  })

  it('a HELP/TYPE naming the old family still types the new samples (netdata 1.7.0 quirk)', () => {
    // version170_some_load.prom: `# TYPE coredns_dns_response_rcode_count_total counter`
    // above `coredns_dns_responses_total{...}` samples.
    expect(
      metrics(v170)
        .filter((m) => m.name === 'coredns_dns_responses_total')
        .map((m) => m.type),
    ).toEqual(Array(7).fill('counter'))
  })

  it('build_info gives the version; without a version label no fact', () => {
    expect(facts(v169).map((f) => f.fact)).toEqual([{ type: 'coredns-version', version: '1.6.9' }])
    expect(facts(v170).map((f) => f.fact)).toEqual([{ type: 'coredns-version', version: '1.7.0' }])
    expect(facts(importFile(path.join(netdata, 'no_version_no_load.prom')))).toEqual([])
    const idle = importFile(path.join(netdata, 'version169_no_load.prom'))
    expect(metrics(idle).find((m) => m.name === 'coredns_panics_total')).toMatchObject({
      originalName: 'coredns_panic_count_total',
      value: 99,
      type: 'counter',
      labels: {},
    })
  })

  it('forward metrics move to coredns_proxy_* with proxy_name="forward" (1.11)', () => {
    const r = importFile(
      path.join(
        corpus,
        'metrics/kubernetes-dns-453_nodelocaldns_forward-per-upstream_fragment.prom',
      ),
    )
    const bucket = metrics(r).find(
      (m) => m.originalName === 'coredns_forward_request_duration_seconds_bucket',
    )
    expect(bucket).toMatchObject({
      name: 'coredns_proxy_request_duration_seconds_bucket',
      labels: { to: '8.8.8.8:53', le: '8.192', proxy_name: 'forward' },
      type: 'histogram',
    })
    const count = metrics(r).find(
      (m) => m.originalName === 'coredns_forward_request_duration_seconds_count',
    )
    expect(count).toMatchObject({
      name: 'coredns_proxy_request_duration_seconds_count',
      type: 'histogram',
      value: 1,
    })
    expect(
      metrics(r)
        .filter((m) => m.name === 'coredns_proxy_requests_total')
        .map((m) => [m.labels.to, m.value]),
    ).toEqual([
      ['10.0.80.11:53', 1],
      ['172.21.156.115:53', 57],
      ['8.8.8.8:53', 1],
    ])
    // health metrics are not the forward plugin's: untouched
    expect(metrics(r).filter((m) => m.name.startsWith('coredns_health_'))).toHaveLength(3)
  })

  it('cache_size becomes cache_entries; fragments without TYPE get a guessed type', () => {
    const r = importFile(
      path.join(corpus, 'metrics/coredns-coredns-3263_cache-metrics_block1.prom'),
    )
    expect(metrics(r).map((m) => [m.name, m.originalName, m.type])).toEqual([
      ['coredns_cache_hits_total', undefined, 'counter'],
      ['coredns_cache_misses_total', undefined, 'counter'],
      ['coredns_cache_entries', 'coredns_cache_size', 'untyped'],
      ['coredns_cache_entries', 'coredns_cache_size', 'untyped'],
    ])
    const typed = importFile(
      path.join(corpus, 'metrics/coredns-coredns-3498_coredns-1.6.5_dump-head_multi-server.prom'),
    )
    expect(metrics(typed).find((m) => m.name === 'coredns_cache_entries')?.type).toBe('gauge')
  })

  it('the pre-1.0 _milliseconds histogram is the _seconds one (its values were seconds: coredns#1251)', () => {
    const r = importFile(
      path.join(corpus, 'metrics/coredns-coredns-1251_legacy-milliseconds-histogram_fragment.prom'),
    )
    expect(new Set(metrics(r).map((m) => m.name))).toEqual(
      new Set(['coredns_dns_request_duration_seconds_bucket']),
    )
    expect(metrics(r)[0]).toMatchObject({
      labels: { zone: 'dns.miek.nl.', le: '0.005' },
      value: 1,
      type: 'histogram',
    })
  })

  it('scientific notation and histogram _count before its buckets in a fragment', () => {
    const sci = importFile(
      path.join(
        corpus,
        'metrics/DataDog-integrations-core-10882_request-duration-histogram_scientific-notation_fragment.prom',
      ),
    )
    expect(metrics(sci).map((m) => m.value)).toEqual([11940736, 12818574, 12968550])
    const frag = importFile(
      path.join(
        corpus,
        'metrics/kubernetes-dns-453_nodelocaldns_request-duration-type-other_fragment.prom',
      ),
    )
    expect(metrics(frag)[0]).toMatchObject({
      name: 'coredns_dns_request_duration_seconds_count',
      type: 'histogram',
      value: 2,
    })
  })
})

describe('prometheus snapshots', () => {
  it('a `# dnsbundle-snapshot` line stamps the samples after it', () => {
    const r = importFile(path.join(fixtures, '1.7.0/two-snapshots.prom'))
    expect(r.problems).toEqual([])
    const times = [...new Set(metrics(r).map((m) => m.time))]
    expect(times).toEqual([
      Date.UTC(2020, 5, 20, 10, 0, 0) * 1000,
      Date.UTC(2020, 5, 20, 10, 0, 30) * 1000,
    ])
    expect(metrics(r)).toHaveLength(2 * 30) // version170_some_load.prom has 30 sample lines
    expect(facts(r)).toHaveLength(1)
  })

  it('a repeated series without a marker is reported once', () => {
    const text = readFileSync(path.join(netdata, 'version170_no_load.prom'), 'utf8')
    const r = importText(text + '\n' + text + '\n' + text)
    expect(r.problems).toEqual([
      {
        where: 'line 9',
        message: expect.stringMatching(
          /^series coredns_build_info repeats without a "# dnsbundle-snapshot <time>" line/,
        ),
      },
    ])
    expect(metrics(r)).toHaveLength(6)
  })

  it('reads RFC 3339 in its spellings', () => {
    expect(rfc3339Micros('2020-06-20T10:00:30Z')).toBe(Date.UTC(2020, 5, 20, 10, 0, 30) * 1000)
    expect(rfc3339Micros('2020-06-20T12:00:30.000123+02:00')).toBe(
      Date.UTC(2020, 5, 20, 10, 0, 30) * 1000 + 123,
    )
    expect(rfc3339Micros('2020-06-20T04:30:30.5-05:30')).toBe(
      Date.UTC(2020, 5, 20, 10, 0, 30, 500) * 1000,
    )
    expect(rfc3339Micros('yesterday')).toBeNaN()
    const bad = importText('# dnsbundle-snapshot soon\ncoredns_panics_total 1\n')
    expect(bad.problems).toEqual([
      { where: 'line 1', message: 'snapshot time "soon" is not RFC 3339' },
    ])
  })
})

describe('prometheus edge cases and malformed lines', () => {
  const r = importFile(path.join(fixtures, 'malformed/edge-cases.prom'))

  it('keeps the good samples with their values, labels and timestamps', () => {
    const byRef = new Map(metrics(r).map((m) => [m.ref, m]))
    expect([...byRef.keys()]).toEqual([3, 4, 5, 8, 9, 10, 11, 12, 13, 20])
    expect(byRef.get(3)).toMatchObject({ value: 1500, time: NaN, type: 'counter' })
    expect(byRef.get(4)).toMatchObject({ value: 1500, time: 1592000000123000 })
    expect(byRef.get(5)?.labels).toEqual({
      family: '2',
      proto: 'tcp',
      server: 'dns://:53',
      type: 'other',
      zone: '.',
    })
    expect(byRef.get(10)?.value).toBeNaN()
    expect(byRef.get(12)).toMatchObject({
      labels: { path: 'C:\\dir\\', quote: 'say "hi"', nl: 'a\nb', trailing: 'x' },
      value: -Infinity,
      type: 'untyped',
    })
    expect(byRef.get(13)?.value).toBe(Infinity)
  })

  it('names what is wrong with each bad line', () => {
    expect(r.problems).toEqual([
      {
        where: 'line 14',
        message: 'sample has no value (line cut off?): "coredns_dns_request_type_co"',
      },
      { where: 'line 15', message: 'value "is" is not a number: "this is not a metric line"' },
      { where: 'line 16', message: expect.stringMatching(/^expected , or \} after label rcode: /) },
      { where: 'line 17', message: expect.stringMatching(/^value "five" is not a number: /) },
      {
        where: 'line 18',
        message: expect.stringMatching(/^timestamp "12.5" is not integer milliseconds: /),
      },
      { where: 'line 19', message: 'unknown metric TYPE "flavour"' },
    ])
  })

  it('binary junk and a cut final line do not stop the rest', () => {
    const junk = new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 0x0a, 0x00, 0xff, 0x0a])
    const good = new TextEncoder().encode(
      'coredns_panics_total 3\ncoredns_cache_entries{server="dns://:53",type="success"} 1',
    )
    const bytes = new Uint8Array([
      ...good.subarray(0, 23),
      ...junk,
      ...good.subarray(23),
      ...new TextEncoder().encode('\ncoredns_cache_hits_total{server="dns://:5'),
    ])
    const out = importBytes(bytes)
    expect(metrics(out).map((m) => [m.ref, m.name, m.value])).toEqual([
      [1, 'coredns_panics_total', 3],
      [4, 'coredns_cache_entries', 1],
    ])
    expect(out.problems.map((p) => p.where)).toEqual(['line 2', 'line 3', 'line 5'])
    expect(out.problems[2].message).toMatch(
      /^value of label server is not closed \(line cut off\?\)/,
    )
    expect(metrics(out)[1].offset).toBe(23 + junk.length)
  })

  it('detection: wants HELP/TYPE or labels, refuses logs, JSON, sysctl-like and binary text', () => {
    const sniff = (t: string) => prometheusImporter.sniff(new TextEncoder().encode(t), 'x.bin')
    expect(sniff('# TYPE coredns_panics_total counter\ncoredns_panics_total 0\n')).toBe(true)
    expect(sniff('coredns_cache_size{server="dns://:1053",type="denial"} 15\n')).toBe(true)
    expect(sniff('nr_free_pages 123456\nnr_zone_inactive_anon 1234\n')).toBe(false)
    expect(sniff('{"coredns_panics_total": 0}\n')).toBe(false)
    expect(sniff('[INFO] plugin/reload: Running configuration MD5 = 1\n')).toBe(false)
    expect(sniff('')).toBe(false)
    expect(
      prometheusImporter.sniff(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]), 'x.prom'),
    ).toBe(false)
  })

  it('parses a sample line on its own', () => {
    expect(parseSampleLine('a_total{x="1"} 2 3')).toEqual({
      name: 'a_total',
      labels: { x: '1' },
      value: 2,
      timestampMs: 3,
    })
    expect(parseSampleLine('a 1e-3')).toMatchObject({ value: 0.001, timestampMs: NaN })
    expect(parseSampleLine('a{} -0')).toMatchObject({ value: -0 })
    expect(parseSampleLine('a{9x="1"} 2')).toBe('bad label name "9x"')
  })
})
