// The contract every diagnosis rule implements (one rule per file, file name = rule id).
import type {
  Event,
  FactEvent,
  MetricEvent,
  DropEvent,
  LogEvent,
  HostLookupEvent,
} from '../model/event.js'
import type { Manifest, Vantage } from '../model/bundle.js'
import type { Severity } from '../model/report.js'
import type { Correlation } from '../correlate/types.js'

/** Everything a rule may look at. Rules read; they never change the context. */
export interface RuleContext {
  events: readonly Event[]
  inputs: readonly { path: string; kind: string; vantage: string }[]
  vantages: readonly Vantage[]
  correlation: Correlation
  facts: readonly FactEvent[]
  metrics: readonly MetricEvent[]
  drops: readonly DropEvent[]
  logs: readonly LogEvent[]
  hostLookups: readonly HostLookupEvent[]
  manifest?: Manifest
}

/** What a rule returns: data and pointers at events, never prose. */
export interface RuleFinding {
  /** 0..1: how sure the rule is that this is the cause (or a real problem). */
  confidence: number
  /** Overrides the rule's default severity when the data says so. */
  severity?: Severity
  data: Record<string, unknown>
  /** The events that convinced the rule, most telling first. */
  evidence: Event[]
  /** A mitigation specific to this data, replacing the rule's default. */
  mitigation?: string
}

export interface Rule {
  id: string
  title: string
  severity: Severity
  description: string
  /** Default mitigation, with the exact command or config change. */
  mitigation: string
  /** Talk sections, issues and docs the rule comes from. */
  references: string[]
  check(ctx: RuleContext): RuleFinding[]
  /**
   * Words one finding's data as a plain-language statement (the report layer calls it; rules
   * return data, never prose). Optional: without it the report shows the title.
   */
  describe?(data: Record<string, unknown>): string
}
