// upstream-failure: the DNS server's upstream does not answer: forwarder queries without responses,
// CoreDNS "read udp A->B:53: i/o timeout" errors, SERVFAIL to clients for external names only, and
// the forward plugin's health-check failures. Seed talk: dnstap "cannot connect to upstream"
// (FORWARDER_QUERY without FORWARDER_RESPONSE).
import type { LogEvent } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { clusterDomains, EXTERNAL, isLoopProbe, REVERSE, scopesOf } from './cluster-names.js'
import { increaseSum, latestSum, seriesOf } from './metric-series.js'
import {
  dnsAddresses,
  evidenceMix,
  lazyEvents,
  round,
  topCounts,
  txFacts,
} from './transaction-views.js'

// [ERROR] plugin/errors: 2 pool.dudiito.dev. AAAA: read udp 10.10.0.111:34538->10.30.0.3:53: i/o timeout
// [ERROR] plugin/errors: 2 x.rds.amazonaws.com. AAAA: dial tcp 10.28.0.2:53: i/o timeout
const TIMEOUT =
  /(?:\d+ )?(\S+) (\S+): (?:read|dial|write) (?:udp|tcp) (?:\S+->)?(\S+?): i\/o timeout/
const NO_UPSTREAM = /no healthy (?:upstream|proxies)/i

