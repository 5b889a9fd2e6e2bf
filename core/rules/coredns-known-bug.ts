// coredns-known-bug: the CoreDNS version is in a range with a known bug, and that bug's symptom is in
// the bundle. Seed talk: "CoreDNS plugins stop working" (coredns#3860, coredns#4366).
import type { Event } from '../model/event.js'
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import { CLUSTER, clusterDomains, EXTERNAL, scopesOf } from './cluster-names.js'
import { corednsVersions, versionInRange, type CorednsVersion } from './coredns-version.js'
import { increaseSum, latestSum, seriesOf } from './metric-series.js'
import {
  evidenceList,
  HAS_RESPONSE,
  lazyEvents,
  txFacts,
  type EvidenceGroup,
} from './transaction-views.js'
import { factsOf } from '../model/facts.js'

/**
 * Known bugs, with the versions they affect [introduced, fixed) and where that range comes from.
 * coredns#3860: the kubernetes plugin's ToEndpoints dropped deletion tombstones; the informer then
 * panicked and stopped processing watch events, so the cache froze (headless Services resolve to
 * stale or no endpoints). Fixed by coredns#3887/#3890/#3924, released in 1.7.0; the maintainer
 * traces it back to API object trimming in 1.2.3 (coredns#3887 discussion). Reported on 1.6.7/1.6.9.
 * coredns#4366: intermittent NXDOMAIN ("no such host") for names with `autopath @kubernetes`, on
 * 1.6.6. autopath relies on the same pod watch; the maintainers attribute autopath's NXDOMAIN for
 * external names to the tombstone bugs fixed in 1.7.0 (coredns#4187, coredns#3765 comments).
 */
export const KNOWN_BUGS = [
  {
    id: 'coredns#3860',
    introduced: '1.2.3',
    fixed: '1.7.0',
    summary:
      'kubernetes plugin watch stops after a panic on a deletion tombstone; its cache is no longer updated',
    url: 'https://github.com/coredns/coredns/issues/3860',
  },
  {
    id: 'coredns#4366',
    introduced: '1.2.3',
    fixed: '1.7.0',
    summary: 'autopath returns NXDOMAIN for external names when the pod cache is stale',
    url: 'https://github.com/coredns/coredns/issues/4366',
  },
] as const

// E0625 06:27:00.891513 1 runtime.go:79] Observed a panic: "invalid memory address or nil pointer dereference"
const PANIC = /Observed a panic|nil pointer dereference|Recovered from panic|panic:/i
// W0724 00:20:39.957007 1 reflector.go:302] ...: watch of *v1.Endpoints ended with: an error on the server
const WATCH_ERROR =
  /watch of \*v1(?:beta1)?\.(?:Endpoints|EndpointSlice|Service|Pod|Namespace) ended with/

export const corednsKnownBug: Rule = {
  id: 'coredns-known-bug',
  title: 'CoreDNS version with a known bug, and its symptom',
  severity: 'critical',
  description:
    'The CoreDNS version (coredns_build_info, or the log banner) is in the affected range of a known ' +
    'bug and the bundle shows its symptom. coredns#3860 (1.2.3 to 1.6.x): the kubernetes plugin ' +
    'panics on a watch tombstone and stops updating its cache, so headless and changed Services ' +
    'resolve wrongly (symptom: panic or watch-error logs, coredns_panics_total > 0, a cluster name ' +
    'flipping from an answer to NXDOMAIN). coredns#4366 (before 1.7.0, with autopath): NXDOMAIN for ' +
    'external names that resolve elsewhere.',
  mitigation:
    'Upgrade CoreDNS to a current release (1.7.0 fixed both; 1.7.0 renamed the metrics, so update ' +
    'dashboards): `kubectl -n kube-system set image deploy/coredns coredns=registry.k8s.io/coredns/coredns:v1.11.3`. ' +
    'Until then restart the stuck pods (`kubectl -n kube-system rollout restart deploy/coredns`) and, ' +
    'for #4366, remove `autopath @kubernetes` from the Corefile.',
  references: [
    'seed talk: "CoreDNS plugins stop working" — coredns issue#3860, coredns issue#4366; upgrade CoreDNS to latest',
    'https://github.com/coredns/coredns/issues/3860',
    'https://github.com/coredns/coredns/pull/3887 (fix, released in 1.7.0; bug since 1.2.3 per its discussion)',
    'https://github.com/coredns/coredns/issues/4366',
    'https://github.com/coredns/coredns/issues/4187 (autopath NXDOMAIN traced to the tombstone bugs fixed in 1.7.0)',
    'https://coredns.io/2020/06/15/coredns-1.7.0-release/',
  ],
  check,
  describe(d) {
    const s = d.symptoms as Record<string, number>
    const seen = Object.entries(s)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')
    return (
      `CoreDNS ${d.version} (from ${d.versionSource}) is affected by ${d.bug} (${d.affected}): ` +
      `${d.bugSummary}; seen here: ${seen}.`
    )
  },
}

