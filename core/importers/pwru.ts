// pwru ("packet, where are you?") text output, every generation (cilium/pwru
// internal/pwru/output.go): v0 `SKB CPU [COMM] FUNC TUPLE`; v1 `SKB CPU [PROCESS] FUNC k=v... TUPLE`
// under the header `SKB CPU PROCESS FUNC`; v2 `[TIME] SKB CPU PROCESS [TIMESTAMP] [NETNS MARK/x
// IFACE PROTO MTU LEN] [TUPLE] FUNC [CALLER]`. A row whose function frees the skb as dropped
// (kfree_skb_reason, sk_skb_reason_drop, kfree_skb) becomes a DropEvent; the other rows of the
// same skb become its path.
import type { DropEvent } from '../model/event.js'
import type { Importer } from './importer.js'
import { headLines, lineBase, lineProblem, textLines } from './text-lines.js'

// 0xffff936378692ce8 6 [curl] kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) 172.20.10.2:33918->1.1.1.1:4240(tcp)
const ROW_START =
  /^(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\s+)?(0x[0-9a-f]{1,16})\s+(\d{1,4})\s+(\S.*)$/
// 10.244.1.165:34998->10.244.0.88:80(tcp)  or  (tcp:SYN)
const TUPLE = /^(.+):(\d+)->(.+):(\d+)\(([a-z0-9]+)(?::[^)]*)?\)$/
const DROP_FUNC =
  /^(kfree_skb_reason|sk_skb_reason_drop|kfree_skb|kfree_skb_list_reason)(?:\((\w+)\))?$/
/** A kernel stack frame pwru prints under a row with --output-stack: `nf_hook_slow+0x9c`. */
const FRAME = /^[\w.$]+\+0x[0-9a-f]+(?:\s+\[\w+\])?$/
const HEADER = /^\s*(?:TIME\s+)?SKB\s+CPU\s+PROCESS\b/
/** Most functions remembered per skb: a long-lived skb must not grow without bound. */
const MAX_PATH = 64

