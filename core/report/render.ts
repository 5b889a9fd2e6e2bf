// Renders a Report in the format the user asked for.
import type { Report } from '../model/report.js'
import { toText } from './to-text.js'
import { toMarkdown } from './to-markdown.js'
import { toHtml } from './to-html.js'

export type ReportFormat = 'text' | 'json' | 'md' | 'html'

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
