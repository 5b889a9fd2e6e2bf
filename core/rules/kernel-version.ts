// Kernel releases as `uname -r` prints them ("4.15.0-1032-aws", "5.10.0-28-cloud-amd64",
// "6.18.44-fc-v509"), and the fix versions the rules compare them with.
import type { FactEvent } from '../model/event.js'
import type { RuleContext } from './rule.js'
import { factsOf } from '../model/facts.js'

/** [major, minor, patch] of a release string, or null when it does not start with digits. */
export function parseKernelRelease(release: string): [number, number, number] | null {
  const m = /^\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(release)
  if (!m) return null
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)]
}

/** True when `release` is older than `fixed` ([major, minor]); null when it cannot be parsed. */
export function kernelOlderThan(release: string, fixed: [number, number]): boolean | null {
  const v = parseKernelRelease(release)
  if (!v) return null
  return v[0] !== fixed[0] ? v[0] < fixed[0] : v[1] < fixed[1]
}

export interface KernelFact {
  release: string
  vantage: string
  event: FactEvent
}

/** Every kernel release in the bundle, one per vantage (the last one seen wins). */
export function kernelFacts(ctx: RuleContext): KernelFact[] {
  const byVantage = new Map<string, KernelFact>()
  for (const e of factsOf(ctx.facts, 'kernel'))
    byVantage.set(e.vantage, { release: e.fact.release, vantage: e.vantage, event: e })
  return [...byVantage.values()]
}
