import { describe, expect, it } from 'vitest'
import { CORPUS } from '../corpus.js'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  corednsLogImporter,
  goDurationMicros,
  normalizeQname,
} from '../../core/importers/coredns-log.js'
import { detectImporter, SNIFF_BYTES } from '../../core/importers/index.js'
import { analyzeBundle } from '../../core/analyze.js'
import type { DnsMessageEvent, FactEvent, LogEvent } from '../../core/model/event.js'
import type { ImportResult } from '../../core/importers/importer.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const corpus = CORPUS
const logDir = path.join(corpus, 'coredns-log')
const fixtures = path.join(repoRoot, 'test/fixtures/coredns-log')

function importBytes(bytes: Uint8Array, name = 'x.bin'): ImportResult {
  return corednsLogImporter.parse(
    { index: 3, path: name, bytes, vantage: 'pod/coredns' },
    { dnsPorts: new Set([53]) },
  )
}
const importFile = (file: string, name?: string) =>
  importBytes(new Uint8Array(readFileSync(file)), name)
const importText = (text: string) => importBytes(new TextEncoder().encode(text))
const dns = (r: ImportResult) => r.events.filter((e): e is DnsMessageEvent => e.kind === 'dns')
const logs = (r: ImportResult) => r.events.filter((e): e is LogEvent => e.kind === 'log')
const facts = (r: ImportResult) => r.events.filter((e): e is FactEvent => e.kind === 'fact')
const iso = (us: number) => new Date(us / 1000).toISOString()

/**
 * An oracle for "every complete query line yields an event", independent of the parser: count
 * lines holding a quoted question `"TYPE IN name udp|tcp size do bufsize"` and a duration at the end.
 */
