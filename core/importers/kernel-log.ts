// The kernel log as `dmesg` (`[38775494.392631] msg`), `dmesg -T` (`[Fri Feb 23 16:44:36 2018]`),
// `dmesg -x` (`kern  :warn  : [...]`), syslog / `journalctl -k` (`Feb 23 16:44:36 host kernel: ...`)
// and `journalctl -o short-iso[-precise]` (`2018-02-23T16:44:36+0000 host kernel: ...`).
// Every kernel line becomes a LogEvent; `nf_conntrack: table full, dropping packet` (net/netfilter/
// nf_conntrack_core.c) also becomes a conntrack-table-full fact. A line the terminal or the paste
// wrapped (no prefix of its own) continues the message above it.
import type { Event, LogEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import { headLines, lineBase, lineProblem, parseIsoTime, textLines } from './text-lines.js'

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec'
// Feb 23 16:44:36 jobs kernel: [38775494.393661] nf_conntrack: table full,
const SYSLOG = new RegExp(
  `^((?:${MONTHS})\\s+\\d{1,2}\\s+\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?)\\s+(\\S+)\\s+([\\w./-]+)(?:\\[\\d+\\])?:\\s?(.*)$`,
)
// 2018-02-23T16:44:36.123456+0000 jobs kernel: ...
const ISO_SYSLOG =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+(\S+)\s+([\w./-]+)(?:\[\d+\])?:\s?(.*)$/
// a paste that starts mid-line: `obs kernel: [38775494.392631] nf_conntrack: ...`
const CUT_SYSLOG = /^(\S+)\s+(kernel):\s?(.*)$/
// [38775494.392631] msg   |  [Fri Feb 23 16:44:36 2018] msg
const DMESG = /^\[\s*(\d+\.\d+)\]\s?(.*)$/
const DMESG_T = new RegExp(
  `^\\[((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:${MONTHS})\\s+\\d{1,2} \\d\\d:\\d\\d:\\d\\d \\d{4})\\]\\s?(.*)$`,
)
// kern  :warn  : [  123.456] msg
const DMESG_X =
  /^(kern|user|mail|daemon|auth|syslog|lpr|news)\s*:\s*(emerg|alert|crit|err|warn|notice|info|debug)\s*:\s?(.*)$/
const TABLE_FULL = /nf_conntrack: (?:nf_conntrack: )?table full, dropping packet/

type Level = LogEvent['level']
const LEVELS: Record<string, Level> = {
  emerg: 'fatal',
  alert: 'fatal',
  crit: 'error',
  err: 'error',
  warn: 'warning',
  notice: 'info',
  info: 'info',
  debug: 'debug',
}

interface Parsed {
  time: number
  clock?: string
  sinceBootUs?: number
  level?: Level
  message: string
  kernel: boolean
}

function parseLine(text: string): Parsed | null {
  let m = DMESG_X.exec(text)
  if (m) {
    const inner = parseLine(m[3]) ?? { time: NaN, message: m[3], kernel: true }
    return { ...inner, level: LEVELS[m[2]], kernel: m[1] === 'kern' }
  }
  m = SYSLOG.exec(text)
  if (m) return { time: NaN, clock: m[1], ...stamp(m[4]), kernel: m[3] === 'kernel' }
  m = ISO_SYSLOG.exec(text)
  if (m) {
    const iso = parseIsoTime(m[1].replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))
    if (!iso) return null
    return {
      time: iso.time,
      ...(iso.zoned ? {} : { clock: m[1] }),
      ...stamp(m[4]),
      kernel: m[3] === 'kernel',
    }
  }
  m = DMESG_T.exec(text)
  if (m) return { time: NaN, clock: m[1], message: m[2], kernel: true }
  m = DMESG.exec(text)
  if (m) return { time: NaN, ...stamp(text), kernel: true }
  m = CUT_SYSLOG.exec(text)
  if (m) return { time: NaN, ...stamp(m[3]), kernel: true }
  return null
}

/** Splits off a dmesg `[seconds.micros]` stamp that syslog keeps inside the message. */
function stamp(message: string): { message: string; sinceBootUs?: number } {
  const m = DMESG.exec(message)
  if (!m) return { message }
  return { message: m[2], sinceBootUs: Math.round(Number(m[1]) * 1e6) }
}

function levelOf(message: string): Level {
  if (TABLE_FULL.test(message) || /\bwarn(?:ing)?\b/i.test(message)) return 'warning'
  if (/\b(?:error|fail(?:ed|ure)?)\b/i.test(message)) return 'error'
  if (/\bkernel panic\b|\bBUG:|\bOops\b/.test(message)) return 'panic'
  return 'info'
}

export const kernelLog: Importer = {
  id: 'kernel-log',
  title: 'Kernel log (dmesg, syslog, journalctl -k)',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 200)
    if (!lines) return false
    let kernel = 0
    let total = 0
    for (const l of lines) {
      if (l.trim() === '') continue
      total++
      const p = parseLine(l)
      if (p?.kernel) kernel++
    }
    return kernel > 0 && kernel * 3 >= total
  },
  parse(input) {
    const events: LogEvent[] = []
    const problems: Problem[] = []
    const explicit = new Set<LogEvent>() // level given by dmesg -x
    let last: LogEvent | null = null
    for (const l of textLines(input.bytes)) {
      if (l.text.trim() === '') {
        last = null
        continue
      }
      const p = parseLine(l.text)
      if (!p) {
        // A wrapped line: it continues the message above it.
        if (last && !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(l.text)) {
          last.message += ' ' + l.text.trim()
          continue
        }
        problems.push(lineProblem(l, 'not a kernel log line'))
        continue
      }
      if (!p.kernel) {
        last = null
        continue
      }
      const ev: LogEvent = {
        ...lineBase(input, l, p.time),
        kind: 'log',
        level: p.level ?? 'info',
        plugin: 'kernel',
        message: p.message,
      }
      if (p.level) explicit.add(ev)
      if (p.clock) ev.clock = p.clock
      if (p.sinceBootUs !== undefined) ev.sinceBootUs = p.sinceBootUs
      events.push(ev)
      last = ev
    }
    // Facts after joining wrapped lines: `table full,` + `dropping packet` is one message.
    const out: Event[] = []
    for (const e of events) {
      out.push(e)
      if (!explicit.has(e)) e.level = levelOf(e.message)
      if (!TABLE_FULL.test(e.message)) continue
      out.push({
        input: e.input,
        ref: e.ref,
        offset: e.offset,
        vantage: e.vantage,
        time: e.time,
        ...(e.clock !== undefined ? { clock: e.clock } : {}),
        ...(e.sinceBootUs !== undefined ? { sinceBootUs: e.sinceBootUs } : {}),
        kind: 'fact',
        fact: { type: 'conntrack-table-full', line: e.message },
      })
    }
    // inputs[].events counts the kernel lines; the facts repeat some of them.
    return { events: out, problems, eventCount: events.length }
  },
}
