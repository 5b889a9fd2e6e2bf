import { describe, expect, it } from 'vitest'
import { correlate } from '../../core/correlate/index.js'
import type { DnsMessageEvent, DropEvent, FactEvent } from '../../core/model/event.js'
import { DnsTable } from '../../core/model/dns-table.js'
import { query, response, vantages } from './events.js'

const POD = '10.244.1.7'
const SVC = '10.96.0.10'
const COREDNS = '10.244.2.3'
const kubeResolv: FactEvent = {
  kind: 'fact',
  input: 0,
  ref: 1,
  offset: -1,
  vantage: 'pod',
  time: NaN,
  fact: {
    type: 'resolv-conf',
    nameservers: [SVC],
    ndots: 5,
    timeout: 5,
    attempts: 2,
    options: ['ndots:5'],
    search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
  },
}

function run(dns: DnsMessageEvent[], facts: FactEvent[] = [], vs = vantages(['pod', 'pod'])) {
  return correlate({ dns, drops: [], facts, vantages: vs })
}

/** A query from POD:5000 to the Service, and the Service's answer with one address. */
const ask = (t: number, id: number, q: string) =>
  query({ t, from: `${POD}:5000`, to: `${SVC}:53`, id, q })
const answer = (t: number, id: number, q: string) =>
  response({ t, from: `${SVC}:53`, to: `${POD}:5000`, id, q, addrs: 1 })

/** glibc's getaddrinfo(name) under ndots:5: A+AAAA per candidate; `answers` maps qname → A count. */
function lookupOf(
  name: string,
  port: number,
  t0: number,
  answers: Record<string, [number, number]>,
) {
  const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']
  const cands =
    name.split('.').length - 1 >= 5
      ? [name, ...search.map((s) => `${name}.${s}`)]
      : [...search.map((s) => `${name}.${s}`), name]
  const out: DnsMessageEvent[] = []
  let t = t0
  let id = port
  for (const c of cands) {
    const [a, aaaa] = answers[c] ?? [-1, -1]
    const from = `${POD}:${port}`
    const to = `${SVC}:53`
    out.push(
      query({ t, from, to, id: ++id, q: c }),
      query({ t: t + 0.01, from, to, id: ++id, q: c, type: 'AAAA' }),
    )
    const rcode = a < 0 ? 3 : 0
    out.push(
      response({ t: t + 1, from: to, to: from, id: id - 1, q: c, rcode, addrs: Math.max(a, 0) }),
    )
    out.push(
      response({
        t: t + 1.1,
        from: to,
        to: from,
        id,
        q: c,
        type: 'AAAA',
        rcode,
        addrs: Math.max(aaaa, 0),
      }),
    )
    t += 2
    if (a > 0 || aaaa > 0) break
  }
  return out
}

describe('lookups', () => {
  it('www.aliyun.com under ndots:5 is one lookup of 8 queries, 6 of them wasted', () => {
    const c = run(lookupOf('www.aliyun.com', 40000, 0, { 'www.aliyun.com': [1, 0] }), [kubeResolv])
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'www.aliyun.com', outcome: 'address', wasted: 6 })
    expect(c.lookups[0].transactions).toHaveLength(8)
  })

  it('database is A + AAAA, with AAAA NODATA', () => {
    const c = run(
      lookupOf('database', 41000, 0, { 'database.default.svc.cluster.local': [1, 0] }),
      [kubeResolv],
    )
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'database', outcome: 'address', wasted: 0 })
    const aaaa = c.transactions.filter((t) => t.qtype === 28)
    expect(aaaa).toHaveLength(1)
    expect(aaaa[0].response?.rcode).toBe(0)
    expect(aaaa[0].response?.answerAddrs).toBe(0)
  })

  it('infers the search list when the bundle has no resolv.conf', () => {
    const c = run([
      ...lookupOf('www.aliyun.com', 40000, 0, { 'www.aliyun.com': [1, 0] }),
      ...lookupOf('api.github.com', 42000, 100, { 'api.github.com': [2, 1] }),
    ])
    expect(c.stats.resolver.source).toBe('inferred')
    expect(c.stats.resolver.search).toEqual([
      'default.svc.cluster.local.',
      'svc.cluster.local.',
      'cluster.local.',
    ])
    expect(c.lookups.map((l) => [l.name, l.transactions.length, l.wasted])).toEqual([
      ['www.aliyun.com', 8, 6],
      ['api.github.com', 8, 6],
    ])
  })

  it('keeps the AAAA in the lookup when the A was answered before the AAAA arrived (server-side view)', () => {
    const vs = vantages(['coredns', 'dns-server'])
    const at = { vantage: 'coredns', source: 'dnstap' as const }
    const c = run(
      [
        query({
          t: 0,
          from: `${POD}:5000`,
          to: `${COREDNS}:53`,
          id: 1,
          q: 'db.default.svc.cluster.local',
          ...at,
          dnstapType: 'CLIENT_QUERY',
        }),
        response({
          t: 0.005,
          from: `${COREDNS}:53`,
          to: `${POD}:5000`,
          id: 1,
          q: 'db.default.svc.cluster.local',
          addrs: 1,
          ...at,
          dnstapType: 'CLIENT_RESPONSE',
        }),
        query({
          t: 0.02,
          from: `${POD}:5000`,
          to: `${COREDNS}:53`,
          id: 2,
          q: 'db.default.svc.cluster.local',
          type: 'AAAA',
          ...at,
          dnstapType: 'CLIENT_QUERY',
        }),
        response({
          t: 0.025,
          from: `${COREDNS}:53`,
          to: `${POD}:5000`,
          id: 2,
          q: 'db.default.svc.cluster.local',
          type: 'AAAA',
          ...at,
          dnstapType: 'CLIENT_RESPONSE',
        }),
      ],
      [kubeResolv],
      vs,
    )
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'db', outcome: 'address' })
    expect(c.lookups[0].transactions).toHaveLength(2)
  })

  it('a question asked again after SERVFAIL is the resolver retrying, in the same lookup', () => {
    const from = `${POD}:5000`
    const to = `${SVC}:53`
    const c = run(
      [
        query({ t: 0, from, to, id: 1, q: 'ext.example.com' }),
        response({ t: 1, from: to, to: from, id: 1, q: 'ext.example.com', rcode: 2 }),
        query({ t: 2, from, to, id: 2, q: 'ext.example.com' }),
        response({ t: 3, from: to, to: from, id: 2, q: 'ext.example.com', rcode: 2 }),
      ],
      [kubeResolv],
    )
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ outcome: 'servfail' })
    expect(c.lookups[0].transactions).toHaveLength(2)
  })

  it('a name asked again after its answer is a new lookup', () => {
    const c = run(
      [
        ...lookupOf('database', 41000, 0, { 'database.default.svc.cluster.local': [1, 0] }),
        ...lookupOf('database', 41000, 3, { 'database.default.svc.cluster.local': [1, 0] }),
      ],
      [kubeResolv],
    )
    expect(c.lookups).toHaveLength(2)
  })

  it('a lookup with every candidate NXDOMAIN fails as nxdomain and wastes nothing', () => {
    const c = run(lookupOf('nosuchservice', 43000, 0, {}), [kubeResolv])
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ outcome: 'nxdomain', wasted: 0 })
    expect(c.lookups[0].transactions).toHaveLength(8)
  })
})

