// The rule registry. Each rule lives in its own file named by its id.
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import type { Problem } from '../importers/importer.js'
import { packetDrop } from './packet-drop.js'
import { conntrackRace } from './conntrack-race.js'
import { ipvsPortReuse } from './ipvs-port-reuse.js'
import { conntrackTableFull } from './conntrack-table-full.js'
import { conntrackStaleDns } from './conntrack-stale-dns.js'
import { cpuStarvation } from './cpu-starvation.js'
import { upstreamFailure } from './upstream-failure.js'
import { corednsKnownBug } from './coredns-known-bug.js'
import { replicaUnhealthy } from './replica-unhealthy.js'
import { ndotsAmplification } from './ndots-amplification.js'
import { aaaaWaste } from './aaaa-waste.js'
import { nxdomainStorm } from './nxdomain-storm.js'
import { configError } from './config-error.js'

/** Every rule, in the order of the seed talk's failure catalogue, then the waste and config rules. */
export const rules: readonly Rule[] = [
  packetDrop,
  conntrackRace,
  ipvsPortReuse,
  conntrackTableFull,
  conntrackStaleDns,
  cpuStarvation,
  upstreamFailure,
  corednsKnownBug,
  replicaUnhealthy,
  ndotsAmplification,
  aaaaWaste,
  nxdomainStorm,
  configError,
]

export function ruleById(id: string): Rule | undefined {
  return rules.find((r) => r.id === id)
}

export interface FiredFinding {
  rule: Rule
  finding: RuleFinding
}

/** Runs every rule; a rule that throws is reported as a problem, never sinks the report. */
export function runRules(ctx: RuleContext): { findings: FiredFinding[]; problems: Problem[] } {
  const findings: FiredFinding[] = []
  const problems: Problem[] = []
  for (const rule of rules) {
    try {
      for (const finding of rule.check(ctx)) findings.push({ rule, finding })
    } catch (e) {
      problems.push({
        where: `rule ${rule.id}`,
        message: `internal error: ${(e as Error).message}`,
      })
    }
  }
  return { findings, problems }
}
