// Where a bundle says which CoreDNS it ran: a coredns-version fact, coredns_build_info{version}
// (coredns_build_info{goversion="go1.14.4",revision="f59c03d",version="1.7.0"} 1), or the
// startup banner in a log ("CoreDNS-1.8.6", "[INFO] CoreDNS-1.3.0").
import type { Event } from '../model/event.js'
import type { RuleContext } from './rule.js'
import { factsOf } from '../model/facts.js'

export interface CorednsVersion {
  version: string
  source: 'fact' | 'build_info' | 'log-banner'
  event: Event
}

// "CoreDNS-1.6.7" (banner line) — pre-1.0 banners ("CoreDNS-004") have no dotted version.
const BANNER = /CoreDNS-(\d+\.\d+\.\d+)/

/** Every CoreDNS version the bundle names, deduplicated by version and source. */
export function corednsVersions(ctx: RuleContext): CorednsVersion[] {
  const out: CorednsVersion[] = []
  const seen = new Set<string>()
  const add = (version: string, source: CorednsVersion['source'], event: Event) => {
    const v = version.replace(/^v/, '')
    if (!parseVersion(v) || seen.has(source + v)) return
    seen.add(source + v)
    out.push({ version: v, source, event })
  }
  for (const e of factsOf(ctx.facts, 'coredns-version')) add(e.fact.version, 'fact', e)
  for (const m of ctx.metrics)
    if (m.name === 'coredns_build_info' && m.labels.version) add(m.labels.version, 'build_info', m)
  for (const l of ctx.logs) {
    const b = BANNER.exec(l.message)
    if (b) add(b[1], 'log-banner', l)
  }
  return out
}

export function parseVersion(v: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v.trim())
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null
}

/** Negative when a < b, 0 when equal, positive when a > b (unparseable sorts first). */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a) ?? [-1, -1, -1]
  const y = parseVersion(b) ?? [-1, -1, -1]
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
}

/** True when introduced <= version < fixed. */
export function versionInRange(version: string, introduced: string, fixed: string): boolean {
  return compareVersions(version, introduced) >= 0 && compareVersions(version, fixed) < 0
}
