// Renders a Report in the format the user asked for.
import type { Report } from '../model/report.js'
import { toText } from './to-text.js'
import { toMarkdown } from './to-markdown.js'
import { toHtml } from './to-html.js'

export type ReportFormat = 'text' | 'json' | 'md' | 'html'

/**
 * The report as `renderReport` renders it, in pieces whose concatenation is that string. JSON
 * with every transaction (`--detail`) of a big capture is larger than the longest string V8 can
 * make (about 512 MB): it is rendered a transaction or lookup at a time, so it can be written out
 * as it goes. The other formats are bounded, and come in one piece.
 */
export function* renderReportChunks(report: Report, format: ReportFormat): Generator<string> {
  if (format !== 'json') {
    yield renderReport(report, format)
    return
  }
  // JSON.stringify(report, null, 2), member by member: each value's own lines indented by the
  // depth it sits at (a string in JSON holds no raw newline, so every newline is between lines).
  // The members JSON.stringify leaves out (it would, had they no toJSON; a report has none).
  const members = Object.entries(report).filter(
    ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
  )
  if (members.length === 0) {
    yield '{}\n'
    return
  }
  yield '{\n'
  for (let m = 0; m < members.length; m++) {
    const [key, value] = members[m]
    const end = m < members.length - 1 ? ',\n' : '\n'
    yield `  ${JSON.stringify(key)}: `
    if (!Array.isArray(value) || value.length === 0) {
      yield indented(JSON.stringify(value, null, 2), '  ') + end
      continue
    }
    yield '[\n'
    for (let i = 0; i < value.length; i++)
      yield (
        '    ' +
        indented(JSON.stringify(value[i], null, 2) ?? 'null', '    ') +
        (i < value.length - 1 ? ',\n' : '\n')
      )
    yield '  ]' + end
  }
  yield '}\n'
}

function indented(json: string, by: string): string {
  return json.replaceAll('\n', '\n' + by)
}

export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n'
    case 'md':
      return toMarkdown(report)
    case 'html':
      return toHtml(report)
    case 'text':
      return toText(report)
  }
}
