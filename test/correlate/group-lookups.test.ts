// The lookup grouping reads each transaction once into columns that the search-list inference
// may share. Both ways must give the same search list and the same lookups, on the corpus's real
// CoreDNS logs of search-path expansions and on a synthetic glibc walk with no resolv.conf.
import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync } from 'node:fs'
import { correlate } from '../../core/correlate/index.js'
import { groupLookups } from '../../core/correlate/group-lookups.js'
import {
  type ResolverConfig,
  inferSearchList,
  resolverConfig,
} from '../../core/correlate/search-list.js'
import { NO_RESPONSE, TransactionColumns } from '../../core/correlate/transaction-columns.js'
import type { Transaction } from '../../core/correlate/types.js'
import type { TxnView } from '../../core/correlate/txn-store.js'
import { SNIFF_BYTES, detectImporter } from '../../core/importers/index.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import { corpus } from '../corpus.js'
import { query, response, vantages } from './events.js'

const POD = '10.244.1.7'
const SVC = '10.96.0.10'

/** glibc under ndots:5 asking `name` (fewer dots): A+AAAA per candidate, the last one answers. */
function glibcWalk(name: string, port: number, t0: number, pod = POD): DnsMessageEvent[] {
  const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']
  const cands = [...search.map((s) => `${name}.${s}`), name]
  const out: DnsMessageEvent[] = []
  const from = `${pod}:${port}`
  const to = `${SVC}:53`
  let t = t0
  let id = port
  for (const c of cands) {
    const answered = c === name
    const rcode = answered ? 0 : 3
    out.push(query({ t, from, to, id: ++id, q: c }))
    out.push(query({ t: t + 0.01, from, to, id: ++id, q: c, type: 'AAAA' }))
    out.push(response({ t: t + 1, from: to, to: from, id: id - 1, q: c, rcode, addrs: +answered }))
    out.push(response({ t: t + 1.1, from: to, to: from, id, q: c, type: 'AAAA', rcode }))
    t += 2
  }
  return out
}

function transactionsOf(dns: DnsMessageEvent[]): Transaction[] {
  return correlate({ dns, drops: [], facts: [], vantages: vantages(['pod', 'pod']) }).transactions
}

/** What TransactionColumns holds, as plain data to compare: numbers as the strings they stand for. */
function columnsData(c: TransactionColumns) {
  const n = c.txns.length
  const rows = <T extends { subarray(a: number, b: number): T }>(a: T) => a.subarray(0, n)
  const rcode = rows(c.rcode)
  return {
    qname: Array.from(rows(c.qname), (q) => c.text[q]),
    client: Array.from(rows(c.client), (x) => c.text[x]),
    sent: rows(c.sent),
    lastTime: rows(c.lastTime),
    flags: rows(c.flags),
    rcode,
    // The response time means nothing without a response.
    rtime: Array.from(rows(c.rtime), (t, i) => (rcode[i] === NO_RESPONSE ? null : t)),
    qnames: c.qnames.map((q) => c.text[q]),
  }
}

/** The transactions as plain objects: TransactionColumns then reads them through the interface. */
function plain(txns: Transaction[]): Transaction[] {
  return txns.map((t) => ({
    ...t,
    qname: t.qname,
    client: t.client,
    qtype: t.qtype,
    firstSent: t.firstSent,
    lastTime: t.lastTime,
    copies: t.copies,
    rcode: t.rcode,
    responseTime: t.responseTime,
    answerAddrs: t.answerAddrs,
  }))
}

