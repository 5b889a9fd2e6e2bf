// The report as GitHub-flavoured Markdown. Strings from the input are escaped for Markdown and for
// the HTML a Markdown viewer would otherwise render; code goes in code spans that cannot be closed
// from inside.
import type { Report, ReportFinding } from '../model/report.js'
import {
  SEVERITY_LABEL,
  codeParts,
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

/** Text safe in a Markdown paragraph or table cell: no markup, no HTML, no line breaks. */
export function md(s: unknown): string {
  return String(s)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]{}#|~])/g, '\\$1')
}

/** A code span whose fence is longer than any backtick run inside it (CommonMark 6.1). */
export function mdCode(s: unknown): string {
  const t = String(s).replace(/[\r\n]+/g, ' ')
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length))
  const fence = '`'.repeat(longest + 1)
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${t}${pad}${fence}`
}

/** Rule-written text with `code` spans: the spans become code, the rest is escaped. */
function prose(s: string): string {
  return codeParts(s)
    .map((p) => (p.code ? mdCode(p.text) : md(p.text)))
    .join('')
}

/**
 * Renders the report as Markdown.
 * @example
 *   writeFileSync('report.md', toMarkdown(report))
 */
export function toMarkdown(report: Report): string {
  const out: string[] = []
  const line = (s = '') => out.push(s)
  line('# dnsbundle report')
  line()
  line(`**${md(verdictSentence(report))}**`)
  const v = verdictFinding(report)
  if (v) {
    if (v.summary) {
      line()
      line(md(v.summary))
    }
    line()
    evidence(v, line)
    line()
    line('**What to do:** ' + prose(v.mitigation))
  }
  const p = patternView(report)
  if (p) {
    line()
    line('## Failure pattern')
    line()
    line(md(p.sentence))
    const rows = [p.frequency, p.scope].filter((r) => r !== undefined)
    if (rows.length) {
      line()
      line('| answer | possible causes | next | source |')
      line('|---|---|---|---|')
      for (const r of rows)
        line(
          `| ${md(r.answer)} | ${r.possibleCauses.map(md).join('; ')} | ${r.next.map(md).join('; ')} | ${r.source === 'seed' ? 'seed talk' : 'dnsbundle'} |`,
        )
    }
  }
  if (report.alternatives?.length) {
    line()
    line('## Other possible causes')
    line()
    for (const a of report.alternatives)
      line(`- ${md(a.title)} (${mdCode(a.findingId)}, confidence ${confidence(a.confidence)})`)
  }

  const others = otherFindings(report)
  if (others.length) {
    line()
    line(v ? '## Other findings' : '## Findings')
    for (const f of others) {
      line()
      line(`### ${SEVERITY_LABEL[f.severity] ?? md(f.severity)}: ${md(f.title)}`)
      line()
      line(`${mdCode(f.id)} · confidence ${confidence(f.confidence)}`)
      if (f.summary) {
        line()
        line(md(f.summary))
      }
      line()
      line('**What to do:** ' + prose(f.mitigation))
      line()
      evidence(f, line)
      if (f.references.length) {
        line()
        line('References: ' + f.references.map(md).join(' · '))
      }
    }
  }

  if (report.worstLookups?.length) {
    line()
    line('## Worst lookups')
    for (const l of report.worstLookups) {
      line()
      line(`### ${md(lookupHeadline(l))}`)
      line()
      const start = l.timeline[0]?.time ?? NaN
      line(`Starts ${md(isoTime(start))}.`)
      line()
      line('| offset | vantage | what | evidence |')
      line('|---:|---|---|---|')
      for (const h of l.timeline)
        line(
          `| ${md(offsetMs(h.time, start))} | ${md(h.vantage)} | ${md(h.what)} | ${md(hopWhere(h))} |`,
        )
    }
  }

  line()
  line('## Summary')
  line()
  line('| counter | value |')
  line('|---|---:|')
  for (const [k, val] of summaryRows(report)) line(`| ${md(k)} | ${md(val)} |`)

  line()
  line('## In the bundle')
  line()
  line('| input | kind | vantage | events | problems |')
  line('|---|---|---|---:|---|')
  for (const i of report.inputs.filter((x) => !x.skipped))
    line(
      `| ${md(i.path)} | ${md(i.kind)} | ${md(i.vantage || '—')} | ${i.events} | ${i.problems.map((pr) => `${md(pr.where)}: ${md(pr.message)}`).join('<br>') || '—'} |`,
    )
  const skipped = report.inputs.filter((x) => x.skipped)
  if (skipped.length) {
    line()
    line('### Skipped')
    line()
    for (const i of skipped) line(`- ${md(i.path)}: ${md(i.skipped)}`)
  }
  return out.join('\n') + '\n'
}

function evidence(f: ReportFinding, line: (s?: string) => void): void {
  if (!f.evidence.length) return
  line('Evidence:')
  line()
  for (const e of f.evidence) line(`- ${md(e.input)} ${md(e.where)}: ${mdCode(e.text)}`)
  const more = (f.evidenceTotal ?? f.evidence.length) - f.evidence.length
  if (more > 0) line(`- … and ${more} more`)
}
