// `conntrack -L` / `conntrack -L -o extended` (conntrack-tools src/conntrack.c, the kernel's
// nf_conntrack_standalone.c layout): `udp 17 27 src=A dst=B sport=P dport=53 [UNREPLIED] src=B'
// dst=A sport=53 dport=P mark=0 use=1`, `tcp 6 117 TIME_WAIT src=... [ASSURED] ...`, with
// `ipv4 2` in front for -o extended. The first src/dst/sport/dport are the original direction,
// the second the reply: a reply source that is not the original destination is a DNAT (a Service
// IP answered by a pod). The trailer `conntrack v1.4.7 (conntrack-tools): 4 flow entries have
// been shown.` goes to stderr and may be anywhere, even run onto an entry line.
import type { FactEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import { headLines, lineBase, lineProblem, PROMPT_RE, textLines } from './text-lines.js'

// [ipv4     2 ]udp      17 27 [STATE ]src=...
const ENTRY =
  /^(?:(?:ipv4|ipv6)\s+\d+\s+)?([a-z][a-z0-9-]*)\s+(\d{1,3})\s+(\d+)\s+(?:([A-Z_]+)\s+)?(src=.*)$/
const TRAILER = /\s*(?:conn|con)track v[\d.]+ \(conntrack-tools\):.*$/

type Entry = Extract<FactEvent['fact'], { type: 'conntrack-entry' }>

function parseEntry(text: string): Entry | null {
  const m = ENTRY.exec(text)
  if (!m) return null
  const [, protocol, , timeout, state, rest] = m
  const orig: Record<string, string> = {}
  const reply: Record<string, string> = {}
  let dir = orig
  const flags: string[] = []
  for (const tok of rest.split(/\s+/)) {
    const kv = /^(\w+)=(\S*)$/.exec(tok)
    if (kv) {
      if (kv[1] === 'src' && 'src' in orig) dir = reply
      dir[kv[1]] = kv[2]
    } else if (/^\[[A-Z_]+\]$/.test(tok)) flags.push(tok.slice(1, -1))
    else return null
  }
  if (!orig.src || !orig.dst) return null
  return {
    type: 'conntrack-entry',
    protocol,
    state: state ?? '',
    src: orig.src,
    dst: orig.dst,
    sport: Number(orig.sport ?? 0),
    dport: Number(orig.dport ?? 0),
    replySrc: reply.src ?? '',
    replySport: Number(reply.sport ?? 0),
    unreplied: flags.includes('UNREPLIED'),
    assured: flags.includes('ASSURED'),
    timeoutSec: Number(timeout),
  }
}

export const conntrackList: Importer = {
  id: 'conntrack-list',
  title: 'conntrack -L',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 100)
    if (!lines) return false
    return lines.some((l) => parseEntry(l.trim().replace(TRAILER, '')) !== null)
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    for (const l of textLines(input.bytes)) {
      const text = l.text.trim().replace(TRAILER, '')
      if (text === '' || PROMPT_RE.test(l.text)) continue
      const fact = parseEntry(text)
      if (fact) events.push({ ...lineBase(input, l), kind: 'fact', fact })
      else problems.push(lineProblem(l, 'not a conntrack -L entry'))
    }
    return { events, problems }
  },
}