export const upstreamFailure: Rule = {
  id: 'upstream-failure',
  title: 'The upstream resolver does not answer',
  severity: 'critical',
  description:
    'Queries the DNS server forwards get no response (dnstap FORWARDER_QUERY without ' +
    'FORWARDER_RESPONSE, or its outgoing packets), CoreDNS logs i/o timeouts to the upstream, ' +
    'clients get SERVFAIL for external names while cluster names resolve, or the forward plugin ' +
    'counts failed health checks.',
  mitigation:
    'Check the upstream from inside the cluster: `kubectl run -it --rm dnscheck --image=busybox:1.36 ' +
    '--restart=Never -- nslookup example.com <upstream IP>`, and its network path (security groups, ' +
    "firewall, the node's /etc/resolv.conf). List more than one upstream so forward can fail over: " +
    '`forward . <upstream 1> <upstream 2> { health_check 5s }`, and let the cache bridge outages: ' +
    '`cache 30 { serve_stale 1h }`.',
  references: [
    'seed talk: dnstap message types — "cannot connect to upstream": CLIENT_QUERY, CLIENT_RESPONSE, FORWARDER_QUERY but no FORWARDER_RESPONSE',
    'seed talk: "Diagnostic Procedure" — always: network issue; check coredns log',
    'https://coredns.io/plugins/forward/ (health_check, max_fails, metrics coredns_forward_healthcheck_failures_total)',
    'https://coredns.io/plugins/cache/ (serve_stale)',
  ],
  check,
  describe(d) {
    const ups = (d.upstreams as { upstream: string }[]).map((u) => u.upstream).join(', ')
    const parts: string[] = []
    if (Number(d.forwarderUnanswered))
      parts.push(
        `${d.forwarderUnanswered} of ${d.forwarderQueries} forwarded queries got no response`,
      )
    if (Number(d.timeoutLogs)) parts.push(`CoreDNS logged ${d.timeoutLogs} upstream i/o timeouts`)
    if (Number(d.externalServfail))
      parts.push(
        `${d.externalServfail} external lookups got SERVFAIL while ${d.clusterServfail} cluster lookups did`,
      )
    if (Number(d.healthcheckFailures))
      parts.push(`the forward plugin failed ${d.healthcheckFailures} health checks`)
    const n = (d.upstreams as unknown[]).length
    return `${n > 1 ? 'Upstreams' : 'Upstream'} ${ups || '(unknown)'} ${n > 1 ? 'are' : 'is'} failing: ${parts.join('; ')}.`
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const domains = clusterDomains(ctx)
  const dnsAddrs = dnsAddresses(ctx)
  const fwd = ctx.correlation.forwarder
  const fwdUnanswered = fwd.filter((f) => f.response === null)

  const timeouts: { log: LogEvent; upstream: string; probe: boolean }[] = []
  const noUpstream: LogEvent[] = []
  for (const l of ctx.logs) {
    const m = TIMEOUT.exec(l.message)
    if (m) {
      const qtype = m[2] === 'HINFO' ? 13 : 0
      timeouts.push({ log: l, upstream: m[3], probe: isLoopProbe(m[1].toLowerCase(), qtype) })
    } else if (NO_UPSTREAM.test(l.message)) noUpstream.push(l)
  }

  let externalServfail = 0
  let clusterServfail = 0
  const servfail: number[] = []
  const f = txFacts(ctx.correlation.transactions)
  const { name, rcode, nameRows } = f
  // The scope of every name is thousands of string tests: worked out only once a SERVFAIL or a
  // finding needs it.
  let scopes: Uint8Array | null = null
  // SERVFAILs among the failed transactions: no loop over every transaction.
  for (const i of f.failed) {
    if (rcode[i] !== 2) continue
    scopes ??= scopesOf(f, domains)
    const scope = scopes[name[i]]
    if (scope === REVERSE) continue
    if (scope === EXTERNAL) {
      externalServfail++
      servfail.push(i)
    } else clusterServfail++
  }
  const servfailEvents = lazyEvents(ctx.correlation.transactions, servfail, (t) => t.response)
  const externalOnly = externalServfail > 0 && clusterServfail === 0

  const hc = seriesOf(ctx.metrics, (n) =>
    /^coredns_(forward|proxy)_healthcheck_(failures|broken)_total$/.test(n),
  )
  const healthcheckFailures = increaseSum(hc) ?? latestSum(hc)

  const signals = {
    forwarder: fwdUnanswered.length > 0,
    timeouts: timeouts.some((t) => !t.probe) || noUpstream.length > 0,
    probeTimeouts: timeouts.some((t) => t.probe),
    externalOnly,
    healthcheck: healthcheckFailures > 0,
  }
  if (!Object.values(signals).some(Boolean)) return []
  // External transactions counted per name (the facts count each name's rows).
  scopes ??= scopesOf(f, domains)
  let external = 0
  for (let k = 0; k < scopes.length; k++) if (scopes[k] === EXTERNAL) external += nameRows[k]

  const fwdShare = fwd.length ? fwdUnanswered.length / fwd.length : 0
  const base = Math.max(
    signals.forwarder ? (fwdShare >= 0.3 ? 0.9 : 0.7) : 0,
    signals.timeouts ? 0.8 : 0,
    signals.probeTimeouts ? 0.6 : 0,
    signals.healthcheck ? 0.7 : 0,
    signals.externalOnly ? 0.55 : 0,
  )
  const extra = Object.values(signals).filter(Boolean).length - 1
  const confidence = round(Math.min(0.97, base + 0.05 * extra), 2)

  const upstreamCounts = new Map<
    string,
    { upstream: string; forwarded: number; unanswered: number; timeouts: number }
  >()
  const up = (u: string) => {
    let r = upstreamCounts.get(u)
    if (!r) upstreamCounts.set(u, (r = { upstream: u, forwarded: 0, unanswered: 0, timeouts: 0 }))
    return r
  }
  for (const f of fwd) {
    const r = up(f.upstream)
    r.forwarded++
    if (f.response === null) r.unanswered++
  }
  for (const t of timeouts) up(t.upstream).timeouts++
  const upstreams = [...upstreamCounts.values()]
    .filter((u) => u.unanswered || u.timeouts)
    .sort((a, b) => b.unanswered + b.timeouts - (a.unanswered + a.timeouts))
  const loopSuspects = upstreams
    .map((u) => u.upstream.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''))
    .filter((a) => dnsAddrs.has(a) || (ctx.manifest?.cluster?.dnsServiceIps ?? []).includes(a))

  const data = {
    upstreams,
    forwarderQueries: fwd.length,
    forwarderUnanswered: fwdUnanswered.length,
    forwarderUnansweredShare: round(fwdShare, 4),
    timeoutLogs: timeouts.filter((t) => !t.probe).length,
    loopProbeTimeouts: timeouts.filter((t) => t.probe).length,
    noHealthyUpstreamLogs: noUpstream.length,
    externalQueries: external,
    externalServfail,
    clusterServfail,
    healthcheckFailures,
    topNames: topCounts(
      [
        ...fwdUnanswered.map((f) => f.qname),
        ...timeouts
          .filter((t) => !t.probe)
          .map((t) => TIMEOUT.exec(t.log.message)![1].toLowerCase()),
      ],
      5,
    ).map(({ key, count }) => ({ name: key, count })),
    upstreamIsClusterDns: loopSuspects,
  }
  const severe =
    fwdShare >= 0.1 || externalServfail > 0 || data.timeoutLogs >= 3 || noUpstream.length > 0
  const list = upstreams.map((u) => u.upstream.replace(/:53$/, '')).slice(0, 2)
  return [
    {
      confidence,
      severity: severe ? 'critical' : 'warning',
      data,
      evidence: evidenceMix(
        fwdUnanswered.map((f) => f.query),
        timeouts.filter((t) => !t.probe).map((t) => t.log),
        noUpstream,
        servfailEvents,
        hc.map((s) => s.last),
        timeouts.filter((t) => t.probe).map((t) => t.log),
      ),
      mitigation:
        `Check ${list.length ? list.join(' and ') : 'the upstream'} from inside the cluster: ` +
        `\`kubectl run -it --rm dnscheck --image=busybox:1.36 --restart=Never -- nslookup example.com ${list[0] ?? '<upstream IP>'}\`, ` +
        "and its network path (security groups, firewall, the node's /etc/resolv.conf). List more than one " +
        'upstream so forward can fail over: `forward . <upstream 1> <upstream 2> { health_check 5s }`, ' +
        'and let the cache bridge outages: `cache 30 { serve_stale 1h }`.' +
        (loopSuspects.length
          ? ` Note: ${loopSuspects.join(', ')} is the cluster DNS itself — a forwarding loop (see config-error).`
          : ''),
    },
  ]
}