describe('transactions', () => {
  it('pairs query and response and measures latency at one vantage', () => {
    const c = run([
      query({ t: 0, from: `${POD}:5000`, to: `${SVC}:53`, id: 7, q: 'a.example' }),
      response({ t: 2.5, from: `${SVC}:53`, to: `${POD}:5000`, id: 7, q: 'a.example', addrs: 1 }),
    ])
    expect(c.transactions).toHaveLength(1)
    expect(c.transactions[0].latencyUs).toBe(2500)
    expect(c.stats.clientQueries).toBe(1)
  })

  it('counts a same-id resend from another port while unanswered as a retransmit', () => {
    const c = run([
      query({ t: 0, from: `${POD}:5000`, to: `${SVC}:53`, id: 7, q: 'a.example' }),
      query({ t: 5000, from: `${POD}:5001`, to: `${SVC}:53`, id: 7, q: 'a.example' }),
      response({ t: 5001, from: `${SVC}:53`, to: `${POD}:5001`, id: 7, q: 'a.example', addrs: 1 }),
    ])
    expect(c.transactions).toHaveLength(1)
    expect(c.transactions[0].copies).toBe(2)
    expect(c.stats.clientQueries).toBe(2)
  })

  it('pairs rows given out of time order, equal times in order of record number', () => {
    const c = run([
      ask(0, 1, 'a.example'),
      ask(5, 2, 'b.example'),
      // Earlier than the row before: put back before b, with the rows after left in place.
      ask(1, 3, 'c.example'),
      answer(2, 3, 'c.example'),
      answer(6, 1, 'a.example'),
      answer(7, 2, 'b.example'),
      // Same time: the one with the lower record number first, wherever it sits. Here the
      // answer, so it answers nothing and the query stays unanswered.
      { ...ask(9, 4, 'd.example'), ref: 1_000_001 },
      { ...answer(9, 4, 'd.example'), ref: 1_000_000 },
      // A tie in record number too keeps the order given.
      { ...ask(10, 5, 'e.example'), ref: 1_000_002 },
      { ...answer(10, 5, 'e.example'), ref: 1_000_002 },
    ])
    const latency = Object.fromEntries(c.transactions.map((t) => [t.qname, t.latencyUs]))
    expect(latency).toEqual({
      'a.example.': 6000,
      'b.example.': 2000,
      'c.example.': 1000,
      'd.example.': null,
      'e.example.': 0,
    })
    expect(c.stats.orphanResponses).toBe(1)
  })

  it('pairs rows far from time order (merged without regard to time)', () => {
    const from = `${POD}:5000`
    const to = `${SVC}:53`
    const events: DnsMessageEvent[] = []
    // Newest first: too many moves for insertion sort, which gives up for the general sort.
    for (let i = 2000; i > 0; i--)
      events.push(
        response({ t: 2 * i + 1, from: to, to: from, id: i, q: `n${i}.example`, addrs: 1 }),
        query({ t: 2 * i, from, to, id: i, q: `n${i}.example` }),
      )
    const c = run(events)
    expect(c.transactions).toHaveLength(2000)
    expect(c.transactions.every((t) => t.latencyUs === 1000)).toBe(true)
    expect(c.transactions[0].qname).toBe('n1.example.')
    expect(c.stats.orphanResponses).toBe(0)
  })

  it('a copy sent after the answer starts a new transaction', () => {
    const c = run([
      query({ t: 0, from: `${POD}:5000`, to: `${SVC}:53`, id: 7, q: 'a.example' }),
      response({ t: 1, from: `${SVC}:53`, to: `${POD}:5000`, id: 7, q: 'a.example', addrs: 1 }),
      query({ t: 2, from: `${POD}:5000`, to: `${SVC}:53`, id: 7, q: 'a.example' }),
    ])
    expect(c.transactions).toHaveLength(2)
    expect(c.transactions[1].response).toBeNull()
  })

  // The server answered, the answer was lost on its way to the pod, the pod re-sent the same id:
  // the re-sent copy reaching the node and the server is that resend, not a new query.
  for (const lostAfter of ['the server', 'the node'] as const)
    it(`joins a resend after an answer lost past ${lostAfter} to the query it resends`, () => {
      const vs = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])
      const q = 'lost-reply.example'
      const sent = (t: number, vantage: string) =>
        vantage === 'coredns'
          ? query({
              t,
              from: `${POD}:5000`,
              to: `${COREDNS}:53`,
              id: 11,
              q,
              vantage,
              source: 'dnstap',
              dnstapType: 'CLIENT_QUERY',
            })
          : query({
              t,
              from: `${POD}:5000`,
              to: vantage === 'pod' ? `${SVC}:53` : `${COREDNS}:53`,
              id: 11,
              q,
              vantage,
            })
      const answered = (t: number, vantage: string) =>
        vantage === 'coredns'
          ? response({
              t,
              from: `${COREDNS}:53`,
              to: `${POD}:5000`,
              id: 11,
              q,
              vantage,
              source: 'dnstap',
              dnstapType: 'CLIENT_RESPONSE',
              addrs: 1,
            })
          : response({
              t,
              from: vantage === 'pod' ? `${SVC}:53` : `${COREDNS}:53`,
              to: `${POD}:5000`,
              id: 11,
              q,
              vantage,
              addrs: 1,
            })
      const first = [
        sent(0, 'pod'),
        sent(0.1, 'node'),
        sent(0.2, 'coredns'),
        answered(0.3, 'coredns'),
      ]
      // Lost past the node: the node saw the first answer go by too.
      if (lostAfter === 'the node') first.push(answered(0.4, 'node'))
      const resend = [
        sent(5000, 'pod'),
        sent(5000.1, 'node'),
        sent(5000.2, 'coredns'),
        answered(5000.3, 'coredns'),
        answered(5000.4, 'node'),
        answered(5000.5, 'pod'),
      ]
      const c = run([...first, ...resend], [], vs)
      expect(c.transactions).toHaveLength(1)
      const t = c.transactions[0]
      expect(t.copies).toBe(2)
      expect(c.stats.clientQueries).toBe(2)
      expect(t.hops.filter((h) => h.vantage === 'pod').map((h) => h.what)).toEqual([
        'query',
        'retransmit',
        'response',
      ])
      expect(t.hops.filter((h) => h.vantage === 'coredns').map((h) => h.what)).toEqual([
        'query',
        'response',
        'retransmit',
        'duplicate response',
      ])
      expect(t.latencyUs).toBe(5000.5 * 1000)
    })

  it('an answer that never reached the vantage closest to the client leaves the query unanswered', () => {
    const vs = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])
    const q = 'never-back.example'
    const c = run(
      [
        query({ t: 0, from: `${POD}:5000`, to: `${SVC}:53`, id: 13, q, vantage: 'pod' }),
        query({ t: 0.1, from: `${POD}:5000`, to: `${COREDNS}:53`, id: 13, q, vantage: 'node' }),
        response({
          t: 0.3,
          from: `${COREDNS}:53`,
          to: `${POD}:5000`,
          id: 13,
          q,
          vantage: 'coredns',
          source: 'dnstap',
          dnstapType: 'CLIENT_RESPONSE',
          addrs: 1,
        }),
        response({
          t: 0.4,
          from: `${COREDNS}:53`,
          to: `${POD}:5000`,
          id: 13,
          q,
          vantage: 'node',
          addrs: 1,
        }),
      ],
      [],
      vs,
    )
    const [t] = c.transactions
    expect(t.answered).toBe(false)
    expect(t.rcode).toBeNull()
    expect(t.latencyUs).toBeNull()
    // The answer was last seen at the node, on its way back.
    expect(t.lastSeen).toBe('node')
    expect(t.hops.filter((h) => h.what === 'response').map((h) => h.vantage)).toEqual([
      'coredns',
      'node',
    ])
    expect(c.stats.responses).toBe(0)
  })

  it("attaches the kernel's drop of the lost answer (from port 53 to the client's port)", () => {
    const vs = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])
    const q = 'answer-dropped.example'
    const drop = (time: number, from: string, to: string): DropEvent => {
      const [srcAddr, srcPort] = from.split(':')
      const [dstAddr, dstPort] = to.split(':')
      return {
        kind: 'drop',
        input: 1,
        ref: 9,
        offset: -1,
        vantage: 'node',
        time,
        protocol: 'udp',
        ...{ srcAddr, srcPort: Number(srcPort), dstAddr, dstPort: Number(dstPort) },
        func: 'nft_do_chain',
        reason: 'NETFILTER_DROP',
        tool: 'dns-drops.bt',
      }
    }
    const events = [
      query({ t: 0, from: `${POD}:5000`, to: `${SVC}:53`, id: 14, q, vantage: 'pod' }),
      query({ t: 0.1, from: `${POD}:5000`, to: `${COREDNS}:53`, id: 14, q, vantage: 'node' }),
      response({ t: 0.4, from: `${COREDNS}:53`, to: `${POD}:5000`, id: 14, q, vantage: 'node' }),
    ]
    // Another flow's drop at the same moment, and this answer's drop 10 µs after the node saw it.
    const at = events[2].time
    const drops = [
      drop(at, `${COREDNS}:53`, `${POD}:6000`),
      drop(at + 10, `${COREDNS}:53`, `${POD}:5000`),
    ]
    const dns = new DnsTable()
    for (const e of events) dns.push(e)
    const c = correlate({ dns, drops, facts: [], vantages: vs })
    const [t] = c.transactions
    expect(t.answered).toBe(false)
    expect(t.drop).toBe(drops[1])
  })

  it('still starts a new transaction for a copy sent after every vantage saw the answer', () => {
    const vs = vantages(['pod', 'pod'], ['coredns', 'dns-server'])
    const q = 'asked-again.example'
    const c = run(
      [
        query({ t: 0, from: `${POD}:5000`, to: `${SVC}:53`, id: 12, q, vantage: 'pod' }),
        response({
          t: 1,
          from: `${SVC}:53`,
          to: `${POD}:5000`,
          id: 12,
          q,
          vantage: 'coredns',
          source: 'dnstap',
          dnstapType: 'CLIENT_RESPONSE',
        }),
        response({ t: 2, from: `${SVC}:53`, to: `${POD}:5000`, id: 12, q, vantage: 'pod' }),
        query({ t: 100, from: `${POD}:5000`, to: `${SVC}:53`, id: 12, q, vantage: 'pod' }),
        query({
          t: 100.1,
          from: `${POD}:5000`,
          to: `${SVC}:53`,
          id: 12,
          q,
          vantage: 'coredns',
          source: 'dnstap',
          dnstapType: 'CLIENT_QUERY',
        }),
      ],
      [],
      vs,
    )
    expect(c.transactions).toHaveLength(2)
    expect(c.transactions[1].hops.map((h) => `${h.vantage}:${h.what}`)).toEqual([
      'pod:query',
      'coredns:query',
    ])
  })

  it('finds a key again after tens of thousands of others (the open table moves old keys out of its young part)', () => {
    const events: DnsMessageEvent[] = [
      ask(0, 1, 'lost.example'), // re-sent much later, still unanswered until then
      ask(0.1, 2, 'slow.example'), // answered much later
      ask(0.2, 3, 'again.example'),
      answer(0.3, 3, 'again.example'), // asked again much later: a new transaction
    ]
    const others = 40_000
    for (let i = 0; i < others; i++) {
      // Names repeat with other ids, ids repeat with other names: only the whole key matches.
      const q = `n${i % 997}.example`
      events.push(ask(1 + i * 0.1, i & 0xffff, q), answer(1.05 + i * 0.1, i & 0xffff, q))
    }
    const late = 1 + others * 0.1
    events.push(
      ask(late, 1, 'lost.example'),
      answer(late + 1, 1, 'lost.example'),
      answer(late + 2, 2, 'slow.example'),
      ask(late + 3, 3, 'again.example'),
    )
    const c = run(events)
    expect(c.transactions).toHaveLength(others + 4)
    const byName = (q: string) => c.transactions.filter((t) => t.qname === q)
    expect(byName('lost.example.').map((t) => [t.copies, t.answered])).toEqual([[2, true]])
    expect(byName('slow.example.').map((t) => t.latencyUs)).toEqual([(late + 2 - 0.1) * 1000])
    expect(byName('again.example.').map((t) => t.answered)).toEqual([true, false])
    expect(c.stats.orphanResponses).toBe(0)
    expect(c.transactions.every((t) => t.copies === 1 || t.qname === 'lost.example.')).toBe(true)
  })

  it('joins one query across pod, node (after DNAT) and the DNS server, counting it once', () => {
    const vs = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])
    const c = run(
      [
        query({
          t: 0,
          from: `${POD}:5000`,
          to: `${SVC}:53`,
          id: 9,
          q: 'b.example',
          vantage: 'pod',
        }),
        query({
          t: 0.1,
          from: `${POD}:5000`,
          to: `${COREDNS}:53`,
          id: 9,
          q: 'b.example',
          vantage: 'node',
        }),
        query({
          t: 0.2,
          from: `${POD}:5000`,
          to: `${COREDNS}:53`,
          id: 9,
          q: 'b.example',
          vantage: 'coredns',
          source: 'dnstap',
          dnstapType: 'CLIENT_QUERY',
        }),
      ],
      [],
      vs,
    )
    expect(c.transactions).toHaveLength(1)
    const t = c.transactions[0]
    expect(t.copies).toBe(1)
    expect(t.vantageCount).toBe(3)
    expect(t.response).toBeNull()
    expect(t.lastSeen).toBe('coredns')
    expect(c.natPairs.get(SVC)).toEqual([COREDNS])
  })

  it('counts sends at every vantage apart: the most copies any vantage saw', () => {
    // Each vantage's counts are kept apart (the first's, the second's, then any others'): a
    // resend seen only at the second or the third vantage is one more send all the same.
    const vs = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])
    const askAt = (t: number, vantage: string, id: number, to = COREDNS) =>
      query({ t, from: `${POD}:5000`, to: `${to}:53`, id, q: 'c.example', vantage })
    const answerAt = (t: number, vantage: string, id: number) =>
      response({ t, from: `${COREDNS}:53`, to: `${POD}:5000`, id, q: 'c.example', vantage })
    const c = run(
      [
        askAt(0, 'pod', 1, SVC),
        askAt(0.1, 'node', 1),
        askAt(0.2, 'coredns', 1),
        askAt(1000, 'node', 1),
        answerAt(1000.5, 'node', 1),
        answerAt(1000.6, 'pod', 1),
        askAt(2000, 'pod', 2, SVC),
        askAt(2000.1, 'node', 2),
        askAt(2000.2, 'coredns', 2),
        askAt(3000, 'coredns', 2),
        askAt(4000, 'coredns', 2),
      ],
      [],
      vs,
    )
    expect(c.transactions.map((t) => [t.copies, t.vantageCount, t.answered])).toEqual([
      [2, 3, true],
      [3, 3, false],
    ])
  })

  it('a query lost after the node has lastSeen at the node', () => {
    const vs = vantages(['pod', 'pod'], ['node', 'node'], ['coredns', 'dns-server'])
    const c = run(
      [
        query({
          t: 0,
          from: `${POD}:5000`,
          to: `${SVC}:53`,
          id: 9,
          q: 'b.example',
          vantage: 'pod',
        }),
        query({
          t: 0.1,
          from: `${POD}:5000`,
          to: `${COREDNS}:53`,
          id: 9,
          q: 'b.example',
          vantage: 'node',
        }),
        query({
          t: 1,
          from: `${POD}:6000`,
          to: `${SVC}:53`,
          id: 10,
          q: 'c.example',
          vantage: 'pod',
        }),
        query({
          t: 1.1,
          from: `${POD}:6000`,
          to: `${COREDNS}:53`,
          id: 10,
          q: 'c.example',
          vantage: 'node',
        }),
        query({
          t: 1.2,
          from: `${POD}:6000`,
          to: `${COREDNS}:53`,
          id: 10,
          q: 'c.example',
          vantage: 'coredns',
          source: 'dnstap',
          dnstapType: 'CLIENT_QUERY',
        }),
        response({
          t: 1.3,
          from: `${COREDNS}:53`,
          to: `${POD}:6000`,
          id: 10,
          q: 'c.example',
          vantage: 'coredns',
          source: 'dnstap',
          dnstapType: 'CLIENT_RESPONSE',
          addrs: 1,
        }),
        response({
          t: 1.4,
          from: `${SVC}:53`,
          to: `${POD}:6000`,
          id: 10,
          q: 'c.example',
          vantage: 'pod',
          addrs: 1,
        }),
      ],
      [],
      vs,
    )
    const lost = c.transactions.find((t) => t.id === 9)!
    expect(lost.lastSeen).toBe('node')
    const ok = c.transactions.find((t) => t.id === 10)!
    expect(ok.lastSeen).toBe('pod')
    expect(ok.latencyUs).toBe(1400 - 1000)
  })

  it('tells forwarder queries from client queries', () => {
    const c = run([
      query({ t: 0, from: `${POD}:5000`, to: `${COREDNS}:53`, id: 1, q: 'ext.example' }),
      query({ t: 0.1, from: `${COREDNS}:33333`, to: '8.8.8.8:53', id: 2, q: 'ext.example' }),
      response({
        t: 2,
        from: `${COREDNS}:53`,
        to: `${POD}:5000`,
        id: 1,
        q: 'ext.example',
        rcode: 2,
      }),
    ])
    expect(c.transactions).toHaveLength(1)
    expect(c.forwarder).toHaveLength(1)
    expect(c.forwarder[0].response).toBeNull()
  })

  it('counts a CoreDNS log line as one answered query that arrived duration earlier', () => {
    const c = run(
      [
        response({
          t: 10,
          from: `${POD}:5000`,
          to: ':0',
          id: 3,
          q: 'db.default.svc.cluster.local',
          source: 'log',
          durationMs: 2,
          vantage: 'coredns',
          addrs: -1,
        }),
      ],
      [],
      vantages(['coredns', 'dns-server']),
    )
    expect(c.transactions).toHaveLength(1)
    expect(c.transactions[0].firstSent).toBe(1_700_000_000_000_000 + 8000)
    expect(c.transactions[0].latencyUs).toBe(2000)
  })

  it('a server answer stamped after the client re-asked still answers the first ask', () => {
    // SERVFAIL, then glibc re-asks at once with the same id; the server's clock stamps its first
    // answer a little after the pod saw the second query leave.
    const vs = vantages(['pod', 'pod'], ['coredns', 'dns-server'])
    const from = `${POD}:5000`
    const at = { vantage: 'coredns', source: 'dnstap' as const }
    const c = run(
      [
        query({ t: 0, from, to: `${SVC}:53`, id: 4, q: 'x.example', vantage: 'pod' }),
        query({
          t: 0.05,
          from,
          to: `${COREDNS}:53`,
          id: 4,
          q: 'x.example',
          ...at,
          dnstapType: 'CLIENT_QUERY',
        }),
        response({
          t: 0.2,
          from: `${SVC}:53`,
          to: from,
          id: 4,
          q: 'x.example',
          rcode: 2,
          vantage: 'pod',
        }),
        query({ t: 0.21, from, to: `${SVC}:53`, id: 4, q: 'x.example', vantage: 'pod' }),
        response({
          t: 0.22,
          from: `${COREDNS}:53`,
          to: from,
          id: 4,
          q: 'x.example',
          rcode: 2,
          ...at,
          dnstapType: 'CLIENT_RESPONSE',
        }),
        query({
          t: 0.25,
          from,
          to: `${COREDNS}:53`,
          id: 4,
          q: 'x.example',
          ...at,
          dnstapType: 'CLIENT_QUERY',
        }),
        response({
          t: 0.3,
          from: `${COREDNS}:53`,
          to: from,
          id: 4,
          q: 'x.example',
          rcode: 2,
          ...at,
          dnstapType: 'CLIENT_RESPONSE',
        }),
        response({
          t: 0.4,
          from: `${SVC}:53`,
          to: from,
          id: 4,
          q: 'x.example',
          rcode: 2,
          vantage: 'pod',
        }),
      ],
      [],
      vs,
    )
    expect(c.transactions).toHaveLength(2)
    expect(c.transactions.map((t) => t.hops.map((h) => `${h.vantage}:${h.what}`))).toEqual([
      ['pod:query', 'coredns:query', 'pod:response', 'coredns:response'],
      ['pod:query', 'coredns:query', 'coredns:response', 'pod:response'],
    ])
  })

  it('does not count the second copy of one packet in a tcpdump -i any capture as a send', () => {
    const q = query({
      t: 0,
      from: `${POD}:5000`,
      to: `${SVC}:53`,
      id: 8,
      q: 'y.example',
      vantage: 'node',
    })
    const dnat = {
      ...query({
        t: 0.01,
        from: `${POD}:5000`,
        to: `${COREDNS}:53`,
        id: 8,
        q: 'y.example',
        vantage: 'node',
      }),
      copyOf: q.ref,
    }
    const c = run([q, dnat], [], vantages(['node', 'node']))
    expect(c.transactions).toHaveLength(1)
    expect(c.stats.clientQueries).toBe(1)
    expect(c.transactions[0].hops.map((h) => h.what)).toEqual(['query', 'query'])
  })

  it('keeps glibc single-request re-asks after a timeout in the same lookup', () => {
    // A lost; after 5 s glibc asks A again (answered), then AAAA again with its old id.
    const from = `${POD}:5000`
    const to = `${SVC}:53`
    const q = 'svc-03.default.svc.cluster.local'
    const c = run(
      [
        query({ t: 0, from, to, id: 1, q }),
        query({ t: 0.01, from, to, id: 2, q, type: 'AAAA' }),
        response({ t: 0.5, from: to, to: from, id: 2, q, type: 'AAAA' }),
        query({ t: 5000, from, to, id: 1, q }),
        response({ t: 5000.4, from: to, to: from, id: 1, q, addrs: 1 }),
        query({ t: 5000.5, from, to, id: 2, q, type: 'AAAA' }),
        response({ t: 5000.9, from: to, to: from, id: 2, q, type: 'AAAA' }),
      ],
      [kubeResolv],
    )
    expect(c.transactions).toHaveLength(3)
    expect(c.stats.clientQueries).toBe(4)
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'svc-03', outcome: 'address' })
  })

  it('an address whose AAAA sibling timed out is dropped when the re-ask fails: glibc moves on', () => {
    // A answered at once, AAAA lost; glibc re-asks A (lost twice) and then tries the next candidate.
    const from = `${POD}:5000`
    const to = `${SVC}:53`
    const q = 'svc-23.default.svc.cluster.local'
    const c = run(
      [
        query({ t: 0, from, to, id: 1, q }),
        query({ t: 0.01, from, to, id: 2, q, type: 'AAAA' }),
        response({ t: 0.1, from: to, to: from, id: 1, q, addrs: 1 }),
        query({ t: 5000, from, to, id: 1, q }),
        query({ t: 10000, from, to, id: 1, q }),
        query({ t: 15000, from: `${POD}:5001`, to, id: 3, q: 'svc-23' }),
        query({ t: 15000.1, from: `${POD}:5001`, to, id: 4, q: 'svc-23', type: 'AAAA' }),
        response({ t: 15001, from: to, to: `${POD}:5001`, id: 3, q: 'svc-23', rcode: 3 }),
        response({
          t: 15001.1,
          from: to,
          to: `${POD}:5001`,
          id: 4,
          q: 'svc-23',
          type: 'AAAA',
          rcode: 3,
        }),
      ],
      [kubeResolv],
    )
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'svc-23', outcome: 'timeout', wasted: 0 })
    expect(c.lookups[0].transactions).toHaveLength(5)
  })

  it('keeps the address of the last attempt even when its AAAA never came back', () => {
    const from = `${POD}:5000`
    const to = `${SVC}:53`
    const q = 'svc-22.default.svc.cluster.local'
    const c = run(
      [
        query({ t: 0, from, to, id: 1, q }),
        response({ t: 0.1, from: to, to: from, id: 1, q, addrs: 1 }),
        query({ t: 0.1, from, to, id: 2, q, type: 'AAAA' }),
        query({ t: 5004, from, to, id: 1, q }),
        query({ t: 10009.4, from, to, id: 1, q }),
        response({ t: 10009.6, from: to, to: from, id: 1, q, addrs: 1 }),
        query({ t: 10009.6, from, to, id: 2, q, type: 'AAAA' }),
      ],
      [kubeResolv],
    )
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'svc-22', outcome: 'address' })
    expect(c.lookups[0].transactions).toHaveLength(3)
  })

  it('groups musl lookups: A and AAAA in parallel, only the unanswered question re-sent', () => {
    // musl sends both questions at once from one socket and, every timeout/attempts seconds,
    // re-sends only those still unanswered, with the same id; it stops at the first candidate
    // that answers. Here AAAA's first copy is lost and its re-send after 2.5 s is answered.
    const from = `${POD}:45000`
    const to = `${SVC}:53`
    const q = 'web.default.svc.cluster.local'
    const c = run(
      [
        query({ t: 0, from, to, id: 100, q }),
        query({ t: 0.02, from, to, id: 101, q, type: 'AAAA' }),
        response({ t: 0.4, from: to, to: from, id: 100, q, addrs: 1 }),
        query({ t: 2500, from, to, id: 101, q, type: 'AAAA' }),
        response({ t: 2500.4, from: to, to: from, id: 101, q, type: 'AAAA' }),
      ],
      [kubeResolv],
    )
    expect(c.transactions.map((t) => [t.qtype, t.copies])).toEqual([
      [1, 1],
      [28, 2],
    ])
    expect(c.stats.clientQueries - c.transactions.length).toBe(1)
    expect(c.lookups).toHaveLength(1)
    expect(c.lookups[0]).toMatchObject({ name: 'web', outcome: 'address', wasted: 0 })
  })
})

