// Table-driven rule tests (ESLint RuleTester style): cases that must fire, cases that must not.
import { describe, expect, it } from 'vitest'
import type { Rule, RuleContext, RuleFinding } from '../../core/rules/rule.js'

export interface FiringCase {
  name: string
  ctx: () => RuleContext
  /** Checks on the first finding (and all findings). */
  expect: (f: RuleFinding, all: RuleFinding[]) => void
}

export interface QuietCase {
  name: string
  ctx: () => RuleContext
}

export function ruleTable(rule: Rule, cases: { fires: FiringCase[]; quiet: QuietCase[] }): void {
  describe(rule.id, () => {
    it('carries its metadata', () => {
      expect(rule.title.length).toBeGreaterThan(10)
      expect(rule.description.length).toBeGreaterThan(40)
      expect(rule.mitigation).toMatch(/`[^`]+`/) // an exact command or config change
      expect(rule.references.length).toBeGreaterThan(0)
      expect(
        rule.references.some((r) => r.startsWith('seed talk') || r.startsWith('https://')),
      ).toBe(true)
    })
    for (const c of cases.fires)
      it(`fires: ${c.name}`, () => {
        const found = rule.check(c.ctx())
        expect(found.length).toBeGreaterThan(0)
        for (const f of found) {
          expect(f.confidence).toBeGreaterThan(0)
          expect(f.confidence).toBeLessThanOrEqual(1)
          expect(f.evidence.length).toBeGreaterThan(0)
          // Data, not prose: every value is a number, boolean, null, string id or structure.
          expect(JSON.parse(JSON.stringify(f.data))).toEqual(f.data)
          const words = rule.describe?.(f.data) ?? ''
          expect(words).not.toMatch(/undefined|NaN|\[object Object\]/)
        }
        c.expect(found[0], found)
      })
    for (const c of cases.quiet)
      it(`does not fire: ${c.name}`, () => {
        expect(rule.check(c.ctx())).toEqual([])
      })
  })
}
