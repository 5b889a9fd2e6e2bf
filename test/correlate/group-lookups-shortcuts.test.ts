// Shortcuts of the lookup grouping that its general path does not take, and must agree with.
// Without a search list the application name a qname stands for is numbered as the qname with
// the root dot is (no name is made); with one, the names are made and numbered in a pool. A
// lookup of one name asked once or twice is told from its summary whether a question joins it,
// not by walking it.
import { describe, expect, it } from 'vitest'
import { correlate } from '../../core/correlate/index.js'
import { groupLookups } from '../../core/correlate/group-lookups.js'
import type { ResolverConfig } from '../../core/correlate/search-list.js'
import { TransactionColumns } from '../../core/correlate/transaction-columns.js'
import type { TxnView } from '../../core/correlate/txn-store.js'
import type { Transaction } from '../../core/correlate/types.js'
import type { DnsMessageEvent } from '../../core/model/event.js'
import { query, response, vantages } from './events.js'

const NO_SEARCH: ResolverConfig = {
  search: [],
  ndots: 1,
  timeoutSec: 5,
  attempts: 2,
  source: 'default',
}
const SVC = '10.96.0.10:53'

/** A search list none of the names is under: each qname has one base, as without a list. */
const UNRELATED_SEARCH: ResolverConfig = { ...NO_SEARCH, search: ['nowhere.invalid.'] }

/**
 * Three pods asking five names in turn, each ask one of: an A and AAAA pair answered with
 * addresses, a lone A answered NXDOMAIN, an A answered SERVFAIL then asked again, an A left
 * unanswered; now and then a pause longer than a lookup's quiet gap. Names are given without
 * their root dot now and then (as some logs write them), one of them always.
 */
function traffic(): DnsMessageEvent[] {
  const names = ['alpha.test', 'bravo.test', 'charlie.example', 'delta.example', 'echo.test']
  const out: DnsMessageEvent[] = []
  let t = 0
  for (let k = 0; k < 240; k++) {
    const from = `10.244.${k % 3}.7:${40000 + k}`
    const q = names[(k * 7) % names.length]
    const id = 1000 + k
    out.push(query({ t, from, to: SVC, id, q }))
    switch (k % 4) {
      case 0:
        out.push(query({ t: t + 0.1, from, to: SVC, id: id + 5000, q, type: 'AAAA' }))
        out.push(response({ t: t + 1, from: SVC, to: from, id, q, addrs: 1 }))
        out.push(
          response({ t: t + 1.2, from: SVC, to: from, id: id + 5000, q, type: 'AAAA', addrs: 1 }),
        )
        break
      case 1:
        out.push(response({ t: t + 1, from: SVC, to: from, id, q, rcode: 3 }))
        break
      case 2:
        out.push(response({ t: t + 1, from: SVC, to: from, id, q, rcode: 2 }))
        out.push(query({ t: t + 2, from, to: SVC, id: id + 7000, q }))
        out.push(response({ t: t + 3, from: SVC, to: from, id: id + 7000, q, addrs: 2 }))
        break
    }
    t += k % 50 === 49 ? 12_000 : 40
  }
  // alpha.test always without its root dot, the others now and then.
  return out.map((e) =>
    e.qname === 'alpha.test.' || e.id % 3 === 0 ? { ...e, qname: e.qname.slice(0, -1) } : e,
  )
}

describe('application names numbered without a pool', () => {
  it('give the lookups a pool of names gives', () => {
    const { transactions } = correlate({
      dns: traffic(),
      drops: [],
      facts: [],
      vantages: vantages(['pod', 'pod']),
    })
    const columns = new TransactionColumns(transactions, (transactions[0] as TxnView).store)
    const byPool = JSON.stringify(groupLookups(transactions, UNRELATED_SEARCH, columns))
    const lookup = transactions.map((t) => t.lookup)
    const byQname = groupLookups(transactions, NO_SEARCH, columns)
    expect(JSON.stringify(byQname)).toBe(byPool)
    expect(transactions.map((t) => t.lookup)).toEqual(lookup)
    // The traffic has lookups of every outcome the grouping tells apart here, and names asked
    // with and without the root dot in one lookup.
    expect(new Set(byQname.map((l) => l.outcome))).toEqual(
      new Set(['address', 'nxdomain', 'timeout']),
    )
    const asked = byQname.map((l) => new Set(l.transactions.map((x) => transactions[x].qname)))
    expect(asked.some((names) => names.has('echo.test.') && names.has('echo.test'))).toBe(true)
    expect(transactions.some((t) => t.qname === 'alpha.test')).toBe(true)
    expect(transactions.some((t) => t.qname === 'alpha.test.')).toBe(false)
  })
})

describe("a lookup's summary", () => {
  it('does not take an answer seen after the last time given for its question as final by then', () => {
    // Transactions read through the interface may say they were last seen before their answer.
    const ask = (firstSent: number, responseTime: number, lastTime: number) =>
      ({
        client: '10.0.0.1',
        qname: 'api.test.',
        qtype: 1,
        firstSent,
        lastTime,
        copies: 1,
        rcode: 0,
        responseTime,
        answerAddrs: 1,
        lookup: -1,
      }) as Transaction
    // The A asked again before its first answer arrived: the resolver retrying, one lookup.
    const txns = () => [ask(1_000_000, 1_000_100, 1_000_050), ask(1_000_060, 1_000_200, 1_000_200)]
    const fast = txns()
    const general = txns()
    const lookups = groupLookups(fast, NO_SEARCH)
    expect(JSON.stringify(lookups)).toBe(
      JSON.stringify(groupLookups(general, NO_SEARCH, undefined, false)),
    )
    expect(lookups.map((l) => l.transactions)).toEqual([[0, 1]])
  })
})