function sameBothWays(txns: Transaction[]): void {
  // The correlator's columns are its store's; anything else is read through the interface.
  const columns = new TransactionColumns(txns, (txns[0] as TxnView).store)
  expect(columnsData(new TransactionColumns(plain(txns)))).toEqual(columnsData(columns))
  expect(columnsData(new TransactionColumns(txns))).toEqual(columnsData(columns))
  expect(() => new TransactionColumns(txns.slice(1), (txns[0] as TxnView).store)).toThrow()
  expect(inferSearchList(txns, columns)).toEqual(inferSearchList(txns))
  const cfg = resolverConfig([], txns)
  expect(resolverConfig([], txns, columns)).toEqual(cfg)
  const alone = JSON.stringify(groupLookups(txns, cfg))
  const lookupOf = txns.map((t) => t.lookup)
  for (const t of txns) t.lookup = -1
  expect(JSON.stringify(groupLookups(txns, cfg, columns))).toBe(alone)
  expect(txns.map((t) => t.lookup)).toEqual(lookupOf)
  // Plain objects: their own columns and string numbers, the lookup indexes written to them.
  const objects = plain(txns).map((t) => ({ ...t, lookup: -1 }))
  expect(JSON.stringify(groupLookups(objects, cfg))).toBe(alone)
  expect(objects.map((t) => t.lookup)).toEqual(lookupOf)
  sameFastAndGeneral(txns, cfg)
}

/** groupLookups' fast path gives the lookups and lookup indexes the general path alone gives. */
function sameFastAndGeneral(txns: readonly Transaction[], cfg: ResolverConfig): void {
  const general = plain([...txns]).map((t) => ({ ...t, lookup: -1 }))
  const fast = general.map((t) => ({ ...t }))
  expect(JSON.stringify(groupLookups(fast, cfg))).toBe(
    JSON.stringify(groupLookups(general, cfg, undefined, false)),
  )
  expect(fast.map((t) => t.lookup)).toEqual(general.map((t) => t.lookup))
}

/** A small deterministic random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Random transactions of a few clients over a few names, search-list expansions and a name
 * without its trailing dot among them: A, AAAA and MX questions, answered with or without
 * addresses, NXDOMAIN, SERVFAIL or not at all, resent or not, close together or further apart
 * than a lookup's quiet gap.
 */
function randomTransactions(seed: number, n: number): Transaction[] {
  const next = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]
  const names = [
    'api.',
    'api.default.svc.cluster.local.',
    'api.svc.cluster.local.',
    'db.example.org.',
    'db.example.org.default.svc.cluster.local.',
    'web.',
    'web',
  ]
  const txns: Transaction[] = []
  let t = 1_000_000_000
  for (let i = 0; i < n; i++) {
    t += pick([0, 10, 1_000, 100_000, 2_000_000, 12_000_000])
    const answered = next() < 0.85
    // REFUSED for an outcome of neither kind (OTHER).
    const rcode = answered ? pick([0, 0, 0, 3, 2, 5]) : null
    const responseTime = answered ? t + pick([100, 5_000, 3_000_000, 6_000_000]) : NaN
    txns.push({
      client: pick(['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3']),
      qname: pick(names),
      qtype: pick([1, 1, 28, 28, 15]),
      firstSent: t,
      lastTime: answered ? responseTime : pick([NaN, t + 1_000_000]),
      copies: next() < 0.1 ? 2 : 1,
      rcode,
      responseTime,
      answerAddrs: answered ? pick([-1, 0, 1, 2]) : -1,
      lookup: -1,
    } as Transaction)
  }
  return txns
}

