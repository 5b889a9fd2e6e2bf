// conntrack-table-full: the conntrack table at (or near) nf_conntrack_max, the kernel's
// "nf_conntrack: table full, dropping packet", and the drops. Seed talk: "Conntrack Table Entries
// Starvation".
import type { FactEvent } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { evidenceList, round } from './transaction-views.js'
import { factsOf } from '../model/facts.js'

const FULL = 0.9
const NEAR = 0.8

export const conntrackTableFull: Rule = {
  id: 'conntrack-table-full',
  title: 'conntrack table full: the kernel drops new flows, DNS included',
  severity: 'critical',
  description:
    'Every Service access, DNS included, takes a conntrack entry. When short-lived connections fill ' +
    'the table to nf_conntrack_max the kernel drops packets that would create a new entry and logs ' +
    '"nf_conntrack: table full, dropping packet". Fires on that kernel line, or when the count is at ' +
    '90% of the maximum (warning from 80%).',
  mitigation:
    'Raise the limit now: `sysctl -w net.netfilter.nf_conntrack_max=<new max>` (persist it in ' +
    '/etc/sysctl.d/); kube-proxy resets it at start, so also set `conntrack: {maxPerCore: <n>}` in ' +
    'the KubeProxyConfiguration. Then cut the churn: long-lived (keep-alive) connections, and ' +
    'NodeLocal DNSCache, whose NOTRACK rules keep DNS out of the table.',
  references: [
    'seed talk: "Conntrack Table Entries Starvation" — switch to long-lived connections or increase Conntrack Table size',
    'https://www.kernel.org/doc/Documentation/networking/nf_conntrack-sysctl.txt',
    'https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/ (conntrack.maxPerCore)',
  ],
  check,
  describe(d) {
    const parts: string[] = []
    if (Number(d.tableFullLines))
      parts.push(`the kernel logged "table full, dropping packet" ${d.tableFullLines} time(s)`)
    if (d.usage != null)
      parts.push(
        `the table holds ${d.count} of ${d.max} entries (${round(Number(d.usage) * 100, 1)}%)`,
      )
    if (Number(d.statsDrop) || Number(d.earlyDrop))
      parts.push(`conntrack counts drop=${d.statsDrop} early_drop=${d.earlyDrop}`)
    return parts.join('; ').replace(/^./, (c) => c.toUpperCase()) + '.'
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const fullLines = factsOf(ctx.facts, 'conntrack-table-full')
  let worst: { event: FactEvent; count: number; max: number; usage: number } | null = null
  for (const e of factsOf(ctx.facts, 'conntrack-count')) {
    const { count, max } = e.fact
    if (count === undefined || !max) continue
    const usage = count / max
    if (!worst || usage > worst.usage) worst = { event: e, count, max, usage }
  }
  const statsEvents = factsOf(ctx.facts, 'conntrack-stats')
  let statsDrop = 0
  let earlyDrop = 0
  for (const e of statsEvents) {
    if (e.fact.type !== 'conntrack-stats') continue
    const f = e.fact
    const get = (k: string) => f.totals[k] ?? f.perCpu.reduce((n, c) => n + (c[k] ?? 0), 0)
    statsDrop = Math.max(statsDrop, get('drop'))
    earlyDrop = Math.max(earlyDrop, get('early_drop'))
  }
  const near = worst !== null && worst.usage >= NEAR
  if (fullLines.length === 0 && !near) return []

  const full = worst !== null && worst.usage >= FULL
  const confidence = fullLines.length ? (full ? 0.95 : 0.85) : full ? 0.6 : 0.4
  const severity = fullLines.length || full ? ('critical' as const) : ('warning' as const)
  const suggestedMax = worst ? nextPow2(Math.max(worst.max * 2, worst.count * 2)) : null
  const data = {
    tableFullLines: fullLines.length,
    count: worst?.count ?? null,
    max: worst?.max ?? null,
    usage: worst ? round(worst.usage, 4) : null,
    statsDrop,
    earlyDrop,
    suggestedMax,
    vantages: [...new Set([...fullLines, ...(worst ? [worst.event] : [])].map((e) => e.vantage))],
  }
  return [
    {
      confidence,
      severity,
      data,
      evidence: evidenceList(
        worst ? [worst.event] : [],
        fullLines,
        statsEvents.filter(() => statsDrop > 0),
      ),
      ...(suggestedMax
        ? {
            mitigation:
              `Raise the limit now: \`sysctl -w net.netfilter.nf_conntrack_max=${suggestedMax}\` ` +
              `(persist it in /etc/sysctl.d/); kube-proxy resets it at start, so also set ` +
              `\`conntrack: {maxPerCore: <${suggestedMax} / cores>}\` in the KubeProxyConfiguration. ` +
              'Then cut the churn: long-lived (keep-alive) connections, and NodeLocal DNSCache, whose ' +
              'NOTRACK rules keep DNS out of the table.',
          }
        : {}),
    },
  ]
}

function nextPow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}
