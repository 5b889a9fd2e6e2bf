// Shared by the BPF tool importers: whitespace-aligned tables found by their header row
// (`TIME PID COMM LATms HOST`), with pasted prose, banners and kernel stacks around them.
import type { ImportInput, Problem } from './importer.js'
import { lineProblem, textLines, type TextLine } from './text-lines.js'

/** A header token: `TIME`, `LADDR:LPORT`, `LATms`, `TIME(s)`, `>`, `(FLAGS)`, `MARK/x`. */
const HEADER_TOKEN = /^(?:[A-Z][A-Za-z0-9_:()/|.-]*|>|T>|\([A-Z]+\))$/

/** Splits a header line into column names, or null when the line is not all header tokens. */
export function headerTokens(text: string): string[] | null {
  const tokens = text.trim().split(/\s+/)
  if (tokens.length < 3 || tokens.length > 40) return null
  for (const t of tokens) if (!HEADER_TOKEN.test(t)) return null
  return tokens
}

/**
 * Splits a row into exactly `columns` cells. A row with more tokens than columns lets the
 * column at `absorb` (a COMM: task names may hold spaces) take the extra tokens.
 */
export function splitRow(text: string, columns: number, absorb: number): string[] | null {
  const tokens = text.trim().split(/\s+/)
  if (tokens.length === columns) return tokens
  if (tokens.length < columns || absorb < 0) return null
  const extra = tokens.length - columns
  const merged = tokens.slice(absorb, absorb + extra + 1).join(' ')
  return [...tokens.slice(0, absorb), merged, ...tokens.slice(absorb + extra + 1)]
}

export interface TableReader<T> {
  /** Is this header (already split into tokens) a table this reader wants? */
  accepts(columns: string[]): boolean
  /** Column whose cell may hold spaces, by name (e.g. COMM), if any. */
  absorb?: string
  /** Turns one row into a record, or returns a problem message. */
  row(cells: Map<string, string>, l: TextLine): T | string
  /** An indented line right after a row (a kernel stack frame); false if it is not one. */
  indented?(record: T, text: string): boolean
  /** A line outside any table (a banner before the header); lets readers pick up metadata. */
  preamble?(l: TextLine): void
}

/**
 * Reads every table in a file. Lines before a header are preamble. Inside a table a line that is
 * not a row is a problem; but after a blank line, non-row lines may be prose after the table (as
 * in the tools' example files): they are held, and become problems only if a row follows them.
 */
export function readTables<T>(input: ImportInput, reader: TableReader<T>) {
  const records: { record: T; line: TextLine }[] = []
  const problems: Problem[] = []
  let columns: string[] | null = null
  let absorb = -1
  let last: T | null = null
  let blankSeen = false
  let held: Problem[] = []
  for (const l of textLines(input.bytes)) {
    const text = l.text
    if (text.trim() === '') {
      blankSeen = true
      last = null
      continue
    }
    const header = headerTokens(text)
    if (header && reader.accepts(header)) {
      columns = header
      absorb = reader.absorb ? header.indexOf(reader.absorb) : -1
      last = null
      blankSeen = false
      held = []
      continue
    }
    if (!columns) {
      reader.preamble?.(l)
      continue
    }
    if (/^\s/.test(text) && reader.indented) {
      if (last !== null && reader.indented(last, text.trim())) continue
      if (last === null && blankSeen) continue
    }
    const trimmed = text.trim()
    if (trimmed === '[...]' || trimmed === '...' || trimmed.startsWith('@')) continue
    const lost = /^Lost (\d+) events/.exec(trimmed)
    if (lost) {
      problems.push({ where: `line ${l.line}`, message: `the tracer lost ${lost[1]} events here` })
      continue
    }
    const cells = splitRow(text, columns.length, absorb)
    const result = cells ? reader.row(new Map(columns.map((c, i) => [c, cells[i]])), l) : null
    if (result !== null && typeof result !== 'string') {
      records.push({ record: result, line: l })
      problems.push(...held)
      held = []
      last = result
      blankSeen = false
      continue
    }
    last = null
    const why = typeof result === 'string' ? result : null
    const problem = lineProblem(
      l,
      why ?? `expected ${columns.length} columns (${columns.join(' ')})`,
    )
    if (blankSeen || held.length > 0) {
      if (held.length < 1000) held.push(problem)
    } else problems.push(problem)
  }
  return { records, problems }
}
