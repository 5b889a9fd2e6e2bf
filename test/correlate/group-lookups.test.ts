// The lookup grouping reads each transaction once into columns that the search-list inference
// may share. Both ways must give the same search list and the same lookups, on the corpus's real
// CoreDNS logs of search-path expansions and on a synthetic glibc walk with no resolv.conf.
import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync } from 'node:fs'
import { correlate } from '../../core/correlate/index.js'
import { groupLookups } from '../../core/correlate/group-lookups.js'
import { inferSearchList, resolverConfig } from '../../core/correlate/search-list.js'
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
