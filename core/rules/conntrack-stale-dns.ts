// conntrack-stale-dns: UDP conntrack entries that still DNAT a pod's DNS queries to a CoreDNS pod
// that is gone. kube-proxy deletes a UDP Service's entries for an endpoint when the endpoint goes
// away; an entry left behind (kubernetes#125467) keeps sending that client's queries from that
// source port to the dead address, [UNREPLIED], and every resend refreshes the entry's timeout, so
// the client's lookups from that port fail until it changes port. Seed talk: "Conntrack drops UDP
// packets when source port conflicts" is the race on insert; this is the stale entry after delete.
import type { FactEvent } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { factsOf, type FactOf } from '../model/facts.js'
import { evidenceList } from './transaction-views.js'

export const conntrackStaleDns: Rule = {
  id: 'conntrack-stale-dns',
  title: 'Stale conntrack entries send DNS queries to a CoreDNS pod that is gone',
  severity: 'critical',
  description:
    'UDP conntrack entries for DNS (destination port 53) that are [UNREPLIED] and whose reply ' +
    'source, the endpoint the Service IP was translated to, is not a live DNS endpoint. The live ' +
    "endpoints are the manifest's, the IPVS real servers with weight, the addresses seen answering " +
    'DNS in the captures and those of the conntrack entries that were answered. Without any of ' +
    'those it reports, as info, where the unanswered entries point.',
  mitigation:
    'Delete the stale entries on the node: `conntrack -D -p udp --dport 53 --reply-src <dead ' +
    'endpoint>`. kube-proxy should have deleted them when the endpoint went away: look for ' +
    'conntrack errors in its log (kubernetes#125467).',
  references: [
    'https://github.com/kubernetes/kubernetes/issues/125467',
    'seed talk: "Conntrack drops UDP packets when source port conflicts" (the same table, on insert)',
    'https://conntrack-tools.netfilter.org/conntrack.html',
  ],
  check,
  describe(d) {
    const targets = d.targets as { endpoint: string; entries: number }[]
    const where = targets.map((t) => `${t.endpoint} (${t.entries})`).join(', ')
    return d.liveKnown
      ? `${d.staleEntries} unanswered DNS conntrack entries from ${d.clients} client(s) are ` +
          `translated to ${where}, which is not a live DNS endpoint (live: ` +
          `${(d.liveEndpoints as string[]).join(', ')}).`
      : `${d.staleEntries} unanswered DNS conntrack entries from ${d.clients} client(s) are ` +
          `translated to ${where}; no list of live DNS endpoints is in the bundle to tell whether ` +
          'that endpoint still exists.'
  },
}

type Entry = FactOf<'conntrack-entry'>

/** Entries listed as evidence at most. */
const EVIDENCE = 20

function check(ctx: RuleContext): RuleFinding[] {
  // Reply sources go into the command the finding suggests: an entry whose reply source is not
  // an IP address (a hostile or garbled listing) is not read at all.
  const dns = factsOf(ctx.facts, 'conntrack-entry').filter(
    (e) => e.fact.protocol === 'udp' && e.fact.dport === 53 && isIpAddress(e.fact.replySrc),
  )
  // Translated (the reply comes from another address than the query went to) and unanswered.
  const unanswered = dns.filter((e) => e.fact.unreplied && e.fact.replySrc !== e.fact.dst)
  if (unanswered.length === 0) return []
  const { live, fromOutside } = liveEndpoints(ctx, dns)
  const stale = unanswered.filter((e) => !live.has(e.fact.replySrc))
  if (stale.length === 0) return []

  const byTarget = new Map<string, { entries: number; clients: Set<string> }>()
  for (const e of stale) {
    let t = byTarget.get(e.fact.replySrc)
    if (!t) byTarget.set(e.fact.replySrc, (t = { entries: 0, clients: new Set() }))
    t.entries++
    t.clients.add(e.fact.src)
  }
  const targets = [...byTarget]
    .map(([endpoint, t]) => ({ endpoint, entries: t.entries, clients: t.clients.size }))
    .sort((a, b) => b.entries - a.entries)
  const clients = new Set(stale.map((e) => e.fact.src))
  const liveKnown = live.size > 0
  return [
    {
      confidence: !liveKnown ? 0.3 : fromOutside ? 0.85 : 0.7,
      severity: liveKnown ? 'critical' : 'info',
      data: {
        staleEntries: stale.length,
        unansweredDnsEntries: unanswered.length,
        dnsEntries: dns.length,
        clients: clients.size,
        targets,
        liveKnown,
        liveEndpoints: [...live].sort(),
        // Client source ports whose lookups go to the dead endpoint, a few of them.
        examples: stale.slice(0, 5).map((e) => `${e.fact.src}:${e.fact.sport} → ${e.fact.dst}`),
      },
      evidence: evidenceList(stale.slice(0, EVIDENCE) as FactEvent[]),
      mitigation:
        targets
          .map((t) => `\`conntrack -D -p udp --dport 53 --reply-src ${t.endpoint}\``)
          .join(', then ') +
        (liveKnown
          ? ' on the node deletes the stale entries. '
          : ' deletes them if that endpoint is gone: compare with `kubectl -n kube-system get ' +
            'endpoints kube-dns -o wide`. ') +
        'kube-proxy should have deleted them when the endpoint went away: look for conntrack ' +
        'errors in its log (kubernetes#125467).',
    },
  ]
}

/**
 * The DNS endpoints known to be alive: the manifest's, the real servers with weight of IPVS
 * services on port 53, the addresses the captures saw answer DNS, and the reply sources of DNS
 * conntrack entries that were answered. `fromOutside`: some source other than the listing itself
 * named one. A Service IP (the manifest's, or an entry's destination) is never an endpoint.
 */
function liveEndpoints(
  ctx: RuleContext,
  dns: Entry[],
): { live: Set<string>; fromOutside: boolean } {
  const services = new Set(ctx.manifest?.cluster?.dnsServiceIps)
  for (const e of dns) services.add(e.fact.dst)
  const live = new Set<string>()
  const add = (a: string) => services.has(a) || live.add(a)
  for (const a of ctx.manifest?.cluster?.dnsEndpoints ?? []) add(a)
  for (const e of factsOf(ctx.facts, 'ipvs-service'))
    if (e.fact.port === 53) for (const r of e.fact.realServers) if (r.weight > 0) add(r.addr)
  for (const a of ctx.correlation.dnsServers) add(a)
  const fromOutside = live.size > 0
  for (const e of dns) if (!e.fact.unreplied) add(e.fact.replySrc)
  return { live, fromOutside }
}

/** An IPv4 dotted quad, or IPv6 hex groups and colons (with a dotted quad at the end, or not). */
export function isIpAddress(s: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255)
  return s.includes(':') && s.length <= 45 && /^[0-9a-fA-F:]+(?:\.[0-9.]+)?$/.test(s)
}