describe('replicas of the DNS server', () => {
  // Two CoreDNS pods behind the Service, as `dnsbundle collect` takes them: a log (or dnstap) per
  // pod, each its own dns-server vantage. Each query copy reaches one of them.
  const REPLICA_A = '10.244.2.3'
  const REPLICA_B = '10.244.3.4'
  const vs = vantages(['pod', 'pod'], ['dns-a', 'dns-server'], ['dns-b', 'dns-server'])
  /** The same, with each replica's address as `collect` writes it into the manifest. */
  const named = () => {
    const m = new Map(vs)
    m.set('dns-a', { ...vs.get('dns-a')!, addresses: [REPLICA_A] })
    m.set('dns-b', { ...vs.get('dns-b')!, addresses: [REPLICA_B] })
    return m
  }
  /** A CoreDNS log line at `vantage`: POD:port asked `q` (id) and was answered after 1 ms. */
  const logLine = (t: number, vantage: string, id: number, q: string, port = 5000) =>
    response({
      t,
      from: `${POD}:${port}`,
      to: ':0',
      id,
      q,
      source: 'log',
      durationMs: 1,
      vantage,
      addrs: 1,
    })
  const tapQuery = (t: number, vantage: string, server: string, id: number, q: string) =>
    query({
      t,
      from: `${POD}:5000`,
      to: `${server}:53`,
      id,
      q,
      vantage,
      source: 'dnstap',
      dnstapType: 'CLIENT_QUERY',
    })
  const tapAnswer = (t: number, vantage: string, server: string, id: number, q: string) =>
    response({
      t,
      from: `${server}:53`,
      to: `${POD}:5000`,
      id,
      q,
      vantage,
      source: 'dnstap',
      dnstapType: 'CLIENT_RESPONSE',
      addrs: 1,
    })
  /** Everyday traffic: each replica answers its own share (other names, other ids). */
  const background = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      logLine(100 * i, i % 2 ? 'dns-b' : 'dns-a', 1000 + i, `svc-${i}.default.svc.cluster.local`),
    )
  const keyed = (c: ReturnType<typeof run>, q: string) =>
    c.transactions.filter((t) => t.qname === q + '.')

  it('a same-id query answered at one replica and then asked at the other is asked twice', () => {
    // One replica's log alone makes the second line a new transaction (its vantage saw the
    // answer); two replicas' logs must say the same, not fold the two into one copy.
    const q = 'x.default.svc.cluster.local'
    const c = run(
      [...background(20), logLine(510, 'dns-a', 7, q), logLine(1510, 'dns-b', 7, q)],
      [],
      vs,
    )
    expect(keyed(c, q).map((t) => [t.copies, t.answered, t.lastSeen])).toEqual([
      [1, true, 'dns-a'],
      [1, true, 'dns-b'],
    ])
    expect(c.stats.clientQueries).toBe(22)
    expect(c.transactions).toHaveLength(22)
    const one = run(
      [...background(20), logLine(510, 'dns-a', 7, q), logLine(1510, 'dns-a', 7, q)],
      [],
      vs,
    )
    expect(one.stats.clientQueries).toBe(c.stats.clientQueries)
  })

  it('a resend that reaches the other replica while the first is unanswered is a retransmit', () => {
    // Replica A never answers; the client (NodeLocal DNSCache, CoreDNS forward) resends the same
    // id and it reaches replica B, which answers: one transaction, two sends.
    const q = 'slow.default.svc.cluster.local'
    const c = run(
      [
        ...background(20),
        tapQuery(500, 'dns-a', REPLICA_A, 9, q),
        tapQuery(2500, 'dns-b', REPLICA_B, 9, q),
        tapAnswer(2501, 'dns-b', REPLICA_B, 9, q),
      ],
      [],
      vs,
    )
    const [t] = keyed(c, q)
    expect(keyed(c, q)).toHaveLength(1)
    expect([t.copies, t.answered, t.lastSeen, t.latencyUs]).toEqual([2, true, 'dns-b', 1000])
    expect(t.hops.map((h) => [h.vantage, h.what])).toEqual([
      ['dns-a', 'query'],
      ['dns-b', 'retransmit'],
      ['dns-b', 'response'],
    ])
    expect(c.stats.clientQueries - c.transactions.length).toBe(1)
  })

  it('two recorders of one replica (its log and its dnstap) are one point, not two replicas', () => {
    // Every query is in both files: each is one send, seen twice.
    const events = Array.from({ length: 10 }, (_, i) => {
      const q = `svc-${i}.default.svc.cluster.local`
      return [
        tapQuery(100 * i, 'dns-a-tap', REPLICA_A, 2000 + i, q),
        tapAnswer(100 * i + 1, 'dns-a-tap', REPLICA_A, 2000 + i, q),
        logLine(100 * i + 1, 'dns-a-log', 2000 + i, q),
      ]
    }).flat()
    // And a name asked twice with one id, 30 ms apart, by the same client: a retransmit.
    const q = 'again.default.svc.cluster.local'
    events.push(tapQuery(2000, 'dns-a-tap', REPLICA_A, 77, q), logLine(2000.5, 'dns-a-log', 77, q))
    const c = run(events, [], vantages(['dns-a-tap', 'dns-server'], ['dns-a-log', 'dns-server']))
    expect(c.transactions).toHaveLength(11)
    expect(c.transactions.every((t) => t.copies === 1 && t.answered)).toBe(true)
    expect(c.stats.clientQueries).toBe(11)
  })

  it('takes the replicas the manifest names (a vantage per pod, with its address) without a first look', () => {
    // Without other traffic the two logs look alike (each saw all the other saw in its time):
    // only the collector's names say these are two pods.
    const q = 'x.default.svc.cluster.local'
    const events = [logLine(510, 'dns-a', 7, q), logLine(1510, 'dns-b', 7, q)]
    const both = named()
    expect(run(events, [], both).transactions.map((t) => t.lastSeen)).toEqual(['dns-a', 'dns-b'])
    // Two vantages with one address are one pod: its log and its dnstap, say.
    both.set('dns-b', { ...vs.get('dns-b')!, addresses: [REPLICA_A] })
    expect(run(events, [], both).transactions).toHaveLength(1)
  })

  it('compares at most 64 server vantages (a hostile dnstap file can name one per frame)', () => {
    // 60,000 identities, one query each with one key: comparing them pairwise would take 60,000²
    // counters; past 64 they are points on one path, as before replicas were told apart.
    const q = 'many.default.svc.cluster.local'
    const many = vantages(
      ...Array.from(
        { length: 60_000 },
        (_, i) => [`tap-${i}`, 'dns-server'] as [string, 'dns-server'],
      ),
    )
    const c = run(
      Array.from({ length: 60_000 }, (_, i) => tapQuery(i / 10, `tap-${i}`, REPLICA_A, 3, q)),
      [],
      many,
    )
    expect(c.transactions.map((t) => [t.copies, t.vantageCount])).toEqual([[1, 60_000]])
  })

  it('a key resent 5,000 times between two replicas is one transaction of 5,000 sends', () => {
    const q = 'storm.default.svc.cluster.local'
    const c = run(
      Array.from({ length: 5000 }, (_, i) =>
        i % 2 ? tapQuery(i, 'dns-b', REPLICA_B, 4, q) : tapQuery(i, 'dns-a', REPLICA_A, 4, q),
      ),
      [],
      named(),
    )
    expect(c.transactions.map((t) => t.copies)).toEqual([5000])
    expect(c.stats.clientQueries).toBe(5000)
  })

  it("with the pod's capture, a resend answered by the other replica after a lost answer is one transaction", () => {
    const q = 'lost.default.svc.cluster.local'
    const ask = (t: number) => query({ t, from: `${POD}:5000`, to: `${SVC}:53`, id: 5, q })
    const c = run(
      [
        ...background(20),
        ask(500),
        tapQuery(500.2, 'dns-a', REPLICA_A, 5, q),
        tapAnswer(500.3, 'dns-a', REPLICA_A, 5, q),
        ask(5500),
        tapQuery(5500.2, 'dns-b', REPLICA_B, 5, q),
        tapAnswer(5500.3, 'dns-b', REPLICA_B, 5, q),
        response({ t: 5500.5, from: `${SVC}:53`, to: `${POD}:5000`, id: 5, q, addrs: 1 }),
      ],
      [],
      vs,
    )
    const [t] = keyed(c, q)
    expect(keyed(c, q)).toHaveLength(1)
    expect([t.copies, t.answered, t.lastSeen]).toEqual([2, true, 'pod'])
  })
})
