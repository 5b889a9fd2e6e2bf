// ndots-amplification: with `options ndots:5`, a name with fewer than 5 dots is tried with every
// search suffix before itself: www.aliyun.com costs 8 queries, 6 of them wasted. Seed talk: "Lots of
// DNS queries — more queries if domain is not local".
import type { Event } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import {
  clusterDomains,
  looksLikeSearchExpansion,
  matchSearchSuffix,
  searchSuffixes,
} from './cluster-names.js'
import {
  evidenceList,
  lookupFacts,
  lookupKeys,
  OUTCOME_ADDRESS,
  perName,
  round,
  txFacts,
} from './transaction-views.js'
import { factsOf } from '../model/facts.js'

export const ndotsAmplification: Rule = {
  id: 'ndots-amplification',
  title: 'Search-list expansion (ndots) multiplies DNS queries',
  severity: 'warning',
  description:
    'Lookups that got an address only after trying search-list candidates that were bound to fail ' +
    '(name.namespace.svc.cluster.local., name.svc.cluster.local., ...). Counts the wasted queries, ' +
    'their share of all queries and the names that waste most. Info below a 30% share.',
  mitigation:
    'Ask for fully qualified names with a trailing dot (`api.example.com.`), or lower ndots for the ' +
    'pods that mostly resolve external names: `dnsConfig: {options: [{name: ndots, value: "2"}]}`. ' +
    'Server-side, CoreDNS `autopath @kubernetes` (with `pods verified`) answers the first candidate ' +
    'directly (use 1.7.0 or later: see coredns#4366).',
  references: [
    'seed talk: "How it works" — querying A of www.aliyun.com will cost 8 queries',
    'https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config',
    'https://coredns.io/plugins/autopath/',
  ],
  check,
  describe(d) {
    const worst = (d.worstNames as { name: string; wasted: number }[])[0]
    return (
      `${d.wasted} of ${d.transactions} queries (${round(Number(d.share) * 100, 1)}%) were wasted on ` +
      `search-list candidates` +
      (d.ndots != null ? ` under ndots:${d.ndots}` : '') +
      (worst ? `; worst: ${worst.name} (${worst.wasted} wasted)` : '') +
      '.'
    )
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const { lookups, transactions } = ctx.correlation
  if (transactions.length === 0) return []
  const resolv = factsOf(ctx.facts, 'resolv-conf')
  const ndotsValues = resolv.flatMap((e) => (e.fact.type === 'resolv-conf' ? [e.fact.ndots] : []))
  const ndots = ndotsValues.length ? Math.max(...ndotsValues) : null

  let byName = new Map<string, NameWaste>()
  let wasted = 0
  let lookupsWithWaste = 0
  const evidence: Event[] = []
  let method: 'lookups' | 'qname-pattern'
  if (lookups.length) {
    method = 'lookups'
    const { n, outcome, wasted: waste, wasting } = lookupFacts(lookups)
    const keys = lookupKeys(lookups)
    // Tallies by name number, in order of first sight: a string per name, not per lookup.
    const byId = new Map<number, NameWaste>()
    // Only the lookups that wasted queries matter: the loop ends with the last of them (at once
    // when none did). A lookup object is made only while evidence is wanted.
    for (let i = 0, left = wasting; left > 0 && i < n; i++) {
      if (waste[i] <= 0) continue
      left--
      if (outcome[i] !== OUTCOME_ADDRESS) continue
      wasted += waste[i]
      lookupsWithWaste++
      const id = keys.name(i)
      let r = byId.get(id)
      if (!r) byId.set(id, (r = { name: '', id, wasted: 0, lookups: 0 }))
      r.wasted += waste[i]
      r.lookups++
      if (evidence.length >= 20) continue
      const l = lookups[i]
      for (const ti of l.transactions) {
        const t = transactions[ti]
        if (t && t.qname !== l.answeredName && evidence.length < 20) evidence.push(t.queries[0])
      }
    }
    // Two numbers may stand for one name (`x.` and `x` from different sources): add them up.
    byName = new Map()
    for (const r of byId.values()) {
      const name = keys.nameText(r.id)
      const same = byName.get(name)
      if (same) {
        same.wasted += r.wasted
        same.lookups += r.lookups
      } else byName.set(name, { ...r, name })
    }
  } else {
    // No lookups from the correlator (a CoreDNS log on its own): count NXDOMAIN candidates that
    // are a dotted name with a search suffix appended.
    method = 'qname-pattern'
    const domains = clusterDomains(ctx)
    const suffixes = searchSuffixes(ctx, domains)
    const f = txFacts(transactions)
    const expansion = perName(f, (q) => looksLikeSearchExpansion(q, suffixes, domains))
    const baseOf = new Map<number, string>()
    for (let i = 0; i < f.n; i++) {
      if (f.rcode[i] !== 3 || !expansion(f.name[i])) continue
      wasted++
      let base = baseOf.get(f.name[i])
      if (base === undefined) {
        const qname = f.names[f.name[i]]
        const suffix = matchSearchSuffix(qname, suffixes, domains) ?? ''
        baseOf.set(f.name[i], (base = qname.slice(0, qname.length - suffix.length)))
      }
      const r = byName.get(base) ?? { name: base, id: -1, wasted: 0, lookups: 0 }
      r.wasted++
      byName.set(base, r)
      if (evidence.length < 20) {
        const t = transactions[i]
        evidence.push(t.response ?? t.queries[0])
      }
    }
    lookupsWithWaste = byName.size
  }
  if (wasted === 0) return []
  const share = wasted / transactions.length
  const worstNames = topWasters(byName.values()).map(({ name, wasted, lookups }) => ({
    name,
    wasted,
    lookups,
  }))
  const worst = worstNames[0]?.name.replace(/\.$/, '') || 'api.example.com'
  return [
    {
      confidence: method === 'lookups' ? 0.9 : 0.6,
      severity: share >= 0.3 ? 'warning' : 'info',
      data: {
        wasted,
        transactions: transactions.length,
        share: round(share, 4),
        lookupsWithWaste,
        lookups: lookups.length,
        ndots,
        searchDomains:
          resolv.length && resolv[0].fact.type === 'resolv-conf' ? resolv[0].fact.search : null,
        worstNames,
        method,
      },
      evidence: evidenceList(resolv, evidence),
      mitigation:
        `Ask for fully qualified names with a trailing dot (\`${worst}.\`), or lower ndots for the pods ` +
        'that mostly resolve external names: `dnsConfig: {options: [{name: ndots, value: "2"}]}`. ' +
        'Server-side, CoreDNS `autopath @kubernetes` (with `pods verified`) answers the first candidate ' +
        'directly (use 1.7.0 or later: see coredns#4366).',
    },
  ]
}

interface NameWaste {
  name: string
  /** The name's number in the lookups' names (-1 without lookups). */
  id: number
  wasted: number
  lookups: number
}

/** The ten names that wasted most, most first; of equals, the first seen first. */
function topWasters(names: Iterable<NameWaste>): NameWaste[] {
  return [...names].sort((a, b) => b.wasted - a.wasted).slice(0, 10)
}
