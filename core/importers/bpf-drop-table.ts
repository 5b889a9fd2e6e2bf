// Kernel drop tables printed by BPF tools, found by their header row whatever the columns:
// bpftrace scripts (`TIME PID SKB FUNC LADDR:LPORT RADDR:RPORT`, kfree_skb tables with REASON),
// dnsbundle's collector/scripts/dns-drops.bt (format v1, documented in the script), and tcpdrop
// from BCC (tools/tcpdrop.py @ 6d0a964c2cda) and bpftrace (tools/tcpdrop.bt @ 82aed35031a3).
import type { DropEvent } from '../model/event.js'
import type { Importer } from './importer.js'
import { headerTokens, readTables } from './column-table.js'
import {
  headLines,
  int,
  lineBase,
  parseIsoTime,
  splitHostPort,
  TIME_OF_DAY_RE,
  type TextLine,
} from './text-lines.js'

const BANNER = 'DNSBUNDLE_DNS_DROPS v1'
const SOURCE_COLUMNS = ['SADDR:SPORT', 'LADDR:LPORT']
const DEST_COLUMNS = ['DADDR:DPORT', 'RADDR:RPORT']
const FUNC_COLUMNS = ['FUNC', 'LOCATION', 'FUNCTION']
/** Scripts that print address and port apart: `SADDR SPORT DADDR DPORT`. */
const SPLIT_COLUMNS: Record<string, 'srcAddr' | 'srcPort' | 'dstAddr' | 'dstPort'> = {
  SADDR: 'srcAddr',
  LADDR: 'srcAddr',
  SPORT: 'srcPort',
  LPORT: 'srcPort',
  DADDR: 'dstAddr',
  RADDR: 'dstAddr',
  DPORT: 'dstPort',
  RPORT: 'dstPort',
}
/** Frames that are the freeing machinery itself, not the place that decided the drop. */
const FREE_FRAMES =
  /^(?:__traceiter_kfree_skb|trace_kfree_skb|kfree_skb|kfree_skb_reason|kfree_skb_list_reason|sk_skb_reason_drop|__kfree_skb|tcp_drop)$/

function isDropHeader(cols: string[]): boolean {
  if (cols.includes('T>')) return false // tcpretrans: retransmits, not drops
  const hasAddr = cols.some(
    (c) => SOURCE_COLUMNS.includes(c) || DEST_COLUMNS.includes(c) || c in SPLIT_COLUMNS,
  )
  const hasWhy = cols.some((c) => FUNC_COLUMNS.includes(c) || c === 'REASON' || c === 'STATE')
  return hasAddr && hasWhy
}

/** A tcpdrop table names a STATE but no function: the function is in the stack under each row. */
function isTcpdrop(cols: string[]): boolean {
  return cols.includes('STATE') && !cols.some((c) => FUNC_COLUMNS.includes(c))
}

export const bpfDropTable: Importer = {
  id: 'bpf-drop-table',
  title: 'Kernel drop table (bpftrace, dns-drops.bt, tcpdrop)',
  binary: false,
  sniff(head) {
    const lines = headLines(head)
    if (!lines) return false
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === BANNER) return true
      const cols = headerTokens(lines[i])
      if (!cols || !isDropHeader(cols)) continue
      if (!isTcpdrop(cols)) return true
      // tcpdrop: a row, then an indented kernel stack frame.
      let j = i + 1
      while (j < lines.length && lines[j].trim() === '') j++
      if (j + 1 < lines.length && /^\s+\S/.test(lines[j + 1])) return true
    }
    return false
  },
  parse(input) {
    const reasons = new Map<number, string>()
    let tool = 'bpftrace'
    let tcpdrop = false
    const { records, problems } = readTables<DropEvent>(input, {
      absorb: 'COMM',
      accepts(cols) {
        if (!isDropHeader(cols)) return false
        tcpdrop = isTcpdrop(cols)
        if (tcpdrop) tool = 'tcpdrop'
        return true
      },
      preamble(l) {
        if (l.text.trim() === BANNER) tool = 'dns-drops.bt'
        // The kfree_skb tracepoint format that dns-drops.bt prints: the reason numbers' names.
        if (l.text.startsWith('print fmt:') && l.text.includes('REC->reason')) {
          for (const m of l.text.matchAll(/\{\s*(\d+),\s*"([A-Z0-9_]+)"\s*\}/g))
            reasons.set(Number(m[1]), m[2])
        }
      },
      row: (cells, l) => dropRow(input, cells, l, { tool, tcpdrop, reasons }),
      indented(record, text) {
        // BCC prints frames as Python bytes literals: b'nft_do_chain+0x93c'.
        const frame = /^b'(.*)'$/.exec(text)?.[1] ?? text
        if (!/^[\w.$]+(?:\+0x[0-9a-f]+)?(?:\/0x[0-9a-f]+)?(?:\s+\[\w+\])?$/i.test(frame))
          return false
        ;(record.stack ??= []).push(frame)
        if (!record.func && !FREE_FRAMES.test(frame.replace(/\+.*$/, '')))
          record.func = frame.replace(/\+.*$/, '')
        return true
      },
    })
    const events = records.map((r) => r.record)
    if (tool === 'dns-drops.bt' && reasons.size === 0 && events.some((e) => /^\d+$/.test(e.reason)))
      problems.push({
        where: 'header',
        message: 'numeric drop reasons without the kfree_skb format table: reasons kept as numbers',
      })
    return { events, problems }
  },
}

