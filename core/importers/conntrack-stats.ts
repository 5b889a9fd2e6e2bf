// `conntrack -S` (conntrack-tools src/conntrack.c): per-CPU lines `cpu=0 found=96 invalid=0
// ignore=2185350 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=403` (with or
// without ignore=, tab or space separated, or collapsed onto one line), the 1.4.4-and-older summary
// (`insert_failed\t\t0`, one global counter a line), tables whose cells are those key=value tokens
// (VyOS `show conntrack statistics`), and netdata's nfacct.plugin dump of the same kernel counters
// (`BEGIN netfilter.netlink_errors` / `SET insert_failed = 47646` / `END`).
import type { FactEvent } from '../model/event.js'
import type { Importer, ImportInput, Problem } from './importer.js'
import {
  headLines,
  lineBase,
  lineProblem,
  PROMPT_RE,
  textLines,
  type TextLine,
} from './text-lines.js'

/** Counters of the kernel's per-CPU ip_conntrack_stat (and the summary's global ones). */
const COUNTERS = new Set([
  'entries',
  'clash_resolve',
  'found',
  'new',
  'invalid',
  'ignore',
  'delete',
  'delete_list',
  'insert',
  'insert_failed',
  'drop',
  'early_drop',
  'error',
  'icmp_error',
  'expect_new',
  'expect_create',
  'expect_delete',
  'search_restart',
  'searched',
  'chaintoolong',
])
const KV = /(\w+)=(\d+)/g
// insert_failed\t\t0   (conntrack 1.4.4 and older: one global counter a line)
const SUMMARY = /^([a-z_]+)\s+(\d+)$/
// SET insert_failed = 47646
const NETDATA_SET = /^SET\s+(\w+)\s*=\s*(\d+)$/

type Stats = Extract<FactEvent['fact'], { type: 'conntrack-stats' }>

export const conntrackStats: Importer = {
  id: 'conntrack-stats',
  title: 'conntrack -S',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 200)
    if (!lines) return false
    let summary = 0
    for (const l of lines) {
      if (/\bcpu=\d+\s+(?:\w+=\d+\s+){2,}/.test(l)) return true
      if (/^BEGIN netfilter\.netlink_/.test(l)) return true
      const s = SUMMARY.exec(l.trim())
      if (s && COUNTERS.has(s[1])) summary++
    }
    return summary >= 4
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    let snapshot = null as { stats: Stats; line: TextLine } | null
    let group = '' // netdata chart being read
    const flush = () => {
      if (snapshot) events.push(factEvent(input, snapshot.line, snapshot.stats))
      snapshot = null
    }
    const start = (l: TextLine) =>
      (snapshot ??= { stats: { type: 'conntrack-stats', perCpu: [], totals: {} }, line: l }).stats
    for (const l of textLines(input.bytes)) {
      const text = l.text.trim()
      if (text === '') continue
      // Per-CPU lines; several may have been collapsed onto one line.
      if (/\bcpu=\d+/.test(text)) {
        const parts = text.slice(text.search(/\bcpu=\d+/)).split(/(?=\bcpu=\d+)/)
        for (const part of parts) {
          const counters: Record<string, number> = {}
          for (const m of part.matchAll(KV)) counters[m[1]] = Number(m[2])
          const cpu = counters.cpu
          // cpu=0 again: the start of the next run of conntrack -S.
          if (snapshot?.stats.perCpu.some((c) => c.cpu === cpu)) flush()
          const stats = start(l)
          stats.perCpu.push(counters)
          for (const [k, v] of Object.entries(counters))
            if (k !== 'cpu') stats.totals[k] = (stats.totals[k] ?? 0) + v
        }
        continue
      }
      const set = NETDATA_SET.exec(text)
      if (set) {
        // netlink_expect repeats found/new/searched for expectations: keep them apart.
        const name = group === 'netfilter.netlink_expect' ? `expect_${set[1]}` : set[1]
        start(l).totals[name] = Number(set[2])
        continue
      }
      const begin = /^BEGIN\s+(\S+)/.exec(text)
      if (begin) {
        group = begin[1]
        if (group === 'netfilter.netlink_new' && snapshot) flush()
        continue
      }
      if (text === 'END' || /^nfacct\.plugin:/.test(text)) continue
      const sum = SUMMARY.exec(text)
      if (sum && COUNTERS.has(sum[1])) {
        const stats = start(l)
        if (sum[1] in stats.totals) {
          flush()
          start(l).totals[sum[1]] = Number(sum[2])
        } else stats.totals[sum[1]] = Number(sum[2])
        continue
      }
      if (PROMPT_RE.test(l.text) || /^-[-\s]+$/.test(text) || isTableHeader(text)) continue
      if (/^conntrack v[\d.]+ \(conntrack-tools\):/.test(text)) {
        problems.push({
          where: `line ${l.line}`,
          message: `conntrack failed: ${text.slice(0, 200)}`,
        })
        continue
      }
      if (/^command terminated with exit code \d+$/.test(text)) continue
      problems.push(lineProblem(l, 'not a conntrack -S line'))
    }
    flush()
    return { events, problems }
  },
}

/** VyOS's column titles: `CPU Found Invalid Insert Insert fail Drop Early drop ...`. */
function isTableHeader(text: string): boolean {
  return /^CPU\s+Found\s+Invalid\b/i.test(text)
}

function factEvent(input: ImportInput, l: TextLine, stats: Stats): FactEvent {
  return { ...lineBase(input, l), kind: 'fact', fact: stats }
}