function check(ctx: RuleContext): RuleFinding[] {
  const versions = corednsVersions(ctx)
  if (versions.length === 0) return []
  const out: RuleFinding[] = []
  for (const bug of KNOWN_BUGS) {
    const affected = versions.filter((v) => versionInRange(v.version, bug.introduced, bug.fixed))
    if (affected.length === 0) continue
    const found = bug.id === 'coredns#3860' ? watchSymptoms(ctx) : autopathSymptoms(ctx)
    if (!found) continue
    out.push(finding(bug, affected[0], found))
  }
  return out
}

interface Symptoms {
  confidence: number
  counts: Record<string, number>
  extra: Record<string, unknown>
  evidence: Event[]
}

function finding(bug: (typeof KNOWN_BUGS)[number], v: CorednsVersion, s: Symptoms): RuleFinding {
  return {
    confidence: s.confidence,
    data: {
      bug: bug.id,
      bugSummary: bug.summary,
      version: v.version,
      versionSource: v.source,
      affected: `>= ${bug.introduced}, < ${bug.fixed}`,
      fixedIn: bug.fixed,
      symptoms: s.counts,
      ...s.extra,
    },
    evidence: evidenceList([v.event], s.evidence),
  }
}

function watchSymptoms(ctx: RuleContext): Symptoms | null {
  const panics = ctx.logs.filter((l) => PANIC.test(l.message) || l.level === 'panic')
  const watch = ctx.logs.filter((l) => WATCH_ERROR.test(l.message))
  const panicSeries = seriesOf(ctx.metrics, 'coredns_panics_total')
  const panicMetric = increaseSum(panicSeries) ?? latestSum(panicSeries)
  const flips = answerFlips(ctx, 'cluster')
  if (!panics.length && !watch.length && panicMetric <= 0 && !flips.length) return null
  const confidence = panics.length || panicMetric > 0 ? 0.8 : watch.length ? 0.6 : 0.55
  return {
    confidence,
    counts: {
      'panic log lines': panics.length,
      'watch error log lines': watch.length,
      'panics counted by coredns_panics_total': panicMetric,
      'cluster names flipping to NXDOMAIN': flips.length,
    },
    extra: { flippedNames: flips.names.slice(0, 10) },
    evidence: evidenceList(
      panics,
      panicSeries.filter((s) => s.last.value > 0).map((s) => s.last),
      flips.responses,
      watch,
    ),
  }
}

function autopathSymptoms(ctx: RuleContext): Symptoms | null {
  const corefiles = factsOf(ctx.facts, 'corefile')
  const autopath = corefiles.filter(
    (e) =>
      e.fact.type === 'corefile' &&
      e.fact.servers.some((s) => s.plugins.some((p) => p.name === 'autopath')),
  )
  if (corefiles.length && !autopath.length) return null
  const flips = answerFlips(ctx, 'external')
  if (!flips.length) return null
  return {
    confidence: autopath.length ? 0.75 : 0.45,
    counts: {
      'external names answered NXDOMAIN that resolve elsewhere in the bundle': flips.length,
    },
    extra: {
      autopathInCorefile: autopath.length ? true : null,
      flippedNames: flips.names.slice(0, 10),
    },
    evidence: evidenceList(autopath, flips.responses),
  }
}

/** NXDOMAIN answers for a name+type that another transaction in the bundle got NOERROR for. */
function answerFlips(ctx: RuleContext, scope: 'cluster' | 'external'): Flips {
  const { transactions } = ctx.correlation
  const f = txFacts(transactions)
  const want = scope === 'cluster' ? CLUSTER : EXTERNAL
  const scopes = scopesOf(f, clusterDomains(ctx))
  const { n, name, qtype, rcode, answerAddrs, flags } = f
  // name+type as one number where the type is a 16-bit value (or -1), else as text.
  const key = (i: number): number | string => {
    const q = qtype[i]
    return Number.isInteger(q) && q >= -1 && q <= 0xffff
      ? name[i] * 0x10001 + q + 1
      : `${name[i]}|${q}`
  }
  const ok = new Set<number | string>()
  const nx: number[] = []
  for (let i = 0; i < n; i++) {
    if (scopes[name[i]] !== want || !(flags[i] & HAS_RESPONSE)) continue
    const rc = rcode[i]
    if (rc === 0 && answerAddrs[i] !== 0) ok.add(key(i))
    else if (rc === 3) nx.push(i)
  }
  const flips = nx.filter((i) => ok.has(key(i)))
  const names: string[] = []
  const seen = new Set<number>()
  for (const i of flips) {
    if (seen.has(name[i])) continue
    seen.add(name[i])
    names.push(f.names[name[i]])
  }
  return {
    length: flips.length,
    names,
    responses: lazyEvents(transactions, flips, (t) => t.response),
  }
}

interface Flips {
  length: number
  /** Distinct flipped names, in order. */
  names: string[]
  responses: EvidenceGroup
}
