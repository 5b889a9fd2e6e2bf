// How full the conntrack table is: /proc/sys/net/netfilter/nf_conntrack_count and _max, as
// `sysctl` prints them (`net.netfilter.nf_conntrack_count = 1234`, also `sysctl -a` and the old
// `net.nf_conntrack_max` alias), as `grep -H . /proc/sys/net/netfilter/nf_conntrack_*` prints them
// (`/proc/sys/net/netfilter/nf_conntrack_count:1234`), or in the collector's own format: one
// `nf_conntrack_count 1234` / `nf_conntrack_max 262144` pair a line (`:` or `=` also accepted).
// Other sysctl keys are skipped. A key seen again starts a new sample.
import type { FactEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import {
  headLines,
  lineBase,
  lineProblem,
  PROMPT_RE,
  textLines,
  type TextLine,
} from './text-lines.js'

// net.netfilter.nf_conntrack_count = 1234 | nf_conntrack_max 262144 | /proc/sys/net/netfilter/nf_conntrack_count:17
const LINE =
  /^(?:\/proc\/sys\/net\/netfilter\/|\/proc\/sys\/net\/|net\.netfilter\.|net\.)?nf_conntrack_(count|max)\s*[:=]?\s*(\d{1,15})$/
// Any sysctl or /proc/sys line: `a.b.c = v` or `/proc/sys/a/b:v`.
const OTHER_SYSCTL = /^(?:[a-z0-9_-]+(?:\.[\w-]+)+\s*=|\/proc\/sys\/[\w/.-]+:)/

type Count = Extract<FactEvent['fact'], { type: 'conntrack-count' }>

export const conntrackCount: Importer = {
  id: 'conntrack-count',
  title: 'nf_conntrack_count / nf_conntrack_max',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 5000)
    if (!lines) return false
    let ours = 0
    let other = 0
    for (const l of lines) {
      const t = l.trim()
      if (t === '' || PROMPT_RE.test(l)) continue
      if (LINE.test(t)) ours++
      else if (OTHER_SYSCTL.test(t)) continue
      else other++
    }
    return ours > 0 && other <= ours
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    let sample = null as { fact: Count; line: TextLine } | null
    for (const l of textLines(input.bytes)) {
      const t = l.text.trim()
      if (t === '' || PROMPT_RE.test(l.text)) continue
      const m = LINE.exec(t)
      if (!m) {
        if (!OTHER_SYSCTL.test(t))
          problems.push(lineProblem(l, 'not an nf_conntrack_count/max line'))
        continue
      }
      const key = m[1] as 'count' | 'max'
      if (sample && sample.fact[key] !== undefined) {
        events.push({ ...lineBase(input, sample.line), kind: 'fact', fact: sample.fact })
        sample = null
      }
      sample ??= { fact: { type: 'conntrack-count' }, line: l }
      sample.fact[key] = Number(m[2])
    }
    if (sample) events.push({ ...lineBase(input, sample.line), kind: 'fact', fact: sample.fact })
    return { events, problems }
  },
}
