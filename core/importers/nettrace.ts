// nettrace (OpenCloudOS/nettrace, README and src/trace.yaml at v1.2): packet trace lines
// `[4049.295711] [kfree_skb    ] ICMP: a -> b ... *packet is dropped by kernel*`, --drop lines
// `[297732.940939] TCP: a:p -> b:q ... *tcp_v4_rcv+0x48* *packet is dropped by kernel*` with a
// `Call Stack:`, and the --diag ANALYSIS RESULT blocks (`ERROR happens in kfree_skb(life):`
// with location, drop reason and stack). Each dropped packet becomes one DropEvent.
import type { DropEvent } from '../model/event.js'
import type { ImportInput, Importer, Problem } from './importer.js'
import {
  headLines,
  lineBase,
  lineProblem,
  splitHostPort,
  textLines,
  type TextLine,
} from './text-lines.js'

// [4049.295711] [kfree_skb           ] ICMP: 192.168.122.8 -> 10.123.119.98 ping request, seq: 0 *packet is dropped by kernel*
// [297286.084747] [c0103f00][napi_gro_receive_entry][cpu:9  ][enp4s0][pid:0 ][swapper/9 ][ns:0] TCP: ...
const TRACE = /^\[(\d+\.\d+)\]\s*((?:\[[^\]]*\])*)\s*([A-Z][A-Z0-9]*):\s+(\S+)\s+->\s+(\S+)(.*)$/
const ANALYSIS = /^-+\s*ANALYSIS RESULT\s*-+$/
const ERROR_IN = /^\[\d+\]\s+(?:ERROR|WARNING|INFO)\s+happens in\s+([\w.]+)\(([^)]*)\):$/
const SKB_BANNER = /^\*{5,}\s*[0-9a-f]+\s*\*{5,}$/
const DROPPED = '*packet is dropped by kernel*'

export const nettrace: Importer = {
  id: 'nettrace',
  title: 'nettrace',
  binary: false,
  sniff(head) {
    const lines = headLines(head)
    if (!lines) return false
    return lines.some(
      (l) =>
        /^\s*(?:sudo\s+)?nettrace\s/.test(l) ||
        ANALYSIS.test(l.trim()) ||
        ERROR_IN.test(l.trim()) ||
        (TRACE.test(l) && l.includes(DROPPED)),
    )
  },
  parse(input) {
    const events: DropEvent[] = []
    const problems: Problem[] = []
    // The dropped packet waiting for its analysis block or its call stack.
    let pending: DropEvent | null = null
    let section = '' // location, drop reason, stack, call stack or advice
    let inAnalysis = false
    let current: DropEvent | null = null // the ERROR block being read
    let lastTrace: DropEvent | null = null
    for (const l of textLines(input.bytes)) {
      const raw = l.text
      const text = raw.trim()
      if (text === '' || text === '...') continue
      const trace = TRACE.exec(raw.trimStart())
      if (trace) {
        inAnalysis = false
        section = ''
        const ev = traceEvent(input, l, trace)
        if (!ev) {
          problems.push(lineProblem(l, 'bad address in trace line'))
          continue
        }
        lastTrace = ev
        if (raw.includes(DROPPED)) {
          events.push(ev)
          pending = ev
          section = 'call stack'
        }
        continue
      }
      if (ANALYSIS.test(text)) {
        inAnalysis = true
        current = null
        continue
      }
      const err = ERROR_IN.exec(text)
      if (err) {
        inAnalysis = true
        section = ''
        current = null
        if (!/kfree_skb/.test(err[1])) continue // netfilter/iptables verdicts: same drop, told twice
        // One analysis per traced skb: it completes the dropped packet's trace line if there was one.
        if (pending && !pending.details?.analysis) current = pending
        else {
          current = emptyDrop(input, l, lastTrace)
          events.push(current)
        }
        current.details = { ...current.details, analysis: err[1] }
        pending = null
        continue
      }
      if (/^(?:location|drop reason|stack|fix advice):$/.test(text)) {
        section = text === 'fix advice:' ? 'advice' : text.slice(0, -1)
        continue
      }
      if (text === 'Call Stack:') {
        section = 'call stack'
        continue
      }
      if (SKB_BANNER.test(text) || /^(?:begin trace|end trace|analysis finished)/.test(text)) {
        section = ''
        inAnalysis = false
        pending = null
        lastTrace = null
        continue
      }
      const target = inAnalysis ? current : section === 'call stack' ? pending : null
      if (target && /^\s/.test(raw)) {
        if (section === 'location') {
          target.details = { ...target.details, location: text }
          target.func = text.replace(/\+0x[0-9a-f]+.*$/i, '')
        } else if (section === 'drop reason') target.reason = text.replace(/^SKB_DROP_REASON_/, '')
        else if (section === 'stack' || section === 'call stack') {
          // `__udp4_lib_rcv ([kernel.kallsyms])` or `-> kfree_skb+0x73`
          const frame = text.replace(/^->\s*/, '').replace(/\s*\(\[[^\]]*\]\)$/, '')
          if (/^[\w.$]+(?:\+0x[0-9a-f]+)?$/i.test(frame)) (target.stack ??= []).push(frame)
        } else if (section === '' && text !== '') {
          target.details = { ...target.details, message: text }
        }
        continue
      }
      if (inAnalysis && /^\s/.test(raw)) continue
      if (/^\s*(?:sudo\s+)?nettrace\b/.test(raw)) continue
      problems.push(lineProblem(l, 'not a nettrace line'))
    }
    for (const ev of events) if (!ev.func && ev.stack?.length) ev.func = firstCause(ev.stack)
    return { events, problems }
  },
}

