// config-error: Corefile and resolv.conf mistakes: forwarding loops, no cache, no prometheus or
// log; more nameservers or search domains than glibc reads; a pod nameserver that is not the
// cluster DNS. Seed talk: "Diagnostic Procedure" — always: config error; whole cluster: misconfig
// at server-side, check coredns config.
import type { CorefileServer, Event, FactEvent, NodeFact } from '../model/event.js'
import type { Severity } from '../model/report.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { dnsAddresses, evidenceList } from './transaction-views.js'
import { factsOf } from '../model/facts.js'

type ResolvConf = Extract<NodeFact, { type: 'resolv-conf' }>

/** glibc resolv/resolv.h: MAXNS 3; MAXDNSRCH 6 before glibc 2.26 (Kubernetes still warns past 6). */
const MAXNS = 3
const MAXDNSRCH = 6
// Loop (127.0.0.1:55953 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting
const LOOP_LOG = /Loop \(.*\) detected for zone/
/** NodeLocal DNSCache's usual link-local listen addresses. */
const NODELOCAL = /^169\.254\./

interface Problem {
  check: string
  severity: Severity
  confidence: number
  detail: Record<string, unknown>
  evidence: Event[]
  mitigation: string
}

export const configError: Rule = {
  id: 'config-error',
  title: 'DNS configuration mistake',
  severity: 'warning',
  description:
    'Corefile: forward to the cluster DNS itself or to a loopback address (a forwarding loop, or ' +
    'the loop plugin reporting one), no cache, no prometheus or log (blind during an incident), the ' +
    'removed proxy plugin. resolv.conf: more than 3 nameservers or 6 search domains (glibc reads no ' +
    'more), or a pod whose nameserver is not the cluster DNS. One finding per kind of mistake.',
  mitigation:
    'Fix the Corefile (`kubectl -n kube-system edit configmap coredns`) or the pod dnsConfig as the finding says.',
  references: [
    'seed talk: "Diagnostic Procedure" — always: config error, check coredns log; whole cluster: misconfig at server-side, check coredns config',
    'seed talk: "Built-In Observabilities" — turn on CoreDNS\'s log, metrics, trace plugins',
    'https://coredns.io/plugins/loop/#troubleshooting',
    'https://man7.org/linux/man-pages/man5/resolv.conf.5.html (MAXNS 3; 6 search domains before glibc 2.26)',
    'https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/#known-issues',
  ],
  check,
  describe(d) {
    switch (d.check) {
      case 'forward-loop':
        return `Server block ${d.server} forwards to ${(d.targets as string[]).join(', ')}, which is the cluster DNS itself or loopback: a forwarding loop.`
      case 'loop-detected':
        return `The loop plugin detected a forwarding loop (${d.lines} log line(s)).`
      case 'no-cache':
        return `Server block(s) ${(d.servers as string[]).join(', ')} forward without the cache plugin: every query goes upstream.`
      case 'missing-observability':
        return `Server block(s) ${(d.servers as string[]).join(', ')} lack ${(d.missing as string[]).join(', ')}: no evidence when DNS fails.`
      case 'proxy-plugin':
        return `Server block(s) ${(d.servers as string[]).join(', ')} use the proxy plugin, removed in CoreDNS 1.6.`
      case 'too-many-nameservers':
        return `resolv.conf lists ${d.count} nameservers; glibc uses only the first ${MAXNS}: ${(d.ignored as string[]).join(', ')} ignored.`
      case 'too-many-search-domains':
        return `resolv.conf lists ${d.count} search domains; glibc before 2.26 reads only ${MAXDNSRCH}, and each one multiplies queries.`
      case 'foreign-nameserver':
        return `A pod resolv.conf at ${d.vantage} points at ${(d.nameservers as string[]).join(', ')}, not the cluster DNS ${(d.clusterDns as string[]).join(', ')}.`
      default:
        return String(d.check)
    }
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const problems = [...corefileProblems(ctx), ...resolvProblems(ctx)]
  return problems.map((p) => ({
    confidence: p.confidence,
    severity: p.severity,
    data: { check: p.check, ...p.detail },
    evidence: evidenceList(p.evidence),
    mitigation: p.mitigation,
  }))
}

function corefileProblems(ctx: RuleContext): Problem[] {
  const out: Problem[] = []
  const clusterDns = new Set([...(ctx.manifest?.cluster?.dnsServiceIps ?? [])])
  const noCache: string[] = []
  const proxy: string[] = []
  const missing = new Map<string, Set<string>>()
  const events: FactEvent[] = []
  for (const e of factsOf(ctx.facts, 'corefile')) {
    for (const s of e.fact.servers) {
      const name = serverName(s)
      const has = (p: string) => s.plugins.some((x) => x.name === p)
      const forwards = s.plugins.filter((p) => p.name === 'forward' || p.name === 'proxy')
      const binds = new Set(s.plugins.filter((p) => p.name === 'bind').flatMap((p) => p.args))
      const targets = forwards
        .flatMap((p) => p.args.slice(1))
        .map((a) => a.replace(/^dns:\/\//, '').replace(/:\d+$/, ''))
      const looping = targets.filter(
        (t) =>
          clusterDns.has(t) ||
          /^127\./.test(t) ||
          t === '::1' ||
          (binds.has(t) && !NODELOCAL.test(t)),
      )
      // node-local-dns binds the cluster IP and forwards to a different Service IP: not a loop.
      if (looping.length)
        out.push({
          check: 'forward-loop',
          severity: 'critical',
          confidence: 0.85,
          detail: { server: name, targets: looping },
          evidence: [e],
          mitigation:
            `In server block ${name}, forward to a real upstream instead of ${looping.join(', ')}: ` +
            "`forward . /etc/resolv.conf` (the node's resolvers) or explicit upstream IPs, and keep the `loop` plugin.",
        })
      if (forwards.length && !has('cache')) noCache.push(name)
      if (has('proxy')) proxy.push(name)
      const lack = ['prometheus', 'log', 'errors'].filter((p) => !has(p))
      if (lack.length) missing.set(name, new Set(lack))
      events.push(e)
    }
  }
  const loopLines = ctx.logs.filter((l) => LOOP_LOG.test(l.message))
  if (loopLines.length)
    out.push({
      check: 'loop-detected',
      severity: 'critical',
      confidence: 0.95,
      detail: { lines: loopLines.length },
      evidence: loopLines,
      mitigation:
        "The loop plugin stops CoreDNS when it forwards to itself. Usually the node's /etc/resolv.conf " +
        'points at 127.0.0.53 (systemd-resolved): point kubelet at the real file (`resolvConf: ' +
        '/run/systemd/resolve/resolv.conf` in the KubeletConfiguration) or forward to explicit upstream IPs.',
    })
  if (noCache.length)
    out.push({
      check: 'no-cache',
      severity: 'warning',
      confidence: 0.9,
      detail: { servers: noCache },
      evidence: events,
      mitigation: `Add \`cache 30\` to server block(s) ${noCache.join(', ')}.`,
    })
  if (proxy.length)
    out.push({
      check: 'proxy-plugin',
      severity: 'warning',
      confidence: 0.9,
      detail: { servers: proxy },
      evidence: events,
      mitigation:
        'Replace `proxy . <upstreams>` with `forward . <upstreams>` before upgrading CoreDNS past 1.5.',
    })
  const missingAll = [...new Set([...missing.values()].flatMap((s) => [...s]))]
  if (missing.size)
    out.push({
      check: 'missing-observability',
      severity: 'info',
      confidence: 0.9,
      detail: { servers: [...missing.keys()], missing: missingAll },
      evidence: events,
      mitigation:
        `Add ${missingAll.map((p) => (p === 'prometheus' ? '`prometheus :9153`' : `\`${p}\``)).join(', ')} ` +
        `to server block(s) ${[...missing.keys()].join(', ')} (\`log\` can be limited: \`log . { class denial error }\`).`,
    })
  return out
}

function resolvProblems(ctx: RuleContext): Problem[] {
  const out: Problem[] = []
  const types = new Map(ctx.vantages.map((v) => [v.id, v.type]))
  const clusterDns = [...(ctx.manifest?.cluster?.dnsServiceIps ?? [])]
  const known = dnsAddresses(ctx)
  for (const e of factsOf(ctx.facts, 'resolv-conf')) {
    const r: ResolvConf = e.fact
    if (r.nameservers.length > MAXNS)
      out.push({
        check: 'too-many-nameservers',
        severity: 'warning',
        confidence: 0.9,
        detail: {
          vantage: e.vantage,
          count: r.nameservers.length,
          ignored: r.nameservers.slice(MAXNS),
        },
        evidence: [e],
        mitigation: `Keep at most ${MAXNS} nameservers; put the ones that matter first (kubelet --resolv-conf or the pod's dnsConfig.nameservers).`,
      })
    if (r.search.length > MAXDNSRCH)
      out.push({
        check: 'too-many-search-domains',
        severity: 'warning',
        confidence: 0.8,
        detail: { vantage: e.vantage, count: r.search.length, search: r.search },
        evidence: [e],
        mitigation: `Trim the search list to at most ${MAXDNSRCH} domains (node /etc/resolv.conf feeds every pod with dnsPolicy ClusterFirst).`,
      })
    // Only a pod's resolv.conf must point at the cluster DNS; a node's points upstream.
    const podLike = types.get(e.vantage) === 'pod' || r.search.some((s) => /(^|\.)svc\./.test(s))
    if (!podLike || clusterDns.length === 0) continue
    const ok = r.nameservers.some(
      (ns) => clusterDns.includes(ns) || known.has(ns) || NODELOCAL.test(ns),
    )
    if (!ok)
      out.push({
        check: 'foreign-nameserver',
        severity: 'warning',
        confidence: 0.7,
        detail: { vantage: e.vantage, nameservers: r.nameservers, clusterDns },
        evidence: [e],
        mitigation: `Point the pod at the cluster DNS: \`dnsPolicy: ClusterFirst\`, or \`dnsConfig: {nameservers: [${clusterDns[0]}]}\` with \`dnsPolicy: None\`.`,
      })
  }
  return out
}

function serverName(s: CorefileServer): string {
  return `${s.zones.join(' ') || '.'}:${s.port}`
}