export const pwru: Importer = {
  id: 'pwru',
  title: 'pwru',
  binary: false,
  sniff(head) {
    const lines = headLines(head)
    if (!lines) return false
    for (const l of lines) {
      if (HEADER.test(l)) return true
      const m = ROW_START.exec(l.trim())
      if (m && typeof parseRow(m, null) !== 'string') return true
    }
    return false
  },
  parse(input) {
    const events: DropEvent[] = []
    const problems: ReturnType<Importer['parse']>['problems'] = []
    const paths = new Map<string, string[]>()
    let header: string[] | null = null
    let started = false
    // What the lines under a row belong to (--output-stack frames, --output-skb dumps).
    let under: 'none' | 'row' | 'drop' = 'none'
    for (const l of textLines(input.bytes)) {
      const text = l.text.trim()
      if (text === '') continue
      if (HEADER.test(text)) {
        header = text.split(/\s+/)
        started = true
        under = 'none'
        continue
      }
      const m = ROW_START.exec(text)
      if (!m) {
        if (under !== 'none' && FRAME.test(text)) {
          const last = events[events.length - 1]
          if (under === 'drop') (last.stack ??= []).push(text)
          continue
        }
        if (under !== 'none' && (/^\s/.test(l.text) || /^(?:\(struct |[{}.])/.test(text))) continue
        under = 'none'
        // Command line, Go log preamble, progress bar: before the first row they are not data.
        if (started && !/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /.test(text))
          problems.push(lineProblem(l, 'not a pwru row'))
        continue
      }
      started = true
      const row = parseRow(m, header)
      if (typeof row === 'string') {
        problems.push(lineProblem(l, row))
        under = 'none'
        continue
      }
      under = 'row'
      const path = paths.get(row.skb) ?? []
      const drop = DROP_FUNC.exec(row.func)
      if (!drop) {
        if (path.length < MAX_PATH) path.push(row.func)
        paths.set(row.skb, path)
        if (/^(?:consume_skb|napi_consume_skb|__kfree_skb|kfree_skbmem)$/.test(row.func))
          paths.delete(row.skb) // freed normally: a later skb may reuse the address
        continue
      }
      const reason = drop[2] ?? ''
      const ev: DropEvent = {
        ...lineBase(input, l),
        kind: 'drop',
        protocol: row.protocol,
        srcAddr: row.src?.addr ?? '',
        srcPort: row.src?.port ?? 0,
        dstAddr: row.dst?.addr ?? '',
        dstPort: row.dst?.port ?? 0,
        // The caller pwru printed, else the last function the skb went through before the free.
        func: row.caller || path[path.length - 1] || drop[1],
        reason: reason.replace(/^SKB_DROP_REASON_/, ''),
        tool: 'pwru',
        path: [...path, drop[1]],
        details: row.details,
      }
      if (row.clock) ev.clock = row.clock
      if (row.comm) ev.comm = row.comm
      if (row.pid >= 0) ev.pid = row.pid
      events.push(ev)
      paths.delete(row.skb)
      under = 'drop'
    }
    return { events, problems }
  },
}

interface PwruRow {
  skb: string
  clock: string
  comm: string
  pid: number
  func: string
  caller: string
  protocol: DropEvent['protocol']
  src: { addr: string; port: number } | null
  dst: { addr: string; port: number } | null
  details: Record<string, string>
}

function parseRow(m: RegExpExecArray, header: string[] | null): PwruRow | string {
  const [, clock, skb, cpu, rest] = m
  // `kfree_skb_reason (12)`: pwru prints a reason it cannot name as a number after a space.
  const tokens = rest
    .replace(/\b(kfree_skb_reason|sk_skb_reason_drop) \((\d+)\)/, '$1($2)')
    .split(/\s+/)
  const details: Record<string, string> = { skb, cpu }
  const proc = tokens.shift() ?? ''
  // v0/v1: [curl]; v2: <empty>:0 or ~system-x86:3433 (executable path, cut to 16 characters).
  let comm = ''
  let pid = -1
  const bracket = /^\[(.*)\]$/.exec(proc)
  if (bracket) comm = bracket[1]
  else {
    const pm = /^(.*):(\d+)$/.exec(proc)
    if (!pm) return 'bad PROCESS column'
    comm = pm[1] === '<empty>' ? '' : pm[1]
    pid = Number(pm[2])
  }
  const tupleAt = tokens.findIndex((t) => TUPLE.test(t))
  const tuple = tupleAt >= 0 ? TUPLE.exec(tokens[tupleAt]) : null
  let func = ''
  let caller = ''
  if (bracket) {
    // v0/v1: the function first, then key=value metadata, then the tuple.
    func = tokens[0] ?? ''
    for (const t of tokens.slice(1)) {
      const kv = /^(\w+)=(.*)$/.exec(t)
      if (kv) details[kv[1]] = kv[2]
    }
  } else {
    // v2: columns up to the tuple (or the function when there is no tuple), then FUNC [CALLER].
    const before = tupleAt >= 0 ? tokens.slice(0, tupleAt) : tokens.slice(0, -1)
    const after = tupleAt >= 0 ? tokens.slice(tupleAt + 1) : tokens.slice(-1)
    func = after[0] ?? ''
    caller = after[1] ?? ''
    const names = metaNames(header, before.length)
    before.forEach((v, i) => (details[names[i] ?? `col${i}`] = v))
  }
  if (!func) return 'no function in row'
  if (!/^[\w.$]+(?:\(\w+\))?(?:\((?:tc|xdp)\))?$/.test(func)) return 'bad function name'
  const proto = tuple?.[5]
  return {
    skb,
    clock: clock ?? '',
    comm,
    pid,
    func,
    caller: caller.replace(/\+0x[0-9a-f]+$/, ''),
    protocol:
      proto === 'udp' || proto === 'tcp' ? proto : proto?.startsWith('icmp') ? 'icmp' : 'unknown',
    src: tuple ? { addr: tuple[1], port: Number(tuple[2]) } : null,
    dst: tuple ? { addr: tuple[3], port: Number(tuple[4]) } : null,
    details,
  }
}

/** Names of the v2 columns between PROCESS and TUPLE: from the header, else by count. */
function metaNames(header: string[] | null, n: number): string[] {
  if (header) {
    const from = header.indexOf('PROCESS') + 1
    const to = header.includes('TUPLE') ? header.indexOf('TUPLE') : header.indexOf('FUNC')
    const names = header.slice(from, to).map((h) => h.replace('/x', '').toLowerCase())
    if (names.length === n) return names
  }
  const meta = ['netns', 'mark', 'iface', 'proto', 'mtu', 'len']
  if (n === 6) return meta
  if (n === 7) return ['timestamp', ...meta]
  if (n === 1) return ['timestamp']
  return []
}
