// Builds RuleContexts for rule tests from events shaped exactly like core/model/event.ts, the way
// the importers and the correlator produce them. Each test names the corpus file its events mirror.
import type { Vantage } from '../../core/model/bundle.js'
import type {
  DnsMessageEvent,
  DropEvent,
  Event,
  FactEvent,
  HostLookupEvent,
  LogEvent,
  MetricEvent,
  NodeFact,
} from '../../core/model/event.js'
import type { Manifest } from '../../core/model/bundle.js'
import type {
  Correlation,
  ForwarderTransaction,
  Lookup,
  Transaction,
  TransactionHop,
} from '../../core/correlate/types.js'
import type { RuleContext } from '../../core/rules/rule.js'

/** 2021-03-11T07:03:56Z in µs: a fixed epoch for constructed events. */
export const T0 = 1_615_446_236_000_000

let ref = 0

export function fact(
  f: NodeFact,
  o: { input?: number; vantage?: string; time?: number; ref?: number } = {},
): FactEvent {
  return {
    kind: 'fact',
    fact: f,
    input: o.input ?? 0,
    ref: o.ref ?? ++ref,
    offset: -1,
    vantage: o.vantage ?? 'node-a',
    time: o.time ?? NaN,
  }
}

export function metric(
  name: string,
  labels: Record<string, string>,
  value: number,
  o: { input?: number; vantage?: string; time?: number; type?: string; originalName?: string } = {},
): MetricEvent {
  return {
    kind: 'metric',
    name,
    labels,
    value,
    type: o.type ?? 'counter',
    ...(o.originalName ? { originalName: o.originalName } : {}),
    input: o.input ?? 0,
    ref: ++ref,
    offset: -1,
    vantage: o.vantage ?? 'coredns',
    time: o.time ?? NaN,
  }
}

export function log(
  message: string,
  o: {
    level?: LogEvent['level']
    plugin?: string
    input?: number
    vantage?: string
    time?: number
  } = {},
): LogEvent {
  return {
    kind: 'log',
    level: o.level ?? 'error',
    plugin: o.plugin ?? '',
    message,
    input: o.input ?? 0,
    ref: ++ref,
    offset: -1,
    vantage: o.vantage ?? 'coredns',
    time: o.time ?? NaN,
  }
}

export function drop(
  src: string,
  dst: string,
  func: string,
  reason: string,
  o: { time?: number; vantage?: string; tool?: string; input?: number } = {},
): DropEvent {
  const [srcAddr, srcPort] = src.split(':')
  const [dstAddr, dstPort] = dst.split(':')
  return {
    kind: 'drop',
    protocol: 'udp',
    srcAddr,
    srcPort: Number(srcPort),
    dstAddr,
    dstPort: Number(dstPort),
    func,
    reason,
    tool: o.tool ?? 'bpftrace',
    input: o.input ?? 0,
    ref: ++ref,
    offset: -1,
    vantage: o.vantage ?? 'node-a',
    time: o.time ?? NaN,
  }
}

export function dns(
  m: Partial<DnsMessageEvent> & { qname: string; qtype: number },
): DnsMessageEvent {
  return {
    kind: 'dns',
    source: 'capture',
    transport: 'udp',
    srcAddr: '10.0.0.5',
    srcPort: 40000,
    dstAddr: '10.96.0.10',
    dstPort: 53,
    id: 1,
    qr: false,
    opcode: 0,
    rcode: 0,
    flags: 0x0100,
    qclass: 1,
    ancount: 0,
    answerAddrs: -1,
    size: 60,
    input: 0,
    ref: ++ref,
    offset: 40,
    vantage: 'pod-a',
    time: T0,
    ...m,
  }
}

export interface TxSpec {
  client?: string
  clientPort?: number
  server?: string
  qname: string
  qtype?: number
  id?: number
  /** µs offset from T0. */
  at?: number
  /** null: unanswered. */
  latencyMs?: number | null
  rcode?: number
  answerAddrs?: number
  /** Client sends (1 + retransmits). */
  copies?: number
  /** Vantages that saw the query, in path order (default: the client pod only). */
  path?: string[]
  /** Vantages that saw the response, client side last (default: the client pod). */
  replyPath?: string[]
  source?: DnsMessageEvent['source']
  drop?: DropEvent | null
  input?: number
}

