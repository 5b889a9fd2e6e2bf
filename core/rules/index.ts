// The rule registry. Each rule lives in its own file named by its id.
import type { Rule, RuleContext, RuleFinding } from './rule.js'
import type { Problem } from '../importers/importer.js'

export const rules: readonly Rule[] = []

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
      problems.push({ where: `rule ${rule.id}`, message: `internal error: ${(e as Error).message}` })
    }
  }
  return { findings, problems }
}
