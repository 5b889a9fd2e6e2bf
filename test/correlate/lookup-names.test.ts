// The lookup grouping numbers the application names a qname may stand for: by the qname's own
// number when no search list applies and every qname ends in the root dot (no two qnames then
// stand for one name), in a pool of names made from the qnames otherwise. Both numberings must
// give the same lookups.
import { describe, expect, it } from 'vitest'
import { correlate } from '../../core/correlate/index.js'
import { groupLookups } from '../../core/correlate/group-lookups.js'
import type { ResolverConfig } from '../../core/correlate/search-list.js'
import { TransactionColumns } from '../../core/correlate/transaction-columns.js'
import type { TxnView } from '../../core/correlate/txn-store.js'
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

/**
 * Three pods asking five names in turn, each ask one of: an A and AAAA pair answered with
 * addresses, a lone A answered NXDOMAIN, an A answered SERVFAIL then asked again, an A left
 * unanswered; now and then a pause longer than a lookup's quiet gap.
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
  return out
}

function lookupsOf(dns: DnsMessageEvent[]) {
  const { transactions } = correlate({
    dns,
    drops: [],
    facts: [],
    vantages: vantages(['pod', 'pod']),
  })
  const store = (transactions[0] as TxnView).store
  const lookups = groupLookups(transactions, NO_SEARCH, new TransactionColumns(transactions, store))
  return { transactions, lookups }
}

describe('application names numbered by qname', () => {
  it('give the lookups a pool of names gives', () => {
    const dns = traffic()
    // Every qname ends in the root dot: numbered by qname.
    const byQname = lookupsOf(dns)
    // A last question of another type, for a name without the root dot: numbered in the pool.
    const last = query({
      t: 10_000_000,
      from: '10.244.0.7:39999',
      to: SVC,
      id: 1,
      q: 'x',
      type: 'MX',
    })
    const byPool = lookupsOf([...dns, { ...last, qname: 'mail' }])
    expect(byPool.transactions.at(-1)?.qname).toBe('mail')
    expect(JSON.stringify(byQname.lookups)).toBe(JSON.stringify(byPool.lookups))
    expect(byQname.transactions.map((t) => t.lookup)).toEqual(
      byPool.transactions.slice(0, -1).map((t) => t.lookup),
    )
    // The traffic has lookups of every shape the grouping tells apart.
    const outcomes = new Set(byQname.lookups.map((l) => l.outcome))
    expect(outcomes).toEqual(new Set(['address', 'nxdomain', 'timeout']))
    expect(byQname.lookups.map((l) => l.name)).toContain('charlie.example')
  })
})