function grepQueryLines(text: string): number {
  const question = /"[A-Z0-9]+ IN \S+ (udp|tcp) \d+ (true|false) \d+" /
  const duration = /\d(s|ms|µs|ns)\s*[`│]*\s*$/
  return text.split('\n').filter((l) => question.test(l) && duration.test(l)).length
}

// What each corpus file holds, counted by reading it (comments say what the lines are).
// logs = LogEvents, facts = coredns-version facts, problems = problems reported.
const corpusTable: Record<string, { logs: number; facts: number; problems: number }> = {
  'coredns-coredns-1251_legacy-2017-format_microsecond-unit.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  // four `29/Nov/2017:... [ERROR 0 qname A] msg` lines (CoreDNS 006)
  'coredns-coredns-1265_coredns-006-error-format_no-items-found.log': {
    logs: 4,
    facts: 0,
    problems: 0,
  },
  // `$ ./coredns` and `.. No logs for the request ..` are not CoreDNS; `.:53` + 2 stamped + 2 bare banner lines
  'coredns-coredns-2414_coredns-1.3.0-startup_ts-with-+05:30-offset.log': {
    logs: 5,
    facts: 1,
    problems: 2,
  },
  'coredns-coredns-2494_rfc3339-ts_searchpath-nxdomain.log': { logs: 0, facts: 0, problems: 0 },
  // `.:53`, reload MD5, CoreDNS-1.6.2 and platform, each line kubectl-stamped; banner twice
  'coredns-coredns-3211_kubectl--timestamps_double-timestamp_variable-fraction-digits.log': {
    logs: 6,
    facts: 1,
    problems: 0,
  },
  'coredns-coredns-3775_rfc3339-ts_searchpath-then-servfail_placeholder-names.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  'coredns-coredns-3892_single-line_loopback_bufsize-4096.log': { logs: 0, facts: 0, problems: 0 },
  'coredns-coredns-3927_servfail-aggregate_cached-vs-upstream-flags.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  'coredns-coredns-4066_node-cache-prefix_redacted-ip_trailing-space.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  // two loop-probe `[ERROR] plugin/errors:` lines
  'coredns-coredns-4211_errors_hinfo-loop-probe.log': { logs: 2, facts: 0, problems: 0 },
  'coredns-coredns-4513_rfc3339-ts_tcp_noerror-to-nxdomain.log': { logs: 0, facts: 0, problems: 0 },
  // kubectl prompt (problem); Go-log `[INFO] Kubernetes middleware…`, `.:53`, `[INFO] CoreDNS-004`, `CoreDNS-004`
  'coredns-coredns-503_coredns-004-2017-format_no-flags_us-ms-units.log': {
    logs: 4,
    facts: 1,
    problems: 1,
  },
  'coredns-coredns-5179_error_srv-timeout_single-line.log': { logs: 1, facts: 0, problems: 0 },
  'coredns-coredns-5864_single-line_inline-backticks_client-ip-dot-zero.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  // `.:53`, reload, CoreDNS-1.8.6, platform, 11 errors-plugin timeouts
  'coredns-coredns-7200_coredns-1.8.6-banner_timeouts-two-upstreams.log': {
    logs: 15,
    facts: 1,
    problems: 0,
  },
  // `.:53`, reload, CoreDNS-1.6.7, platform, 7 errors-plugin timeouts
  'coredns-deployment-225_startup-banner_hinfo-loop-probe-timeouts.log': {
    logs: 11,
    facts: 1,
    problems: 0,
  },
  // one HINFO query line and five `[INFO] Added back nodelocaldns rule` lines, all inside k9s borders
  'deliveryhero-helm-charts-670_k9s-box-border_node-cache-iptables.log': {
    logs: 5,
    facts: 0,
    problems: 0,
  },
  // four errors-plugin timeouts between the five query lines
  'home-assistant-plugin-dns-161_no-response-dash-rcode_6s-timeouts_then-servfail.log': {
    logs: 4,
    facts: 0,
    problems: 0,
  },
  // four Go-log `[INFO]` lines around a 48-line Corefile dump (one problem for the whole dump)
  'kubernetes-dns-394_node-cache-startup_go-log-ts_embedded-corefile.log': {
    logs: 4,
    facts: 0,
    problems: 1,
  },
  'kubernetes-kubernetes-72826_legacy-coredns-1.2-apache-style.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  'kubernetes-kubernetes-72826_legacy-coredns-1.2_block2.log': { logs: 0, facts: 0, problems: 0 },
  'kubernetes-kubernetes-80243_rfc3339-ts_mixed.log': { logs: 0, facts: 0, problems: 0 },
  'kubernetes-kubernetes-86762_errors_mixed-upstreams-incl-clusterip.log': {
    logs: 7,
    facts: 0,
    problems: 0,
  },
  // shell prompt (problem) and five errors-plugin lines
  'kubernetes-kubernetes-91518_errors_upstream-io-timeout.log': { logs: 5, facts: 0, problems: 1 },
  // `==> coredns [id] <==` header is a known wrapper: no problem
  'kubernetes-minikube-5546_minikube-logs-header_garbage-qname-with-backslashes.log': {
    logs: 0,
    facts: 0,
    problems: 0,
  },
  // `.:5353`, reload, CoreDNS-1.6.6, `linux/amd64, go1.15.5,` (empty commit), 7 timeouts
  'okd-project-okd-618_coredns-1.6.6_port-5353_redacted-ips-asterisks.log': {
    logs: 11,
    facts: 1,
    problems: 0,
  },
  'syseleven-designate-certmanager-webhook-34_errors_repeated-io-timeout.log': {
    logs: 10,
    facts: 0,
    problems: 0,
  },
}

describe('coredns-log importer on the corpus', () => {
  const files = readdirSync(logDir).filter((f) => f.endsWith('.log'))

  it('has a table row for every corpus log file', () => {
    expect(files.sort()).toEqual(Object.keys(corpusTable).sort())
  })

  for (const file of files) {
    it(`${file}: every complete query line is an event, the rest as counted`, () => {
      const full = path.join(logDir, file)
      const text = readFileSync(full, 'utf8')
      const r = importFile(full)
      const want = corpusTable[file]
      expect(r.eventCount).toBe(grepQueryLines(text))
      expect(dns(r)).toHaveLength(grepQueryLines(text))
      expect(logs(r)).toHaveLength(want.logs)
      expect(facts(r)).toHaveLength(want.facts)
      expect(r.problems).toHaveLength(want.problems)
      for (const e of r.events) {
        expect(e.input).toBe(3)
        expect(e.vantage).toBe('pod/coredns')
      }
    })

    it(`${file}: detected by content under a meaningless name, same result`, () => {
      const bytes = new Uint8Array(readFileSync(path.join(logDir, file)))
      const found = detectImporter(bytes.subarray(0, SNIFF_BYTES), 'x.bin')
      expect(found.importer?.id).toBe('coredns-log')
      expect(importBytes(bytes, 'x.bin')).toEqual(importBytes(bytes, file))
    })
  }

  it('does not claim the client-side lookup log that sits beside the CoreDNS logs', () => {
    const bytes = new Uint8Array(
      readFileSync(path.join(logDir, 'coredns-coredns-4513_app-side-lookup-log.txt')),
    )
    expect(corednsLogImporter.sniff(bytes, 'coredns.log')).toBe(false)
    const r = importBytes(bytes)
    expect(r.events).toHaveLength(0)
    expect(r.problems).toEqual([
      {
        where: 'lines 1-9',
        message: expect.stringMatching(
          /^9 lines skipped: not CoreDNS log output \(first: "2021\/03\/11/,
        ),
      },
    ])
  })

  it('in the report, inputs[].events is the number of parsed query lines', () => {
    const files = [
      'home-assistant-plugin-dns-161_no-response-dash-rcode_6s-timeouts_then-servfail.log',
      'coredns-coredns-7200_coredns-1.8.6-banner_timeouts-two-upstreams.log',
    ].map((f, i) => ({
      path: `in${i}.bin`,
      bytes: new Uint8Array(readFileSync(path.join(logDir, f))),
    }))
    const report = analyzeBundle({ files, skipped: [] })
    expect(report.inputs.map((i) => [i.kind, i.events, i.problems.length])).toEqual([
      ['coredns-log', 5, 0],
      ['coredns-log', 0, 0],
    ])
  })

  it('points every event back at its line: ref is the 1-based line, offset its first byte', () => {
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(path.join(logDir, file)))
      const starts = [0]
      for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) starts.push(i + 1)
      for (const e of importBytes(bytes).events) expect(e.offset).toBe(starts[e.ref - 1])
    }
  })
})

describe('coredns-log fields, one generation at a time', () => {
  const one = (file: string, ref: number) => {
    const ev = dns(importFile(path.join(logDir, file))).find((e) => e.ref === ref)
    if (!ev) throw new Error(`no query event on line ${ref} of ${file}`)
    return ev
  }

  it('CoreDNS-004 (2017): no port, no id, no flags, µs and ms durations', () => {
    const file = 'coredns-coredns-503_coredns-004-2017-format_no-flags_us-ms-units.log'
    expect(one(file, 6)).toMatchObject({
      kind: 'dns',
      source: 'log',
      qr: true,
      srcAddr: '10.2.6.75',
      srcPort: 0,
      dstAddr: '',
      id: -1,
      qname: 'kubernetes.default.svc.cluster.local.',
      qtype: 1,
      qclass: 1,
      transport: 'udp',
      rcode: 0,
      flags: 0x8000,
      size: 70,
      durationUs: 981.518,
      ancount: -1,
      answerAddrs: -1,
    })
    expect(iso(one(file, 6).time)).toBe('2017-02-06T21:18:44.000Z')
    const ms = one(file, 10)
    expect(ms).toMatchObject({
      qtype: 12,
      rcode: 3,
      flags: 0x8003,
      size: 115,
      durationUs: 4210.922,
    })
  })

  it('1.0 (Nov 2017): IPv6 client without port, flags, UTF-8 µs unit', () => {
    const ev = one('coredns-coredns-1251_legacy-2017-format_microsecond-unit.log', 1)
    expect(ev).toMatchObject({
      srcAddr: '::1',
      srcPort: 0,
      id: -1,
      qname: 'dns.miek.nl.',
      qtype: 6,
    })
    expect(ev.flags).toBe(0x8000 | 0x0400 | 0x0100 | 0x0080)
    expect(ev.durationUs).toBe(172.933)
    expect(iso(ev.time)).toBe('2017-11-22T15:48:45.000Z')
  })

  it('1.2 apache style: port and id after the bracketed time', () => {
    const ev = one('kubernetes-kubernetes-72826_legacy-coredns-1.2-apache-style.log', 2)
    expect(ev).toMatchObject({
      srcAddr: '192.168.2.14',
      srcPort: 44879,
      id: 15,
      rcode: 3,
      size: 155,
      durationUs: 205.726,
      qname: 'kubernetes.default.default.svc.cluster.local.',
    })
    expect(ev.flags).toBe(0x8000 | 0x0400 | 0x0100 | 0x0080 | 3)
    expect(iso(ev.time)).toBe('2019-01-11T19:59:01.000Z')
  })

  it('1.2 apache style with a -0400 offset and Go-log stamps (fixture from coredns#1994)', () => {
    const r = importFile(path.join(fixtures, '1.2.0/loop-fatal_go-log_apache-offset.log'))
    const [q] = dns(r)
    expect(q).toMatchObject({
      srcPort: 59495,
      id: 4077,
      qtype: 13,
      rcode: 3,
      durationUs: 36597.076,
    })
    expect(iso(q.time)).toBe('2018-07-23T12:06:15.000Z')
    const fatal = logs(r).find((l) => l.level === 'fatal')
    expect(fatal).toMatchObject({ plugin: 'loop', ref: 9 })
    expect(fatal?.message).toMatch(/^Seen "HINFO IN 6887250949866278685/)
    // Go's log package prints local time without a zone: read as UTC.
    expect(iso(fatal!.time)).toBe('2018-07-23T08:06:15.000Z')
    expect(facts(r).map((f) => f.fact)).toEqual([{ type: 'coredns-version', version: '1.2.0' }])
    expect(r.problems.map((p) => p.where)).toEqual(['line 1', 'line 10'])
  })

  it('1.3-1.5: CoreDNS RFC 3339 ms stamp; +05:30 offsets', () => {
    const ev = one('coredns-coredns-2494_rfc3339-ts_searchpath-nxdomain.log', 7)
    expect(ev).toMatchObject({
      srcAddr: '10.244.0.130',
      srcPort: 42085,
      id: 14382,
      qtype: 28,
      size: 164,
    })
    expect(iso(ev.time)).toBe('2019-01-24T16:18:08.502Z')
    const r = importFile(
      path.join(logDir, 'coredns-coredns-2414_coredns-1.3.0-startup_ts-with-+05:30-offset.log'),
    )
    const banner = logs(r).find((l) => l.message === 'CoreDNS-1.3.0' && !Number.isNaN(l.time))
    expect(iso(banner!.time)).toBe('2018-12-21T17:46:41.044Z')
  })

  it('current form without a stamp: untimed, still an event', () => {
    const ev = one('coredns-coredns-3892_single-line_loopback_bufsize-4096.log', 1)
    expect(ev).toMatchObject({
      srcAddr: '127.0.0.1',
      srcPort: 7090,
      id: 43392,
      qname: 'www.google.com.',
      size: 149,
    })
    expect(ev.time).toBeNaN()
    expect(ev.durationUs).toBe(1478.317)
  })

  it('1.8.5-1.14.4 `- -`: no reply, rcode -1, flags 0', () => {
    const r = importFile(
      path.join(
        logDir,
        'home-assistant-plugin-dns-161_no-response-dash-rcode_6s-timeouts_then-servfail.log',
      ),
    )
    const [first] = dns(r)
    expect(first).toMatchObject({
      rcode: -1,
      flags: 0,
      size: 0,
      durationUs: 6002435.968,
      qtype: 28,
    })
    const last = dns(r).at(-1)!
    expect(last).toMatchObject({
      rcode: 2,
      flags: 0x8000 | 0x0100 | 0x0080 | 2,
      durationUs: 5657031.749,
    })
    expect(logs(r)[0]).toMatchObject({
      level: 'error',
      plugin: 'errors',
      message:
        '2 cognito-idp.us-east-1.amazonaws.com. AAAA: read udp 172.30.32.3:56041->192.168.1.71:53: i/o timeout',
    })
  })

  it('1.8.4 and older logged NOERROR for no reply; the `-` flags tell (coredns#4724)', () => {
    const r = importFile(path.join(fixtures, '1.8.4/no-reply-logged-noerror.log'))
    expect(dns(r)).toEqual([
      expect.objectContaining({ rcode: -1, flags: 0, qname: '9gag.com.', size: 0 }),
    ])
    expect(logs(r).map((l) => l.message)).toEqual([
      '.:53',
      'CoreDNS-1.8.4',
      'darwin/amd64, go1.16,',
    ])
  })

  it('kubectl --timestamps: the kubelet stamp (ns) wins over CoreDNS own (ms)', () => {
    const r = importFile(
      path.join(
        logDir,
        'coredns-coredns-3211_kubectl--timestamps_double-timestamp_variable-fraction-digits.log',
      ),
    )
    const reload = logs(r).find((l) => l.plugin === 'reload')!
    expect(reload.message).toBe('Running configuration MD5 = 0339c7ee4867a8b08b7018a9fba312fe')
    expect(reload.time).toBe(Date.UTC(2019, 7, 19, 21, 21, 43) * 1000 + 174245) // .1742448Z rounded to µs
    // 6 fraction digits on line 4, 7 on the others
    expect(logs(r)[3].time).toBe(Date.UTC(2019, 7, 19, 21, 21, 43) * 1000 + 174386)
    expect(facts(r)[0].fact).toEqual({ type: 'coredns-version', version: '1.6.2' })
  })

  it('kubectl --timestamps lines wrapped inside the question are joined (the seed talk)', () => {
    const r = importFile(
      path.join(fixtures, 'kubecon-china-2021/kubectl-timestamps_wrapped-paste.log'),
    )
    expect(dns(r).map((e) => [e.ref, e.id, e.qtype, e.qname, e.size])).toEqual([
      [2, 51559, 28, 'database.default.svc.cluster.local.', 145],
      [4, 30565, 1, 'database.default.svc.cluster.local.', 102],
    ])
    expect(dns(r)[0].time).toBe(Date.parse('2021-10-26T07:43:24.507Z') * 1000 + 438)
    expect(r.problems).toHaveLength(1) // the shell prompt
  })

  it('CRI (containerd) lines, a P piece completed by its F line, stderr kept', () => {
    const r = importFile(path.join(fixtures, 'cri/containerd-stdout-partial.log'))
    expect(r.eventCount).toBe(2)
    const joined = dns(r)[1]
    expect(joined).toMatchObject({
      ref: 6,
      qname: 'servera.fabric-net.svc.cluster.local.svc.cluster.local.',
      rcode: 3,
    })
    expect(joined.time).toBe(Date.parse('2023-11-02T09:14:31.908Z') * 1000 + 16)
    expect(logs(r).at(-1)).toMatchObject({ level: 'error', plugin: 'errors', ref: 8 })
    expect(facts(r)[0].fact).toEqual({ type: 'coredns-version', version: '1.8.6' })
    expect(r.problems).toEqual([])
  })

  it('node-cache prefix, redacted client IPs, trailing spaces', () => {
    const r = importFile(
      path.join(logDir, 'coredns-coredns-4066_node-cache-prefix_redacted-ip_trailing-space.log'),
    )
    expect(dns(r).map((e) => [e.srcAddr, e.srcPort, e.qname, e.durationUs])).toEqual([
      ['x.x.x.x', 56799, 'example.com.ec2.internal.', 1029.851],
      ['x.x.x.x', 37965, 'example.com.ec2.internal.', 1187.621],
    ])
  })

  it('k9s box borders and inline backticks are peeled off', () => {
    const k9s = importFile(
      path.join(logDir, 'deliveryhero-helm-charts-670_k9s-box-border_node-cache-iptables.log'),
    )
    expect(dns(k9s)[0]).toMatchObject({
      srcAddr: '169.254.20.25',
      qtype: 13,
      qname: '6748091981269100221.5931735662964552412.',
    })
    expect(logs(k9s)[0].message).toMatch(
      /^Added back nodelocaldns rule - \{raw PREROUTING .*skip conntrack\]\}$/,
    )
    const ticks = importFile(
      path.join(logDir, 'coredns-coredns-5864_single-line_inline-backticks_client-ip-dot-zero.log'),
    )
    expect(dns(ticks)[0]).toMatchObject({
      srcAddr: '172.29.17.0',
      transport: 'tcp',
      durationUs: 46.555,
    })
  })

  it('minikube section header; a garbage qname with escapes is kept and re-escaped', () => {
    const r = importFile(
      path.join(
        logDir,
        'kubernetes-minikube-5546_minikube-logs-header_garbage-qname-with-backslashes.log',
      ),
    )
    expect(dns(r)[0].qname).toBe('optibus-%!!\\040missing\\041s\\040<nil>\\041-rabbitmq.')
    expect(r.problems).toEqual([])
  })

  it('CoreDNS 006/007 error and panic lines with an apache prefix', () => {
    const r = importFile(
      path.join(logDir, 'coredns-coredns-1265_coredns-006-error-format_no-items-found.log'),
    )
    expect(logs(r)[0]).toMatchObject({
      level: 'error',
      plugin: 'errors',
      message: '0 kubernetes.monitoring.svc.cluster.local. A: no items found',
    })
    expect(iso(logs(r)[0].time)).toBe('2017-11-29T23:16:11.000Z')
    const p = importFile(path.join(fixtures, '007/panic-apache-prefix.log'))
    expect(logs(p).map((l) => l.level)).toEqual(['panic', 'panic', 'panic'])
  })

  it('banner, reload and errors of 1.8.6 become log events and one version fact', () => {
    const r = importFile(
      path.join(logDir, 'coredns-coredns-7200_coredns-1.8.6-banner_timeouts-two-upstreams.log'),
    )
    expect(facts(r).map((f) => [f.ref, f.fact])).toEqual([
      [3, { type: 'coredns-version', version: '1.8.6' }],
    ])
    expect(
      logs(r)
        .slice(0, 4)
        .map((l) => [l.plugin, l.message]),
    ).toEqual([
      ['', '.:53'],
      ['reload', 'Running configuration MD5 = a92e8dcfa9c78d1e466347d23bc0295c'],
      ['', 'CoreDNS-1.8.6'],
      ['', 'linux/amd64, go1.17.1, 13a9191'],
    ])
    expect(logs(r).filter((l) => l.plugin === 'errors')).toHaveLength(11)
  })

  it('klog lines from the kubernetes plugin (watch errors and warnings)', () => {
    const e = importFile(path.join(fixtures, '1.2.6/klog-watch-errors.log'))
    expect(
      logs(e)
        .filter((l) => l.plugin === 'kubernetes')
        .map((l) => l.level),
    ).toEqual(['error', 'error', 'error'])
    expect(logs(e).find((l) => l.plugin === 'reload')).toBeDefined() // ` [INFO] plugin/reload` with a leading space
    const w = importFile(path.join(fixtures, '1.6.7/kubectl-timestamps_klog-watch-warnings.log'))
    expect(logs(w)[0]).toMatchObject({
      level: 'warning',
      plugin: 'kubernetes',
      time: Date.parse('2020-04-29T12:34:32.844Z') * 1000 + 46,
    })
    expect(logs(w)[0].message).toMatch(/watch of \*v1\.Endpoints ended with: very short watch/)
  })

  it('loop detection, reload messages, mixed stamped and unstamped lines', () => {
    const loop = importFile(path.join(fixtures, '1.3.0/loop-fatal_server-without-zone.log'))
    expect(logs(loop).map((l) => [l.level, l.plugin])).toContainEqual(['fatal', 'loop'])
    expect(logs(loop)[0].message).toBe(':1053')
    const reload = importFile(path.join(fixtures, '1.6.0/reload-mixed-timestamps.log'))
    expect(logs(reload).map((l) => [l.plugin, l.message, Number.isNaN(l.time)])).toEqual([
      [
        'errors',
        '2 bobft-cce-api-svc.cce-system. A: read udp 10.51.163.14:38406->10.51.51.51:53: i/o timeout',
        false,
      ],
      [
        'errors',
        '2 rfr-redis-redis-sentinel-to-sentinel. A: read udp 10.51.163.14:59109->10.51.51.51:53: i/o timeout',
        false,
      ],
      ['reload', 'Reloading', true],
      ['reload', 'Running configuration MD5 = 2c2678d613dda4d5669dd465792642bd', false],
      ['reload', 'Reloading complete', true],
      ['reload', 'Reloading', true],
    ])
  })

  it('panics: one event with its stack, no problem for the frames (bare and journald)', () => {
    for (const f of ['master-2020-10/panic-stack.log', '1.6.0/journald-panic.log']) {
      const r = importFile(path.join(fixtures, f))
      expect(r.problems).toEqual([])
      expect(logs(r)).toHaveLength(1)
      expect(logs(r)[0]).toMatchObject({ level: 'panic', ref: 1 })
      expect(logs(r)[0].message).toMatch(
        /^runtime error: invalid memory address or nil pointer dereference\n\[signal SIGSEGV/,
      )
      expect(logs(r)[0].message).toMatch(/goroutine \d+ \[running\]:/)
    }
  })

  it('every fixture gives the same result under a meaningless name and is detected by content', () => {
    // Two klog lines alone look like any Kubernetes component's log (kube-proxy, kubelet): with
    // no CoreDNS word in them, detection declines rather than guess.
    const undetectable = new Set(['1.6.7/kubectl-timestamps_klog-watch-warnings.log'])
    for (const dir of readdirSync(fixtures)) {
      if (!statSync(path.join(fixtures, dir)).isDirectory()) continue
      for (const f of readdirSync(path.join(fixtures, dir))) {
        const bytes = new Uint8Array(readFileSync(path.join(fixtures, dir, f)))
        const id = detectImporter(bytes.subarray(0, SNIFF_BYTES), 'x.bin').importer?.id
        expect(id, f).toBe(undetectable.has(`${dir}/${f}`) ? undefined : 'coredns-log')
        expect(importBytes(bytes, 'x.bin')).toEqual(importBytes(bytes, path.join(dir, f)))
      }
    }
  })
})

describe('coredns-log on malformed input', () => {
  const good =
    '[INFO] 10.244.1.3:40090 - 51243 "A IN kubernetes.default.svc.cluster.local. udp 54 false 512" NOERROR qr,aa,rd 106 0.0000988s'

  it('garbage lines, a binary run and a truncated last line: problems, good events kept', () => {
    const junk = String.fromCharCode(0, 1, 2, 0xfffd, 7) + 'PK\u0003\u0004'
    const r = importText(
      [good, 'hello world', 'more text', good, junk, junk, good, good.slice(0, 60)].join('\n'),
    )
    expect(dns(r).map((e) => e.ref)).toEqual([1, 4, 7])
    expect(r.problems).toEqual([
      {
        where: 'lines 2-3',
        message: '2 lines skipped: not CoreDNS log output (first: "hello world")',
      },
      { where: 'lines 5-6', message: '2 lines skipped: binary data, not text' },
      { where: 'line 8', message: 'the quoted question is not closed (line cut off?)' },
    ])
  })

  it('real binary bytes (a pcap header) inside a log: one problem, the log lines kept', () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode(good + '\n'),
      0xd4,
      0xc3,
      0xb2,
      0xa1,
      0x02,
      0x00,
      0x04,
      0x00,
      0,
      0,
      0,
      0,
      0xff,
      0xfe,
      0x0a,
      ...new TextEncoder().encode(good + '\n'),
    ])
    const r = importBytes(bytes)
    expect(dns(r).map((e) => e.ref)).toEqual([1, 3])
    expect(r.problems).toEqual([
      { where: 'line 2', message: '1 line skipped: binary data, not text' },
    ])
    expect(dns(r)[1].offset).toBe(new TextEncoder().encode(good).length + 1 + 15)
  })

  it('a 10k-character qname is refused with a reason; neighbours kept', () => {
    const hostile = good.replace('kubernetes.default.svc.cluster.local.', 'a'.repeat(10_000) + '.')
    const r = importText([good, hostile, good].join('\n'))
    expect(dns(r).map((e) => e.ref)).toEqual([1, 3])
    expect(r.problems).toEqual([
      {
        where: 'line 2',
        message: 'a label of the query name is longer than 63 bytes (10001 characters)',
      },
    ])
    const labels = good.replace('kubernetes.default.svc.cluster.local.', 'abcdefgh.'.repeat(1000))
    expect(importText(labels).problems[0].message).toMatch(
      /^query name is \d+ bytes on the wire, more than 255/,
    )
  })

  it('broken fields are named: rcode, duration, question, cut after the question', () => {
    const cases: [string, RegExp][] = [
      [good.replace('NOERROR', 'NOTANRCODE'), /^rcode "NOTANRCODE" is not an rcode$/],
      [good.replace('0.0000988s', '12 parsecs'), /^fields after the question do not read as/],
      [good.replace('0.0000988s', '0.1xs'), /^duration "0.1xs" is not a Go duration$/],
      [good.replace(' udp 54', ' udp'), /^the question has 6 fields, want 7/],
      [good.slice(0, good.indexOf('NOERROR')), /^line ends before rcode, flags, size and duration/],
      [good.replace('A IN', 'A ZZ'), /^query class "ZZ" is not a class$/],
    ]
    for (const [line, why] of cases) {
      const r = importText(line + '\n' + good)
      expect(
        dns(r).map((e) => e.ref),
        line,
      ).toEqual([2])
      expect(r.problems).toHaveLength(1)
      expect(r.problems[0].where).toBe('line 1')
      expect(r.problems[0].message).toMatch(why)
    }
  })

  it('a huge line is refused without being read', () => {
    const r = importText(good + '\n' + 'x'.repeat(100_000) + '\n' + good)
    expect(dns(r)).toHaveLength(2)
    expect(r.problems).toEqual([
      { where: 'line 2', message: expect.stringMatching(/^line is 100000 characters long/) },
    ])
  })

  it('problems are capped so a file of junk stays small', () => {
    const lines: string[] = []
    for (let i = 0; i < 1000; i++) lines.push(good.slice(0, 50), good)
    const r = importText(lines.join('\n'))
    expect(r.eventCount).toBe(1000)
    expect(r.problems).toHaveLength(201)
    expect(r.problems.at(-1)).toEqual({ where: 'file', message: '800 more problems not listed' })
  })

  it('an empty file and a CRLF file', () => {
    expect(importText('')).toEqual({ events: [], problems: [], eventCount: 0 })
    const r = importText(good + '\r\n' + good + '\r\n')
    expect(dns(r).map((e) => [e.ref, e.offset, e.durationUs])).toEqual([
      [1, 0, 98.8],
      [2, good.length + 2, 98.8],
    ])
  })
})

describe('coredns-log pieces', () => {
  it('reads Go durations', () => {
    expect(goDurationMicros('0.000102235s')).toBe(102.235)
    expect(goDurationMicros('981.518µs')).toBe(981.518)
    expect(goDurationMicros('4.210922ms')).toBe(4210.922)
    expect(goDurationMicros('1m2.5s')).toBe(62_500_000)
    expect(goDurationMicros('850ns')).toBe(0.85)
    expect(goDurationMicros('6.002435968s')).toBe(6002435.968)
    expect(goDurationMicros('12')).toBeNaN()
    expect(goDurationMicros('')).toBeNaN()
  })

  it('normalizes names: case, trailing dot, escapes', () => {
    expect(normalizeQname('WWW.Example.COM.')).toBe('www.example.com.')
    expect(normalizeQname('example.com')).toBe('example.com.')
    expect(normalizeQname('.')).toBe('.')
    expect(normalizeQname('a\\.b.example.')).toBe('a\\046b.example.')
    expect(normalizeQname('sp\\032ace.\\255.')).toBe('sp\\032ace.\\255.')
    expect(normalizeQname('a..b.')).toEqual({ error: 'empty label in the query name' })
    expect(normalizeQname('foo\\.')).toBe('foo\\046.') // the only dot is escaped: still a label
  })

  it('IPv6 clients in the current form keep their port', () => {
    // Constructed: CoreDNS writes {remote} of an IPv6 client in brackets (replacer addrToRFC3986).
    const r = importText(
      '[INFO] [2001:db8::7]:40420 - 7 "AAAA IN example.org. udp 40 true 1232" NOERROR qr,rd,ra,ad 96 0.02s',
    )
    expect(dns(r)[0]).toMatchObject({
      srcAddr: '2001:db8::7',
      srcPort: 40420,
      flags: 0x8000 | 0x100 | 0x80 | 0x20,
    })
  })

  it('the combined format ends with the opcode', () => {
    const r = importText(
      '[INFO] 10.0.0.1:5353 - 9 "SOA IN example.org. udp 40 false 512" NOERROR qr,aa 80 0.001s "QUERY"',
    )
    expect(dns(r)[0]).toMatchObject({ opcode: 0, qtype: 6, flags: 0x8000 | 0x400 })
  })

  it('kubectl --prefix wrappers are peeled', () => {
    const r = importText(
      '[pod/coredns-5d78c9869d-x2x5k/coredns] [INFO] plugin/reload: Running configuration SHA512 = 12ab',
    )
    expect(logs(r)[0]).toMatchObject({
      plugin: 'reload',
      message: 'Running configuration SHA512 = 12ab',
    })
  })
})
