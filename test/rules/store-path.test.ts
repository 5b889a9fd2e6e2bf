// The rules and the report read the correlator's TxnStore columns directly when the transactions
// are its views (txFacts, the summary, the worst lookups); any other Transaction and Lookup objects
// are read through their interfaces. Both paths must give the same facts, findings and report.
import { describe, expect, it } from 'vitest'
import { correlate } from '../../core/correlate/index.js'
import type { Lookup, Transaction } from '../../core/correlate/types.js'
import { DnsTable } from '../../core/model/dns-table.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import { buildReport } from '../../core/report/build-report.js'
import { runRules } from '../../core/rules/index.js'
import type { RuleContext } from '../../core/rules/rule.js'
import { perSecond, txFacts } from '../../core/rules/transaction-views.js'
import { TxnStore } from '../../core/correlate/txn-store.js'
import { query, response, vantages } from '../correlate/events.js'
import { fact } from './context.js'

const SVC = '10.96.0.10'
const NAMES = ['api.default.svc.cluster.local', 'db.prod.svc.cluster.local', 'example.com']

/** A fixed pseudo-random sequence (LCG), so failures reproduce. */
function lcg(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/**
 * A+AAAA lookups from a few pods over several seconds with every outcome: addresses, AAAA with no
 * record, NXDOMAIN, SERVFAIL, REFUSED, no answer, a resent query, and slow answers. `failing`
 * false: every query is answered NOERROR, some after being resent.
 */
function capture(failing: boolean): DnsMessageEvent[] {
  const rnd = lcg(7)
  const out: DnsMessageEvent[] = []
  let id = 1
  for (let k = 0; k < 300; k++) {
    const t = k * 40 + Math.floor(rnd() * 30) // ms: 12 seconds
    const from = `10.244.${1 + Math.floor(rnd() * 3)}.${2 + Math.floor(rnd() * 4)}:${40000 + k}`
    const to = `${SVC}:53`
    const q = NAMES[Math.floor(rnd() * NAMES.length)]
    const rcode = failing ? [0, 0, 0, 0, 3, 2, 5][Math.floor(rnd() * 7)] : 0
    const slow = rnd() < 0.1 ? 300 : 1 + Math.floor(rnd() * 20)
    for (const type of ['A', 'AAAA'] as const) {
      const qid = id++
      out.push(query({ t, from, to, id: qid, q, type }))
      const fate = rnd()
      if (fate < 0.1 && failing) continue // never answered
      if (fate < 0.2) out.push(query({ t: t + 5, from, to, id: qid, q, type })) // resent
      const addrs = rcode === 0 && type === 'A' ? 1 : 0
      out.push(response({ t: t + slow, from: to, to: from, id: qid, q, type, rcode, addrs }))
    }
  }
  return out
}

/** The same transaction and lookup as plain objects: every field read once. */
function plainTransaction(t: Transaction): Transaction {
  const { client, clientPort, server, serverPort, transport, id, qname, qtype, queries } = t
  const { copies, vantageCount, response, answered, rcode, answerAddrs, responseTime } = t
  const { firstSent, lastTime, latencyUs, hops, lastSeen, drop, lookup } = t
  return {
    ...{ client, clientPort, server, serverPort, transport, id, qname, qtype, queries },
    ...{ copies, vantageCount, response, answered, rcode, answerAddrs, responseTime },
    ...{ firstSent, lastTime, latencyUs, hops, lastSeen, drop, lookup },
  }
}

function plainLookup(l: Lookup): Lookup {
  const { client, name, transactions, outcome, wasted, start, end, answeredName } = l
  return { client, name, transactions, outcome, wasted, start, end, answeredName }
}

// Built once: the builders number the messages and facts they make (`ref`) as they go.
const messages = capture(true)
const answered = capture(false)
/**
 * Node facts that make the rules read every transaction: failed conntrack inserts (conntrack-race
 * pairs each A with its AAAA), and IPVS with a connection to a drained DNS endpoint
 * (ipvs-port-reuse lists the servers and the unanswered queries to the Service).
 */
const nodeFacts = [
  fact({ type: 'conntrack-stats', perCpu: [], totals: { insert_failed: 7, drop: 7 } }),
  fact({ type: 'kube-proxy-mode', mode: 'ipvs' }),
  fact({
    type: 'ipvs-service',
    protocol: 'UDP',
    vip: SVC,
    port: 53,
    scheduler: 'rr',
    realServers: [
      { addr: '10.244.9.2', port: 53, weight: 1, activeConn: 0, inactConn: 1 },
      { addr: '10.244.9.3', port: 53, weight: 0, activeConn: 0, inactConn: 1 },
    ],
  }),
  fact({
    type: 'ipvs-connection',
    protocol: 'UDP',
    expireSec: 200,
    state: 'UDP',
    source: '10.244.1.2:40001',
    virtual: `${SVC}:53`,
    destination: '10.244.9.3:53',
  }),
]

/** The pods' resolv.conf for `expansions`: the Kubernetes search list under ndots:5. */
const SEARCH = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']
const resolvConf = fact({
  type: 'resolv-conf',
  nameservers: [SVC],
  search: SEARCH,
  ndots: 5,
  timeout: 5,
  attempts: 2,
  options: ['ndots:5'],
})

/**
 * glibc lookups under `resolvConf` from three pods: A and AAAA of each search candidate in turn
 * (NXDOMAIN) until the name itself answers; `db` and `api` are answered at their first
 * candidate, so waste nothing, and the typos `dbb` and `exmaple.com` are NXDOMAIN throughout.
 */
function expansions(): DnsMessageEvent[] {
  const rnd = lcg(11)
  const asked = ['example.com', 'api.github.com', 'db', 'www.aliyun.com', 'api', 'pypi.org']
  asked.push('dbb', 'exmaple.com')
  const local = new Set(['db', 'api'])
  const typos = new Set(['dbb', 'exmaple.com'])
  const out: DnsMessageEvent[] = []
  let id = 1
  for (let k = 0; k < 240; k++) {
    let t = k * 50 + Math.floor(rnd() * 30)
    const from = `10.244.1.${2 + Math.floor(rnd() * 3)}:${41000 + k}`
    const name = asked[Math.floor(rnd() * asked.length)]
    const candidates = local.has(name)
      ? [`${name}.${SEARCH[0]}`]
      : [...SEARCH.map((d) => `${name}.${d}`), name]
    for (const [c, q] of candidates.entries()) {
      const last = c === candidates.length - 1 && !typos.has(name)
      for (const type of ['A', 'AAAA'] as const) {
        const qid = id++
        const addrs = last && type === 'A' ? 1 : 0
        out.push(query({ t, from, to: `${SVC}:53`, id: qid, q, type }))
        out.push(
          response({
            t: t + 2,
            from: `${SVC}:53`,
            to: from,
            id: qid,
            q,
            type,
            rcode: last ? 0 : 3,
            addrs,
          }),
        )
      }
      t += 5
    }
  }
  return out
}

function analyze(messages: DnsMessageEvent[], plain: boolean, facts: typeof nodeFacts = []) {
  const dns = new DnsTable()
  for (const e of messages) dns.push(e)
  const vs = vantages(['pod', 'pod'])
  const c = correlate({ dns, drops: [], facts, vantages: vs })
  const correlation = plain
    ? {
        ...c,
        transactions: c.transactions.map(plainTransaction),
        lookups: c.lookups.map(plainLookup),
      }
    : c
  const ctx: RuleContext = {
    events: [],
    inputs: [{ path: 'pod.pcap', kind: 'pcap', vantage: 'pod' }],
    vantages: [...vs.values()],
    correlation,
    facts: [...nodeFacts, ...facts],
    metrics: [],
    drops: [],
    logs: [],
    hostLookups: [],
  }
  const { findings, problems } = runRules(ctx)
  const report = buildReport({
    version: '0',
    inputs: [{ path: 'pod.pcap', kind: 'pcap', vantage: 'pod', events: dns.length, problems: [] }],
    skipped: [],
    vantages: ctx.vantages as RuleContext['vantages'][number][],
    dns,
    correlation,
    findings,
    ruleProblems: problems,
    detail: true,
  })
  return { correlation, facts: txFacts(correlation.transactions), report }
}

describe('reading the TxnStore directly', () => {
  const fromStore = analyze(messages, false)
  const fromObjects = analyze(messages, true)

  it('takes the store path for the correlator views only', () => {
    expect(TxnStore.of(fromStore.correlation.transactions)).not.toBeNull()
    expect(TxnStore.of(fromObjects.correlation.transactions)).toBeNull()
    expect(TxnStore.of(fromStore.correlation.transactions.slice(1))).toBeNull()
  })

  it('covers every case the fast paths distinguish', () => {
    const s = fromObjects.report.summary
    expect(s.unanswered).toBeGreaterThan(0)
    expect(s.aaaaNoData).toBeGreaterThan(0)
    expect(Object.keys(s.rcodes).length).toBeGreaterThanOrEqual(4)
    expect(s.failedLookups).toBeGreaterThan(0)
    expect(fromObjects.correlation.transactions.some((t) => t.copies > 1)).toBe(true)
    expect(perSecond(fromObjects.correlation.transactions).length).toBeGreaterThan(5)
    expect(fromObjects.report.worstLookups?.length).toBe(10)
  })

  it('gives the same facts', () => {
    expect(fromStore.facts).toEqual(fromObjects.facts)
  })

  it('gives the same findings and report', () => {
    expect(fromStore.report.findings.length).toBeGreaterThan(0)
    const race = fromStore.report.findings.find((f) => f.id === 'conntrack-race')
    expect(race?.data.pairsWithOneLost).toBeGreaterThan(0)
    const ipvs = fromStore.report.findings.find((f) => f.id === 'ipvs-port-reuse')
    expect(ipvs?.data.unansweredToService).toBeGreaterThan(0)
    expect(JSON.stringify(fromStore.report)).toBe(JSON.stringify(fromObjects.report))
  })

  it('finds the same worst lookups when all went well but some queries were resent', () => {
    const a = analyze(answered, false).report
    const b = analyze(answered, true).report
    expect(a.summary.failedLookups).toBeLessThan(5)
    const resent = (a.worstLookups ?? []).filter((l) => l.outcome === 'address')
    expect(resent.length).toBeGreaterThan(5)
    expect(resent.every((l) => l.queries > l.transactionCount)).toBe(true)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
  })

  it('counts search-list waste and NXDOMAIN by name alike (ndots-amplification, nxdomain-storm)', () => {
    const expanded = expansions()
    const a = analyze(expanded, false, [resolvConf]).report
    const b = analyze(expanded, true, [resolvConf]).report
    const ndots = a.findings.find((f) => f.id === 'ndots-amplification')
    const worst = ndots?.data.worstNames as { name: string; wasted: number; lookups: number }[]
    // Four external names waste 6 queries a lookup; db and api waste none.
    expect(worst.map((w) => w.name).sort()).toEqual([
      'api.github.com',
      'example.com',
      'pypi.org',
      'www.aliyun.com',
    ])
    for (const w of worst) expect(w.wasted).toBe(6 * w.lookups)
    expect(ndots?.data.wasted).toBe(worst.reduce((n, w) => n + w.wasted, 0))
    expect(ndots?.evidence.length).toBeGreaterThan(0)
    const nx = a.findings.find((f) => f.id === 'nxdomain-storm')
    const top = nx?.data.topNames as { name: string; count: number }[]
    expect(top.map((t) => t.name).sort()).toEqual(['dbb', 'exmaple.com'])
    expect(nx?.data).toMatchObject({ unit: 'lookups', distinctNames: 2, clients: 3 })
    expect(nx?.data.nxdomain).toBe(top[0].count + top[1].count)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
  })
})

describe('the facts index names and clients', () => {
  /** Unanswered queries for two names, from `clients` client addresses. */
  function transactions(clients: number): readonly Transaction[] {
    const dns = new DnsTable()
    for (let k = 0; k < clients; k++) {
      const from = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}:40000`
      dns.push(query({ t: k, from, to: `${SVC}:53`, id: k & 0xffff, q: NAMES[k % 2] }))
    }
    return correlate({ dns, drops: [], facts: [], vantages: vantages(['pod', 'pod']) }).transactions
  }
  /** What txFacts reads of a transaction, as a plain object. */
  const fields = (t: Transaction) => {
    const { client, qname, qtype, rcode, answerAddrs, firstSent, latencyUs, response } = t
    return { client, qname, qtype, rcode, answerAddrs, firstSent, latencyUs, response }
  }

  it('in two bytes each up to 65536 of them, in four beyond, as the store and objects alike', () => {
    const few = txFacts(transactions(100))
    expect(few.name).toBeInstanceOf(Uint16Array)
    expect(few.client).toBeInstanceOf(Uint16Array)
    // Over 65536 strings: the clients need four bytes, the two names still two.
    const tx = transactions(0x10001)
    const many = txFacts(tx)
    expect(many.clients.length).toBe(0x10001)
    expect(many.name).toBeInstanceOf(Uint16Array)
    expect(many.client).toBeInstanceOf(Int32Array)
    for (const i of [0, 1, 0x10000])
      expect([many.names[many.name[i]], many.clients[many.client[i]]]).toEqual([
        tx[i].qname,
        tx[i].client,
      ])
    expect(txFacts(tx.map((t) => fields(t) as Transaction))).toEqual(many)
  })
})
