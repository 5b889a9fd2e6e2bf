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
  // key=value tokens of the original direction until a second src= starts the reply's, and
  // [FLAG] tokens; anything else and the line is not an entry. Read with indexOf and char codes:
  // a full table is 262,144 lines of a dozen tokens each.
  let reply = false
  let src: string | undefined
  let dst: string | undefined
  let sport: string | undefined
  let dport: string | undefined
  let replySrc: string | undefined
  let replySport: string | undefined
  let unreplied = false
  let assured = false
  for (const tok of rest.split(/\s+/)) {
    const eq = tok.indexOf('=')
    if (eq > 0 && wordChars(tok, eq)) {
      const key = tok.slice(0, eq)
      const value = tok.slice(eq + 1)
      if (key === 'src' && src !== undefined) reply = true
      if (reply) {
        if (key === 'src') replySrc = value
        else if (key === 'sport') replySport = value
      } else if (key === 'src') src = value
      else if (key === 'dst') dst = value
      else if (key === 'sport') sport = value
      else if (key === 'dport') dport = value
    } else if (isFlag(tok)) {
      if (tok === '[UNREPLIED]') unreplied = true
      else if (tok === '[ASSURED]') assured = true
    } else return null
  }
  if (!src || !dst) return null
  return {
    type: 'conntrack-entry',
    protocol,
    state: state ?? '',
    src,
    dst,
    sport: Number(sport ?? 0),
    dport: Number(dport ?? 0),
    replySrc: replySrc ?? '',
    replySport: Number(replySport ?? 0),
    unreplied,
    assured,
    timeoutSec: Number(timeout),
  }
}

/** Are s[0, end) word characters (\w): letters, digits, `_`? */
function wordChars(s: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    const word =
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f
    if (!word) return false
  }
  return true
}

/** Is `tok` a flag: `[` upper-case letters and `_` `]`? */
function isFlag(tok: string): boolean {
  if (tok.length < 3 || tok.charCodeAt(0) !== 0x5b || tok.charCodeAt(tok.length - 1) !== 0x5d)
    return false
  for (let i = 1; i < tok.length - 1; i++) {
    const c = tok.charCodeAt(i)
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x5f)) return false
  }
  return true
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