interface RowContext {
  tool: string
  tcpdrop: boolean
  reasons: Map<number, string>
}

function dropRow(
  input: Parameters<Importer['parse']>[0],
  cells: Map<string, string>,
  l: TextLine,
  ctx: RowContext,
): DropEvent | string {
  const ev: DropEvent = {
    ...lineBase(input, l),
    kind: 'drop',
    protocol: ctx.tcpdrop ? 'tcp' : 'unknown',
    srcAddr: '',
    srcPort: 0,
    dstAddr: '',
    dstPort: 0,
    func: '',
    reason: '',
    tool: ctx.tool,
  }
  const details: Record<string, string> = {}
  for (const [col, value] of cells) {
    if (SOURCE_COLUMNS.includes(col) || DEST_COLUMNS.includes(col)) {
      const hp = splitHostPort(value)
      if (!hp) return `bad address ${col} in row`
      if (SOURCE_COLUMNS.includes(col)) [ev.srcAddr, ev.srcPort] = [hp.addr, hp.port]
      else [ev.dstAddr, ev.dstPort] = [hp.addr, hp.port]
      continue
    }
    const split = SPLIT_COLUMNS[col]
    if (split === 'srcAddr' || split === 'dstAddr') {
      ev[split] = value
      continue
    }
    if (split) {
      const port = int(value)
      if (!(port >= 0 && port <= 65535)) return `bad ${col} in row`
      ev[split] = port
      continue
    }
    switch (col) {
      case 'TIME': {
        if (TIME_OF_DAY_RE.test(value)) ev.clock = value
        else {
          const iso = parseIsoTime(value)
          if (!iso) return 'bad TIME in row'
          if (iso.zoned) ev.time = iso.time
          else ev.clock = value
        }
        break
      }
      case 'NSECS': {
        if (!/^\d{1,20}$/.test(value)) return 'bad NSECS in row'
        ev.sinceBootUs = Number(BigInt(value) / 1000n)
        break
      }
      case 'PID': {
        const pid = int(value)
        if (!(pid >= 0)) return 'bad PID in row'
        ev.pid = pid
        break
      }
      case 'COMM':
        ev.comm = value
        break
      case 'REASON':
        ev.reason = reasonName(value, ctx.reasons)
        break
      case 'PROTO': {
        const p = value.toLowerCase()
        ev.protocol = p === 'udp' || p === 'tcp' || p === 'icmp' ? p : 'unknown'
        break
      }
      case '>':
        break
      default:
        if (FUNC_COLUMNS.includes(col)) {
          ev.func = value.replace(/\+0x[0-9a-f]+.*$/i, '')
          if (value !== ev.func) details.location = value
        } else if (col.startsWith('('))
          details[col.slice(1, -1).toLowerCase()] = value.replace(/^\((.*)\)$/, '$1')
        else details[col.toLowerCase()] = value
    }
  }
  if (Object.keys(details).length) ev.details = details
  return ev
}

/** `NETFILTER_DROP`, `SKB_DROP_REASON_NETFILTER_DROP` or a number looked up in the kernel's table. */
function reasonName(value: string, table: Map<number, string>): string {
  if (/^\d+$/.test(value)) return table.get(Number(value)) ?? value
  return value.replace(/^SKB_DROP_REASON_/, '')
}
