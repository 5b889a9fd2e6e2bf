// The report for a terminal: plain text, no colours. Strings from the input are stripped of control
// characters, so a hostile log line cannot move the cursor or rewrite the screen.
import type { Report, ReportFinding } from '../model/report.js'
import {
  SEVERITY_LABEL,
  confidence,
  hopWhere,
  isoTime,
  lookupHeadline,
  offsetMs,
  otherFindings,
  patternView,
  summaryRows,
  verdictFinding,
  verdictSentence,
} from './report-view.js'

/** Control characters (C0, DEL, C1) and bidirectional overrides, shown as \u{..} instead. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** One line of terminal-safe text. */
export function plain(s: unknown): string {
  return String(s)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`)
}

const RULE = '─'.repeat(78)

/**
 * Renders the report for a terminal.
 * @example
 *   process.stdout.write(toText(report))
 */
export function toText(report: Report): string {
  const out: string[] = []
  const line = (s = '') => out.push(s)
  line(`dnsbundle report — ${plain(report.generator.name)} ${plain(report.generator.version)}`)
  line(RULE)
  line(plain(verdictSentence(report)))
  const v = verdictFinding(report)
  if (v) {
    if (v.summary) line(plain(v.summary))
    line()
    evidence(v, line, '')
    line('What to do:')
    line(`  ${plain(v.mitigation)}`)
  }
  const p = patternView(report)
  if (p) {
    line()
    line(`Failure pattern: ${plain(p.sentence)}`)
    for (const row of [p.frequency, p.scope])
      if (row) {
        const src = row.source === 'seed' ? 'seed talk' : 'dnsbundle'
        line(
          `  ${plain(row.answer)} → possible causes (${src}): ${row.possibleCauses.map(plain).join('; ')}`,
        )
        line(`    next: ${row.next.map(plain).join('; ')}`)
      }
  }
  if (report.alternatives?.length) {
    line()
    line('Other possible causes:')
    for (const a of report.alternatives)
      line(`  - ${plain(a.title)} [${plain(a.findingId)}] (confidence ${confidence(a.confidence)})`)
  }

  const others = otherFindings(report)
  if (others.length) {
    line()
    line(RULE)
    line(v ? 'OTHER FINDINGS' : 'FINDINGS')
    for (const f of others) {
      line()
      line(
        `[${SEVERITY_LABEL[f.severity] ?? plain(f.severity)}] ${plain(f.title)} — ${plain(f.id)}, confidence ${confidence(f.confidence)}`,
      )
      if (f.summary) line(`  ${plain(f.summary)}`)
      line(`  What to do: ${plain(f.mitigation)}`)
      evidence(f, line, '  ')
      if (f.references.length) line(`  References: ${f.references.map(plain).join(' | ')}`)
    }
  }

  if (report.worstLookups?.length) {
    line()
    line(RULE)
    line('WORST LOOKUPS')
    for (const l of report.worstLookups) {
      line()
      line(plain(lookupHeadline(l)))
      const start = l.timeline[0]?.time ?? NaN
      if (Number.isFinite(start)) line(`  starts ${isoTime(start)}`)
      for (const h of l.timeline) {
        const where = hopWhere(h)
        line(
          `  ${offsetMs(h.time, start).padStart(14)}  ${plain(h.vantage).padEnd(18)} ${plain(h.what)}${where ? `  (${plain(where)})` : ''}`,
        )
      }
    }
  }

  line()
  line(RULE)
  line('SUMMARY')
  for (const [k, val] of summaryRows(report)) line(`  ${k.padEnd(32)} ${plain(val)}`)
  if (report.window && (report.window.start !== null || report.window.end !== null))
    line(
      `  ${'time window'.padEnd(32)} ${isoTime(report.window.start)} — ${isoTime(report.window.end)}`,
    )

  line()
  line(RULE)
  line('IN THE BUNDLE')
  const read = report.inputs.filter((i) => !i.skipped)
  const skipped = report.inputs.filter((i) => i.skipped)
  for (const i of read) {
    line(
      `  ${plain(i.path)}: ${plain(i.kind)}, vantage ${plain(i.vantage || '—')}, ${i.events} events`,
    )
    for (const pr of i.problems) line(`    problem at ${plain(pr.where)}: ${plain(pr.message)}`)
  }
  if (read.length === 0) line('  (nothing could be read)')
  if (skipped.length) {
    line()
    line('SKIPPED')
    for (const i of skipped) line(`  ${plain(i.path)}: ${plain(i.skipped)}`)
  }
  return out.join('\n') + '\n'
}

function evidence(f: ReportFinding, line: (s?: string) => void, indent: string): void {
  if (!f.evidence.length) return
  line(`${indent}Evidence:`)
  for (const e of f.evidence)
    line(`${indent}  ${plain(e.input)} ${plain(e.where)}: ${plain(e.text)}`)
  const more = (f.evidenceTotal ?? f.evidence.length) - f.evidence.length
  if (more > 0) line(`${indent}  … and ${more} more`)
}
