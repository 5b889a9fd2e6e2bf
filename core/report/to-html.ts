// The report as one self-contained HTML file: inline CSS, no JavaScript, no external fetch, a CSP
// of its own (it is opened from disk, outside the worker's headers), readable without scripts
// (<details> for the long parts). Every string from the input goes through escapeHtml.
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

export const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Text safe in HTML element content and in quoted attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c])
}

/** Rule-written text with `code` spans, escaped, the spans as <code>. */
function prose(s: string): string {
  return codeParts(s)
    .map((p) => (p.code ? `<code>${escapeHtml(p.text)}</code>` : escapeHtml(p.text)))
    .join('')
}

/** A reference: a link when it starts with an https URL (navigation, never a fetch). */
function reference(r: string): string {
  const m = /^(https:\/\/[^\s<>"']+)(.*)$/.exec(r)
  if (!m) return escapeHtml(r)
  return `<a href="${escapeHtml(m[1])}" rel="noreferrer">${escapeHtml(m[1])}</a>${escapeHtml(m[2])}`
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;
--crit:#b42318;--warn:#9a6700;--info:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#161b22;--line:#30363d;
--crit:#ff7b72;--warn:#d29922;--info:#58a6ff}}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line)}
.verdict{border:2px solid var(--line);border-radius:8px;padding:1rem 1.25rem;background:var(--panel)}
.verdict .sentence{font-size:1.25rem;font-weight:600;margin:0 0 .5rem}
.sev{display:inline-block;font-size:.75rem;font-weight:700;padding:0 .4rem;border-radius:4px;color:#fff;vertical-align:middle}
.sev-critical{background:var(--crit)}.sev-warning{background:var(--warn)}.sev-info{background:var(--info)}
.mitigation{border-left:4px solid var(--info);padding:.4rem .8rem;background:var(--bg)}
code,pre,.mono{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:var(--panel);padding:0 .2rem;border-radius:3px;overflow-wrap:anywhere}
pre{background:var(--panel);padding:.6rem;overflow:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid var(--line);padding:.2rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--panel)}td.num{text-align:right}
details{border:1px solid var(--line);border-radius:6px;padding:.4rem .8rem;margin:.5rem 0}
summary{cursor:pointer;font-weight:600}.muted{color:var(--muted)}
`

/**
 * Renders the report as one self-contained HTML file.
 * @example
 *   writeFileSync('report.html', toHtml(report))
 */
export function toHtml(report: Report): string {
  const o: string[] = []
  o.push(
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(HTML_CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    '<title>dnsbundle report</title>',
    `<style>${STYLE}</style>`,
    '</head>',
    '<body><main>',
    `<h1>dnsbundle report <span class="muted">${escapeHtml(report.generator.name)} ${escapeHtml(report.generator.version)}</span></h1>`,
  )
  const v = verdictFinding(report)
  o.push(
    '<section class="verdict" id="verdict">',
    `<p class="sentence">${escapeHtml(verdictSentence(report))}</p>`,
  )
  if (v) {
    if (v.summary) o.push(`<p>${escapeHtml(v.summary)}</p>`)
    o.push(
      evidenceTable(v),
      `<p class="mitigation"><strong>What to do:</strong> ${prose(v.mitigation)}</p>`,
    )
  }
  const p = patternView(report)
  if (p) {
    o.push(`<p><strong>Failure pattern:</strong> ${escapeHtml(p.sentence)}</p>`)
    const rows = [p.frequency, p.scope].filter((r) => r !== undefined)
    if (rows.length) {
      o.push(
        '<table><thead><tr><th>answer</th><th>possible causes</th><th>next</th><th>source</th></tr></thead><tbody>',
      )
      for (const r of rows)
        o.push(
          `<tr><td>${escapeHtml(r.answer)}</td><td>${r.possibleCauses.map(escapeHtml).join('<br>')}</td>` +
            `<td>${r.next.map(escapeHtml).join('<br>')}</td><td>${r.source === 'seed' ? 'seed talk' : 'dnsbundle'}</td></tr>`,
        )
      o.push('</tbody></table>')
    }
  }
  if (report.alternatives?.length) {
    o.push('<p><strong>Other possible causes:</strong></p><ul>')
    for (const a of report.alternatives)
      o.push(
        `<li>${escapeHtml(a.title)} <code>${escapeHtml(a.findingId)}</code> (confidence ${confidence(a.confidence)})</li>`,
      )
    o.push('</ul>')
  }
  o.push('</section>')

  const others = otherFindings(report)
  if (others.length) {
    o.push(`<section id="findings"><h2>${v ? 'Other findings' : 'Findings'}</h2>`)
    for (const f of others) o.push(findingHtml(f))
    o.push('</section>')
  }

  if (report.worstLookups?.length) {
    o.push('<section id="lookups"><h2>Worst lookups</h2>')
    for (const l of report.worstLookups) {
      const start = l.timeline[0]?.time ?? NaN
      o.push(
        `<details><summary>${escapeHtml(lookupHeadline(l))}</summary>`,
        `<p class="muted">starts ${escapeHtml(isoTime(start))}</p>`,
        '<table><thead><tr><th>offset</th><th>vantage</th><th>what</th><th>evidence</th></tr></thead><tbody>',
      )
      for (const h of l.timeline)
        o.push(
          `<tr><td class="num mono">${escapeHtml(offsetMs(h.time, start))}</td><td>${escapeHtml(h.vantage)}</td>` +
            `<td class="mono">${escapeHtml(h.what)}</td><td class="mono">${escapeHtml(hopWhere(h))}</td></tr>`,
        )
      o.push('</tbody></table></details>')
    }
    o.push('</section>')
  }

  o.push('<section id="summary"><h2>Summary</h2><table><tbody>')
  for (const [k, val] of summaryRows(report))
    o.push(`<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(val)}</td></tr>`)
  if (report.window && (report.window.start !== null || report.window.end !== null))
    o.push(
      `<tr><th>time window</th><td>${escapeHtml(isoTime(report.window.start))} — ${escapeHtml(isoTime(report.window.end))}</td></tr>`,
    )
  o.push('</tbody></table></section>')

  o.push(
    '<section id="inputs"><h2>In the bundle</h2><table><thead><tr><th>input</th><th>kind</th><th>vantage</th>' +
      '<th>events</th><th>problems</th></tr></thead><tbody>',
  )
  for (const i of report.inputs.filter((x) => !x.skipped))
    o.push(
      `<tr><td class="mono">${escapeHtml(i.path)}</td><td>${escapeHtml(i.kind)}</td><td>${escapeHtml(i.vantage || '—')}</td>` +
        `<td class="num">${i.events}</td><td>${i.problems.map((pr) => `${escapeHtml(pr.where)}: ${escapeHtml(pr.message)}`).join('<br>') || '—'}</td></tr>`,
    )
  o.push('</tbody></table>')
  const skipped = report.inputs.filter((x) => x.skipped)
  if (skipped.length) {
    o.push('<h3>Skipped</h3><ul>')
    for (const i of skipped)
      o.push(`<li><span class="mono">${escapeHtml(i.path)}</span>: ${escapeHtml(i.skipped)}</li>`)
    o.push('</ul>')
  }
  o.push('</section>', '</main></body>', '</html>')
  return o.join('\n') + '\n'
}

function findingHtml(f: ReportFinding): string {
  const sev = ['critical', 'warning', 'info'].includes(f.severity) ? f.severity : 'info'
  return [
    `<details${sev === 'critical' ? ' open' : ''}>`,
    `<summary><span class="sev sev-${sev}">${SEVERITY_LABEL[sev]}</span> ${escapeHtml(f.title)} ` +
      `<span class="muted">${escapeHtml(f.id)} · confidence ${confidence(f.confidence)}</span></summary>`,
    f.summary ? `<p>${escapeHtml(f.summary)}</p>` : '',
    `<p class="mitigation"><strong>What to do:</strong> ${prose(f.mitigation)}</p>`,
    evidenceTable(f),
    f.references.length
      ? `<p class="muted">References:</p><ul>${f.references.map((r) => `<li>${reference(r)}</li>`).join('')}</ul>`
      : '',
    `<details><summary>Data</summary><pre>${escapeHtml(JSON.stringify(f.data, null, 2))}</pre></details>`,
    '</details>',
  ].join('\n')
}

function evidenceTable(f: ReportFinding): string {
  if (!f.evidence.length) return ''
  const rows = f.evidence.map(
    (e) =>
      `<tr><td class="mono">${escapeHtml(e.input)}</td><td class="mono">${escapeHtml(e.where)}</td>` +
      `<td class="mono">${escapeHtml(e.text)}</td></tr>`,
  )
  const more = (f.evidenceTotal ?? f.evidence.length) - f.evidence.length
  return (
    '<table class="evidence"><thead><tr><th>input</th><th>where</th><th>what</th></tr></thead><tbody>' +
    rows.join('') +
    '</tbody></table>' +
    (more > 0 ? `<p class="muted">… and ${more} more</p>` : '')
  )
}
