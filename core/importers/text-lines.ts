// Shared by the line-oriented importers: UTF-8 lines with their 1-based number and byte offset,
// a text check for sniffers, and the event/problem scaffolding every line format repeats.
import type { EventBase } from '../model/event.js'
import type { ImportInput, Problem } from './importer.js'

/** One line of a text file, without its line terminator (\n, \r\n). */
export interface TextLine {
  text: string
  /** 1-based line number. */
  line: number
  /** Byte offset of the line's first byte in the file. */
  offset: number
}

/** Longest line kept whole; longer lines are cut here (and importers say so). */
export const MAX_LINE_CHARS = 16 * 1024

const decoder = new TextDecoder('utf-8', { fatal: false })

/** Splits bytes into lines; a hostile line longer than MAX_LINE_CHARS is cut, never copied whole. */
export function* textLines(bytes: Uint8Array): Generator<TextLine> {
  let start = 0
  let line = 1
  const n = bytes.length
  while (start < n) {
    let end = bytes.indexOf(10, start)
    if (end < 0) end = n
    let stop = end
    if (stop > start && bytes[stop - 1] === 13) stop--
    // UTF-8 needs at most 4 bytes a character: decoding 4x the cap is enough for the cap.
    const cut = Math.min(stop, start + MAX_LINE_CHARS * 4)
    let text = decoder.decode(bytes.subarray(start, cut))
    if (text.length > MAX_LINE_CHARS || cut < stop) text = text.slice(0, MAX_LINE_CHARS) + '\u2026'
    yield { text, line, offset: start }
    start = end + 1
    line++
  }
}

/**
 * The head of a file as lines, or null when it is not text (NUL bytes, many control bytes, or
 * a JSON document): sniffers of text formats start here so none of them claims a binary or JSON.
 */
export function headLines(head: Uint8Array, maxLines = 400): string[] | null {
  if (head.length === 0) return null
  const n = Math.min(head.length, 4096)
  let control = 0
  for (let i = 0; i < n; i++) {
    const b = head[i]
    if (b === 0) return null
    if (b < 32 && b !== 9 && b !== 10 && b !== 13) control++
  }
  if (control > n / 20) return null
  const text = decoder.decode(head.subarray(0, Math.min(head.length, 64 * 1024)))
  const first = text.trimStart()[0]
  if (first === '{' || first === '[') {
    // JSON (an object, or an array of objects / strings): never ours. `[` also opens dmesg and
    // CoreDNS lines, so only a bracket followed by JSON-ish content counts.
    if (first === '{' || /^\[\s*[{"\]]/.test(text.trimStart())) return null
  }
  const lines = text.split('\n', maxLines).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  return lines.some((l) => FOREIGN.test(l)) ? null : lines
}

/**
 * Lines that belong to formats other importers own, so no node-fact or kernel-trace sniffer may
 * claim a file that has one: a CoreDNS log line (`[INFO] 10.0.0.1:1234 - 5 "A IN ...`, with any
 * timestamp prefix) or Prometheus exposition metadata (`# HELP x ...`, `# TYPE x counter`).
 */
const FOREIGN =
  /^\s*(?:\S+\s+){0,4}\[(?:INFO|ERROR|WARNING|WARN|DEBUG|FATAL|PANIC)\]\s|^# (?:HELP|TYPE) [a-zA-Z_:]/

/** The first non-blank lines of a head, trimmed at the end. */
export function nonBlank(lines: string[], max = 50): string[] {
  const out: string[] = []
  for (const l of lines) {
    if (l.trim() === '') continue
    out.push(l.trimEnd())
    if (out.length >= max) break
  }
  return out
}

/** The fields every event of a line carries. */
export function lineBase(input: ImportInput, l: TextLine, time = NaN): EventBase {
  return { input: input.index, ref: l.line, offset: l.offset, vantage: '', time }
}

/** A problem at a line, quoting a short prefix of the line so a report reader can find it. */
export function lineProblem(l: TextLine, message: string): Problem {
  return { where: `line ${l.line}`, message: `${message}: ${quote(l.text)}` }
}

/** A short printable quote of hostile text. */
export function quote(text: string, max = 80): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return JSON.stringify(clean.length > max ? clean.slice(0, max) + '\u2026' : clean)
}

/** Shell prompt lines pasted with output: `$ cmd`, `# cmd`, `[root@h ~]# cmd`, `u@h:~$ cmd`, `root@h ~ # cmd`. */
export const PROMPT_RE =
  /^(?:[$#]\s|\[[^\]\s]+@[^\]]+\][#$]\s?|[\w.-]+@[\w.-]+(?::[^$#\s]*|\s+~\S*)?\s?[#$](?:\s|$))/

/** Parses a decimal integer field; NaN when the text is not one. */
export function int(text: string): number {
  return /^-?\d{1,16}$/.test(text) ? Number(text) : NaN
}

/** An address and port as printed by tools: `1.2.3.4:53`, `[fd00::1]:53`, `fd00::1:53` (last colon). */
export function splitHostPort(text: string): { addr: string; port: number } | null {
  const m = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text) ?? /^(.*):(\d{1,5})$/.exec(text)
  if (!m || m[1] === '') return null
  const port = Number(m[2])
  return port <= 65535 ? { addr: m[1], port } : null
}

const ISO_RE =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/

/**
 * An RFC 3339 / ISO 8601 time as µs since the epoch. A time without a zone is local to a
 * machine we do not know: that gives `zoned: false` and time NaN (callers keep the text).
 */
export function parseIsoTime(text: string): { time: number; zoned: boolean } | null {
  const m = ISO_RE.exec(text)
  if (!m) return null
  const [, y, mo, d, h, mi, s, frac, zone] = m
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 60) return null
  if (!zone) return { time: NaN, zoned: false }
  let offsetMin = 0
  if (zone !== 'Z') {
    const z = zone.replace(':', '')
    offsetMin = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)))
  }
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) - offsetMin * 60_000
  const us = frac ? Math.floor(Number((frac + '000000').slice(0, 6))) : 0
  return { time: ms * 1000 + us, zoned: true }
}

/** `HH:MM:SS` with optional fraction: a time of day without a date. */
export const TIME_OF_DAY_RE = /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?$/