function traceEvent(input: ImportInput, l: TextLine, m: RegExpExecArray): DropEvent | null {
  const [, secs, brackets, proto, from, to, rest] = m
  const src = proto === 'ICMP' || proto === 'ICMPv6' ? { addr: from, port: 0 } : splitHostPort(from)
  const dst = proto === 'ICMP' || proto === 'ICMPv6' ? { addr: to, port: 0 } : splitHostPort(to)
  if (!src || !dst) return null
  const p = proto.toLowerCase()
  const ev: DropEvent = {
    ...lineBase(input, l),
    kind: 'drop',
    protocol: p === 'udp' || p === 'tcp' ? p : p.startsWith('icmp') ? 'icmp' : 'unknown',
    srcAddr: src.addr,
    srcPort: src.port,
    dstAddr: dst.addr,
    dstPort: dst.port,
    func: '',
    reason: '',
    tool: 'nettrace',
    sinceBootUs: Math.round(Number(secs) * 1e6),
  }
  const cells = [...brackets.matchAll(/\[([^\]]*)\]/g)].map((c) => c[1].trim())
  // [func] alone, or --detail's [skb][func][cpu:N][iface][pid:N][comm][ns:N]
  const func = cells.length === 1 ? cells[0] : cells[1]
  if (func) ev.func = func
  for (const c of cells) {
    const kv = /^(cpu|pid|ns):\s*(\d+)$/.exec(c)
    if (kv?.[1] === 'pid') ev.pid = Number(kv[2])
  }
  if (cells.length >= 6) ev.comm = cells[5]
  // --drop lines name the drop site between stars: *tcp_v4_rcv+0x48*
  const site = /\*([\w.$]+\+0x[0-9a-f]+)\*/i.exec(rest)
  if (site) {
    ev.func = site[1].replace(/\+.*$/, '')
    ev.details = { location: site[1] }
  }
  if (ev.func === 'kfree_skb') ev.func = ''
  return ev
}

function emptyDrop(input: ImportInput, l: TextLine, from: DropEvent | null): DropEvent {
  const base = from
    ? { ...from, details: from.details ? { ...from.details } : undefined, func: '' }
    : {
        ...lineBase(input, l),
        kind: 'drop' as const,
        protocol: 'unknown' as const,
        srcAddr: '',
        srcPort: 0,
        dstAddr: '',
        dstPort: 0,
        func: '',
        reason: '',
        tool: 'nettrace',
      }
  return { ...base, ref: l.line, offset: l.offset }
}

function firstCause(stack: string[]): string {
  const frame = stack.find((f) => !/^(?:kfree_skb|kfree_skb_reason|sk_skb_reason_drop)\b/.test(f))
  return (frame ?? stack[0]).replace(/\+.*$/, '')
}
