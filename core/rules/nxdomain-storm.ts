// nxdomain-storm: an abnormal share of lookups that end in NXDOMAIN (names that do not exist, not
// search-list candidates), with the names and the clients asking. Seed talk: RCODE 3 "Non-Existent
// Domain, or search path is incorrect" — "Alerts if any unexpected DNS RCODEs".
import type { Event } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { clusterDomains, looksLikeSearchExpansion, searchSuffixes } from './cluster-names.js'
import {
  bump,
  countsByText,
  evidenceList,
  lookupFacts,
  lookupKeys,
  OUTCOME_NXDOMAIN,
  perName,
  round,
  topOfCounts,
  txFacts,
} from './transaction-views.js'

const MIN_SHARE = 0.2
const MIN_COUNT = 5

export const nxdomainStorm: Rule = {
  id: 'nxdomain-storm',
  title: 'Abnormal share of NXDOMAIN: clients ask for names that do not exist',
  severity: 'warning',
  description:
    'Lookups whose final answer is NXDOMAIN, search-list candidates excluded (those are ' +
    'ndots-amplification). Fires at a 20% share with at least 5 such lookups; critical from 50%.',
  mitigation:
    'Fix the names in the clients that ask for them (typos, deleted Services, wrong namespace): ' +
    'check with `kubectl get svc -A | grep <name>`. Meanwhile keep the negative answers cheap: ' +
    '`cache 30 { denial 9984 60 }`.',
  references: [
    'seed talk: dnstap — RCODE 3: Non-Existent Domain, or search path is incorrect; "Alerts if any unexpected DNS RCODEs"',
    'https://coredns.io/plugins/cache/',
  ],
  check,
  describe(d) {
    const top = (d.topNames as { name: string; count: number }[])
      .slice(0, 3)
      .map((n) => `${n.name} (${n.count})`)
      .join(', ')
    return (
      `${d.nxdomain} of ${d.total} ${d.unit} (${round(Number(d.share) * 100, 1)}%) ended in NXDOMAIN, ` +
      `from ${d.clients} client(s); top names: ${top}.`
    )
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const { lookups, transactions } = ctx.correlation
  // NXDOMAIN answers by name and by client, counted by string number: a string per name or
  // client, not per answer.
  const names = new Map<number, number>()
  const clients = new Map<number, number>()
  let nxdomain = 0
  // The strings of those numbers.
  let text: { name: (id: number) => string; client: (id: number) => string }
  const evidence: Event[] = []
  let total = 0
  let unit: 'lookups' | 'queries'
  if (lookups.length) {
    unit = 'lookups'
    total = lookups.length
    // Counted first, from the outcomes alone; the lookups are read only when the rule fires.
    const { n, outcome, outcomes } = lookupFacts(lookups)
    const nx = outcomes[OUTCOME_NXDOMAIN]
    if (nx < MIN_COUNT || nx / total < MIN_SHARE) return []
    const keys = lookupKeys(lookups)
    text = { name: keys.nameText, client: keys.clientText }
    for (let i = 0; i < n; i++) {
      if (outcome[i] !== OUTCOME_NXDOMAIN) continue
      nxdomain++
      bump(names, keys.name(i))
      bump(clients, keys.client(i))
      if (evidence.length >= 30) continue
      const l = lookups[i]
      const last = transactions[l.transactions[l.transactions.length - 1]]
      if (last?.response) evidence.push(last.response)
    }
  } else {
    unit = 'queries'
    const domains = clusterDomains(ctx)
    const suffixes = searchSuffixes(ctx, domains)
    const f = txFacts(transactions)
    text = { name: (id) => f.names[id], client: (id) => f.clients[id] }
    const expansion = perName(f, (q) => looksLikeSearchExpansion(q, suffixes, domains))
    for (let i = 0; i < f.n; i++) {
      const rc = f.rcode[i]
      if (rc === 3 && expansion(f.name[i])) continue
      total++
      if (rc !== 3) continue
      nxdomain++
      bump(names, f.name[i])
      bump(clients, f.client[i])
      if (evidence.length < 30) evidence.push(transactions[i].response!)
    }
  }
  if (total === 0 || nxdomain < MIN_COUNT) return []
  const share = nxdomain / total
  if (share < MIN_SHARE) return []
  const byName = countsByText(names, text.name)
  const byClient = countsByText(clients, text.client)
  const topNames = topOfCounts(byName, 10).map(({ key, count }) => ({ name: key, count }))
  return [
    {
      confidence: lookups.length ? 0.85 : 0.6,
      severity: share >= 0.5 ? 'critical' : 'warning',
      data: {
        nxdomain,
        total,
        unit,
        share: round(share, 4),
        distinctNames: byName.size,
        clients: byClient.size,
        topNames,
        topClients: topOfCounts(byClient, 10).map(({ key, count }) => ({ client: key, count })),
      },
      evidence: evidenceList(evidence),
      mitigation:
        `Fix the names in the clients that ask for them (typos, deleted Services, wrong namespace), ` +
        `starting with ${topNames
          .slice(0, 3)
          .map((n) => n.name)
          .join(
            ', ',
          )}: check with \`kubectl get svc -A | grep <name>\`. Meanwhile keep the negative ` +
        'answers cheap: `cache 30 { denial 9984 60 }`.',
    },
  ]
}