/** One correlated transaction with its query/response events and hops. */
export function tx(s: TxSpec): Transaction {
  const client = s.client ?? '10.0.0.5'
  const clientPort = s.clientPort ?? 40000
  const server = s.server ?? '10.96.0.10'
  const qtype = s.qtype ?? 1
  const id = s.id ?? 4242
  const first = T0 + (s.at ?? 0)
  const path = s.path ?? ['pod-a']
  const source = s.source ?? 'capture'
  const hops: TransactionHop[] = []
  const queries: DnsMessageEvent[] = []
  for (let c = 0; c < (s.copies ?? 1); c++) {
    const time = first + c * 5_000_000
    path.forEach((vantage, i) => {
      const q = dns({
        qname: s.qname,
        qtype,
        id,
        srcAddr: client,
        srcPort: clientPort,
        dstAddr: server,
        time: time + i * 100,
        vantage,
        source,
        input: s.input ?? 0,
      })
      queries.push(q)
      hops.push({ vantage, time: q.time, what: `query ${i === 0 ? 'sent' : 'seen'}`, event: q })
    })
  }
  let response: DnsMessageEvent | null = null
  const latencyMs = s.latencyMs === undefined ? 1 : s.latencyMs
  if (latencyMs !== null) {
    const rpath = s.replyPath ?? [path[0]]
    const t = first + (s.copies && s.copies > 1 ? (s.copies - 1) * 5_000_000 : 0) + latencyMs * 1000
    rpath.forEach((vantage, i) => {
      const r = dns({
        qname: s.qname,
        qtype,
        id,
        qr: true,
        srcAddr: server,
        srcPort: 53,
        dstAddr: client,
        dstPort: clientPort,
        rcode: s.rcode ?? 0,
        answerAddrs: s.answerAddrs ?? (s.rcode ? 0 : 1),
        ancount: s.answerAddrs ?? (s.rcode ? 0 : 1),
        time: t - (rpath.length - 1 - i) * 100,
        vantage,
        source,
        input: s.input ?? 0,
      })
      hops.push({ vantage, time: r.time, what: 'response', event: r })
      if (i === rpath.length - 1) response = r
    })
  }
  hops.sort((a, b) => a.time - b.time)
  const answer = response as DnsMessageEvent | null
  return {
    client,
    clientPort,
    server,
    serverPort: 53,
    transport: 'udp',
    id,
    qname: s.qname,
    qtype,
    queries,
    copies: s.copies ?? 1,
    response,
    answered: answer !== null,
    rcode: answer ? answer.rcode : null,
    answerAddrs: answer ? answer.answerAddrs : -1,
    responseTime: answer ? answer.time : NaN,
    firstSent: first,
    lastTime: hops[hops.length - 1].time,
    latencyUs: response ? (response as DnsMessageEvent).time - first : null,
    hops,
    lastSeen: hops[hops.length - 1].vantage,
    drop: s.drop ?? null,
    lookup: -1,
  }
}

export function fwd(s: {
  server?: string
  upstream?: string
  qname: string
  qtype?: number
  at?: number
  answered: boolean
  rcode?: number
}): ForwarderTransaction {
  const server = s.server ?? '10.244.0.7'
  const upstream = s.upstream ?? '8.8.8.8'
  const query = dns({
    qname: s.qname,
    qtype: s.qtype ?? 1,
    srcAddr: server,
    srcPort: 33000,
    dstAddr: upstream,
    time: T0 + (s.at ?? 0),
    vantage: 'coredns',
  })
  const response = s.answered
    ? dns({
        qname: s.qname,
        qtype: s.qtype ?? 1,
        qr: true,
        srcAddr: upstream,
        srcPort: 53,
        dstAddr: server,
        dstPort: 33000,
        rcode: s.rcode ?? 0,
        time: query.time + 20_000,
        vantage: 'coredns',
      })
    : null
  return {
    server,
    upstream: `${upstream}:53`,
    id: 1,
    qname: s.qname,
    qtype: s.qtype ?? 1,
    query,
    response,
    latencyUs: response ? 20_000 : null,
  }
}

export function lookup(l: Partial<Lookup> & { name: string; transactions: number[] }): Lookup {
  return {
    client: '10.0.0.5',
    outcome: 'address',
    wasted: 0,
    start: T0,
    end: T0 + 1000,
    answeredName: null,
    ...l,
  }
}

export const VANTAGES: Vantage[] = [
  { id: 'pod-a', type: 'pod', name: 'pod-a', node: 'node-a', addresses: ['10.0.0.5'] },
  { id: 'node-a', type: 'node', name: 'node-a', node: 'node-a', addresses: [] },
  { id: 'coredns', type: 'dns-server', name: 'coredns', node: 'node-b', addresses: ['10.244.0.7'] },
]

export interface CtxSpec {
  transactions?: Transaction[]
  lookups?: Lookup[]
  forwarder?: ForwarderTransaction[]
  dnsServers?: string[]
  events?: Event[]
  vantages?: Vantage[]
  manifest?: Manifest
  inputs?: { path: string; kind: string; vantage: string }[]
}

export function ctx(s: CtxSpec = {}): RuleContext {
  const transactions = s.transactions ?? []
  transactions.forEach((t, i) => {
    const l = s.lookups?.findIndex((x) => x.transactions.includes(i)) ?? -1
    t.lookup = l
  })
  const correlation: Correlation = {
    transactions,
    lookups: s.lookups ?? [],
    forwarder: s.forwarder ?? [],
    dnsServers: new Set(s.dnsServers ?? transactions.map((t) => t.server)),
    natPairs: new Map(),
  }
  const events: Event[] = [...(s.events ?? [])]
  for (const t of transactions) {
    events.push(...t.queries)
    if (t.response) events.push(t.response)
  }
  const pick = <K extends Event['kind']>(k: K) =>
    events.filter((e): e is Extract<Event, { kind: K }> => e.kind === k)
  return {
    events,
    inputs: s.inputs ?? [{ path: 'bundle/input-0', kind: 'test', vantage: 'pod-a' }],
    vantages: s.vantages ?? VANTAGES,
    correlation,
    facts: pick('fact'),
    metrics: pick('metric'),
    drops: pick('drop'),
    logs: pick('log'),
    hostLookups: pick('host-lookup') as HostLookupEvent[],
    manifest: s.manifest,
  }
}

/** The same transaction with its response lost before it reached the client. */
export function unanswered(t: Transaction): Transaction {
  return {
    ...t,
    response: null,
    answered: false,
    rcode: null,
    answerAddrs: -1,
    responseTime: NaN,
    latencyUs: null,
  }
}
