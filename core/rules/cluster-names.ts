// Which names belong to the cluster: the kubernetes plugin's zones in the Corefile, the
// `svc.<domain>` entries of a pod's resolv.conf, and `cluster.local.` when the bundle says nothing.
import type { RuleContext } from './rule.js'
import type { TxFacts } from './transaction-views.js'
import { factsOf } from '../model/facts.js'

export type NameScope = 'cluster' | 'reverse' | 'external'

const DEFAULT_DOMAIN = 'cluster.local.'

function fqdn(name: string): string {
  const n = name.trim().toLowerCase()
  return n.endsWith('.') ? n : n + '.'
}

/** Cluster domains with a trailing dot, most specific first. */
export function clusterDomains(ctx: RuleContext): string[] {
  const out = new Set<string>()
  for (const e of factsOf(ctx.facts, 'corefile', 'resolv-conf')) {
    const f = e.fact
    if (f.type === 'corefile')
      for (const s of f.servers)
        for (const p of s.plugins)
          if (p.name === 'kubernetes')
            for (const a of p.args)
              if (/^[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/i.test(a) && !/arpa\.?$/i.test(a))
                out.add(fqdn(a))
    if (f.type === 'resolv-conf')
      for (const s of f.search) {
        const m = /(?:^|\.)svc\.(.+)$/i.exec(s)
        if (m) out.add(fqdn(m[1]))
      }
  }
  if (out.size === 0) out.add(DEFAULT_DOMAIN)
  return [...out].sort((a, b) => b.length - a.length)
}

export function nameScope(qname: string, domains: readonly string[]): NameScope {
  const q = fqdn(qname)
  if (q.endsWith('.in-addr.arpa.') || q.endsWith('.ip6.arpa.')) return 'reverse'
  for (const d of domains)
    if (q.endsWith(d) && (q.length === d.length || q[q.length - d.length - 1] === '.'))
      return 'cluster'
  return 'external'
}

/** nameScope as a number, for `scopesOf`. */
export const CLUSTER = 0
export const REVERSE = 1
export const EXTERNAL = 2
const SCOPE_CODE: Record<NameScope, number> = {
  cluster: CLUSTER,
  reverse: REVERSE,
  external: EXTERNAL,
}

/** nameScope of every numbered name of the facts (CLUSTER, REVERSE or EXTERNAL), once per name. */
export function scopesOf(f: TxFacts, domains: readonly string[]): Uint8Array {
  const out = new Uint8Array(f.names.length)
  f.names.forEach((q, i) => (out[i] = SCOPE_CODE[nameScope(q, domains)]))
  return out
}

/** Search suffixes with a trailing dot: from resolv.conf facts, else `svc.<domain>` and `<domain>`. */
export function searchSuffixes(ctx: RuleContext, domains: readonly string[]): string[] {
  const out = new Set<string>()
  for (const e of factsOf(ctx.facts, 'resolv-conf')) for (const s of e.fact.search) out.add(fqdn(s))
  for (const d of domains) {
    out.add('svc.' + d)
    out.add(d)
  }
  return [...out].sort((a, b) => b.length - a.length)
}

/**
 * The search suffix a candidate name ends with: the longest of the known suffixes and of
 * `<namespace>.svc.<domain>.` (a pod's first search entry, whose namespace the bundle may not name).
 */
export function matchSearchSuffix(
  qname: string,
  suffixes: readonly string[],
  domains: readonly string[],
): string | null {
  const q = fqdn(qname)
  let best: string | null = null
  const consider = (s: string) => {
    if (q.length > s.length + 1 && q.endsWith('.' + s) && (!best || s.length > best.length))
      best = s
  }
  for (const s of suffixes) consider(s)
  for (const d of domains) {
    const m = new RegExp(`\\.([a-z0-9-]+)\\.svc\\.${d.replace(/\./g, '\\.')}$`).exec(q)
    // A label of the domain itself (`...cluster.local.svc.cluster.local.`) is a repeated suffix, not a namespace.
    if (m && m[1] !== 'svc' && !d.split('.').includes(m[1])) consider(`${m[1]}.svc.${d}`)
  }
  return best
}

/**
 * A candidate the resolver built by appending a search suffix to a name that already had a dot
 * (`api.example.com.svc.cluster.local.`): what ndots amplification wastes. Used when the
 * correlator has no lookups to say so (a CoreDNS log on its own).
 */
export function looksLikeSearchExpansion(
  qname: string,
  suffixes: readonly string[],
  domains: readonly string[],
): boolean {
  const s = matchSearchSuffix(qname, suffixes, domains)
  return (
    s !== null &&
    fqdn(qname)
      .slice(0, -s.length - 1)
      .includes('.')
  )
}

/** The loop plugin's startup probe: `<random>.<random>. HINFO` (coredns plugin/loop). */
export function isLoopProbe(qname: string, qtype: number): boolean {
  return qtype === 13 && /^\d+\.\d+\.$/.test(qname)
}