describe('lookup grouping on shared transaction columns', () => {
  it('infers the Kubernetes search list and groups the walk the same way both ways', () => {
    const dns = [
      ...glibcWalk('www.aliyun.com', 40000, 0),
      ...glibcWalk('api.example.org', 40100, 20),
      ...glibcWalk('db.example.net', 40200, 40),
    ]
    const txns = transactionsOf(dns)
    expect(inferSearchList(txns, new TransactionColumns(txns))).toEqual([
      'default.svc.cluster.local.',
      'svc.cluster.local.',
      'cluster.local.',
    ])
    sameBothWays(txns)
    const c = correlate({ dns, drops: [], facts: [], vantages: vantages(['pod', 'pod']) })
    expect(c.lookups.map((l) => [l.name, l.outcome, l.wasted, l.transactions.length])).toEqual([
      ['www.aliyun.com', 'address', 6, 8],
      ['api.example.org', 'address', 6, 8],
      ['db.example.net', 'address', 6, 8],
    ])
  })

  it('keeps the lookups of clients asking the same names at once apart', () => {
    // The first client of a name has its open lookup kept by name, the others in a hash table.
    const pods = ['10.244.1.7', '10.244.2.9', '10.244.3.4']
    const dns = pods
      .flatMap((pod, k) => [
        ...glibcWalk('www.aliyun.com', 40000 + 10 * k, k * 0.1, pod),
        ...glibcWalk('api.example.org', 41000 + 10 * k, 3 + k * 0.1, pod),
      ])
      .sort((a, b) => a.time - b.time)
    const txns = transactionsOf(dns)
    sameBothWays(txns)
    const c = correlate({ dns, drops: [], facts: [], vantages: vantages(['pod', 'pod']) })
    expect(c.lookups.map((l) => [l.client, l.name, l.outcome, l.transactions.length])).toEqual(
      ['www.aliyun.com', 'api.example.org'].flatMap((name) =>
        pods.map((pod) => [pod, name, 'address', 8]),
      ),
    )
  })

  // The corpus logs whose queries show a search list.
  const logs = readdirSync(corpus('coredns-log')).filter((f) =>
    /coredns-2494|coredns-3775|kubernetes-72826|kubernetes-80243/.test(f),
  )
  it('finds the corpus logs', () => expect(logs.length).toBeGreaterThanOrEqual(5))
  it.each(logs)('corpus %s: same search list and lookups both ways', (file) => {
    const bytes = new Uint8Array(readFileSync(corpus('coredns-log', file)))
    const found = detectImporter(bytes.subarray(0, SNIFF_BYTES), file)
    if (!found.importer) throw new Error(`no importer for ${file}: ${found.reason}`)
    const parsed = found.importer.parse(
      { index: 0, path: file, bytes, vantage: 'dns' },
      { dnsPorts: new Set([53]) },
    )
    const dns = parsed.events.filter((e): e is DnsMessageEvent => e.kind === 'dns')
    const txns = transactionsOf(dns)
    expect(inferSearchList(txns, new TransactionColumns(txns)).length).toBeGreaterThan(1)
    sameBothWays(txns)
  })
})

describe('the lookup grouping fast path', () => {
  const kube: ResolverConfig = {
    search: ['default.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.'],
    ndots: 5,
    timeoutSec: 5,
    attempts: 2,
    source: 'resolv.conf',
  }
  const none: ResolverConfig = { ...kube, search: [], ndots: 1, source: 'default' }
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'groups random transactions as the general path (seed %i)',
    (seed) => {
      for (const cfg of [none, kube]) {
        const txns = randomTransactions(seed, 2_000)
        sameFastAndGeneral(txns, cfg)
        // Both of settle's loops are compared: lookups of one name asked once or twice (its own
        // loop) and others.
        const shapes = new Set(
          groupLookups(txns, cfg).map((l) => {
            const asked = new Set(l.transactions.map((x) => txns[x].qname))
            return l.transactions.length <= 2 && asked.size === 1
          }),
        )
        expect(shapes).toEqual(new Set([true, false]))
      }
    },
  )
})

describe('a lookup', () => {
  it('is a view: its transactions come fresh on every read and JSON has every field', () => {
    const c = correlate({
      dns: glibcWalk('www.aliyun.com', 40000, 0),
      drops: [],
      facts: [],
      vantages: vantages(['pod', 'pod']),
    })
    const l = c.lookups[0]
    const ids = l.transactions
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(l.transactions).not.toBe(ids)
    ids.push(99)
    expect(l.transactions).toHaveLength(8)
    expect(c.transactions.every((t) => t.lookup === 0)).toBe(true)
    expect(JSON.parse(JSON.stringify(l))).toEqual({
      client: POD,
      name: 'www.aliyun.com',
      transactions: [0, 1, 2, 3, 4, 5, 6, 7],
      outcome: 'address',
      wasted: 6,
      start: l.start,
      end: l.end,
      answeredName: 'www.aliyun.com.',
    })
    expect(l.end).toBeGreaterThan(l.start)
  })
})
