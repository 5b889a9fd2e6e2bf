// The seed's procedure: failure frequency and scope, the talk's two tables, and the verdict over
// all rules, on contexts shaped like the lab scenarios of issue 4 (drop on the node, upstream
// blackholed, resolver CPU-limited under load, ndots, typo names, healthy).
import { describe, expect, it } from 'vitest'
import type { Vantage } from '../../core/model/bundle.js'
import type { Transaction } from '../../core/correlate/types.js'
import type { Event } from '../../core/model/event.js'
import { runRules } from '../../core/rules/index.js'
import { failurePattern, FREQUENCY_TABLE, SCOPE_TABLE } from '../../core/rules/verdict.js'
import { reportFindings } from '../../core/report/findings.js'
import type { RuleContext } from '../../core/rules/rule.js'
import { ctx, drop, fact, fwd, lookup, tx, VANTAGES } from './context.js'

function analyze(c: RuleContext) {
  const { findings, problems } = runRules(c)
  expect(problems).toEqual([])
  return reportFindings({
    fired: findings,
    inputs: c.inputs,
    correlation: c.correlation,
    vantages: c.vantages,
  })
}

/** `seconds` seconds of `perSecond(s)` queries; `fails(s, i)` decides which go unanswered. */
function traffic(
  seconds: number,
  perSecond: (s: number) => number,
  fails: (s: number, i: number) => boolean,
  client = (_i: number) => '10.0.0.5',
): Transaction[] {
  const out: Transaction[] = []
  for (let s = 0; s < seconds; s++)
    for (let i = 0; i < perSecond(s); i++)
      out.push(
        tx({
          client: client(i),
          clientPort: 30000 + out.length,
          qname: `svc${i}.default.svc.cluster.local.`,
          at: s * 1e6 + i * 1000,
          latencyMs: fails(s, i) ? null : 1,
          path: ['pod-a', 'node-a', 'coredns'],
          replyPath: ['coredns', 'node-a', 'pod-a'],
        }),
      )
  return out
}

describe('failurePattern', () => {
  it('no failure: none', () => {
    const p = failurePattern(
      ctx({
        transactions: traffic(
          10,
          () => 5,
          () => false,
        ),
      }).correlation,
      VANTAGES,
    )
    expect(p).toMatchObject({
      frequency: 'none',
      scope: 'none',
      failures: 0,
      frequencyRow: null,
      scopeRow: null,
    })
  })
  it('failures in most seconds at steady load: always', () => {
    const p = failurePattern(
      ctx({
        transactions: traffic(
          10,
          () => 10,
          (s, i) => i === 3 && s !== 4,
        ),
      }).correlation,
      VANTAGES,
    )
    expect(p.frequency).toBe('always')
    expect(p.failingSeconds).toBe(9)
    expect(p.frequencyRow).toBe(FREQUENCY_TABLE.always)
    expect(p.frequencyRow?.possibleCauses).toEqual(['config error', 'network issue'])
  })
  it('failure rate climbing with load: only at peaks', () => {
    const p = failurePattern(
      ctx({
        transactions: traffic(
          12,
          (s) => (s % 4 === 3 ? 40 : 8),
          (s, i) => s % 4 === 3 && i % 4 === 0,
        ),
      }).correlation,
      VANTAGES,
    )
    expect(p.frequency).toBe('peaks')
    expect(p.frequencyRow?.answer).toBe('Only on peak hours')
  })
  it('a few failing seconds, unrelated to load: intermittently', () => {
    const p = failurePattern(
      ctx({
        transactions: traffic(
          20,
          () => 10,
          (s, i) => (s === 3 || s === 14) && i === 0,
        ),
      }).correlation,
      VANTAGES,
    )
    expect(p.frequency).toBe('intermittent')
    expect(p.frequencyRow?.next).toContain('check kernel version')
  })
  it('scope by nodes when the vantages name them, else by clients', () => {
    const vantages: Vantage[] = [
      ...VANTAGES,
      { id: 'pod-b', type: 'pod', name: 'pod-b', node: 'node-b', addresses: ['10.0.1.5'] },
      { id: 'pod-c', type: 'pod', name: 'pod-c', node: 'node-c', addresses: ['10.0.2.5'] },
    ]
    const onPods = (failingPods: string[]) =>
      ['pod-a', 'pod-b', 'pod-c'].flatMap((pod, k) =>
        Array.from({ length: 6 }, (_, i) =>
          tx({
            client: `10.0.${k}.5`,
            clientPort: 1000 + i,
            qname: `n${i}.example.com.`,
            at: i * 1e6,
            path: [pod],
            latencyMs: failingPods.includes(pod) && i % 2 ? null : 1,
          }),
        ),
      )
    const some = failurePattern(
      ctx({ transactions: onPods(['pod-b']), vantages }).correlation,
      vantages,
    )
    expect(some).toMatchObject({ scope: 'some-nodes', nodes: { failing: 1, total: 3 } })
    expect(some.scopeRow).toBe(SCOPE_TABLE['some-nodes'])
    const all = failurePattern(
      ctx({ transactions: onPods(['pod-a', 'pod-b', 'pod-c']), vantages }).correlation,
      vantages,
    )
    expect(all.scope).toBe('whole-cluster')
    expect(all.scopeRow?.possibleCauses).toEqual([
      'misconfig at server-side',
      'kubernetes apiserver issue',
    ])

    const noNodes: Vantage[] = [{ id: 'cap', type: 'unknown', name: 'cap', addresses: [] }]
    const byClient = traffic(
      5,
      () => 5,
      (_s, i) => i === 0,
      (i) => `10.0.0.${i}`,
    ).map((t) => ({ ...t, hops: t.hops.map((h) => ({ ...h, vantage: 'cap' })) }))
    expect(
      failurePattern(ctx({ transactions: byClient, vantages: noNodes }).correlation, noNodes),
    ).toMatchObject({ scope: 'some-pods', clients: { failing: 1, total: 5 } })
    const single = traffic(
      5,
      () => 5,
      (_s, i) => i === 0,
    ).map((t) => ({ ...t, hops: t.hops.map((h) => ({ ...h, vantage: 'cap' })) }))
    expect(
      failurePattern(ctx({ transactions: single, vantages: noNodes }).correlation, noNodes).scope,
    ).toBe('single-client')
  })
})

describe('verdict on lab-shaped scenarios', () => {
  const nodeKernel = () => [
    fact({ type: 'kernel', release: '6.1.0-18-amd64' }),
    fact({ type: 'conntrack-stats', perCpu: [], totals: { insert_failed: 0, drop: 0 } }),
  ]

  it('drop on the node: packet-drop, at the node', () => {
    const tr = traffic(
      30,
      () => 8,
      (s, i) => (s * 8 + i) % 10 === 0,
    )
    const events: Event[] = [...nodeKernel()]
    for (const t of tr)
      if (t.response === null) {
        const d = drop(
          `${t.client}:${t.clientPort}`,
          `${t.server}:53`,
          'ipt_do_table',
          'NETFILTER_DROP',
          { time: t.firstSent + 50 },
        )
        t.drop = d
        t.hops = t.hops.filter((h) => h.vantage !== 'coredns')
        t.lastSeen = 'node-a'
        events.push(d)
      }
    const r = analyze(ctx({ transactions: tr, events }))
    expect(r.verdict).toMatchObject({ findingId: 'packet-drop', confidence: 0.95 })
    const f = r.findings[r.verdict!.findingIndex!]
    expect(f.id).toBe('packet-drop')
    expect(f.data.lastSeen).toEqual([{ vantage: 'node-a', count: 24 }])
    expect(f.data.neverReached).toEqual([{ vantage: 'coredns', count: 24 }])
    expect(r.findings.map((x) => x.id)).not.toContain('conntrack-race') // insert_failed 0, kernel 6.1
  })

  it('upstream blackholed: upstream-failure', () => {
    const names = Array.from({ length: 20 }, (_, i) => `site${i}.example.com.`)
    const tr = names.map((n, i) =>
      tx({
        qname: n,
        at: i * 500_000,
        rcode: 2,
        latencyMs: 2000,
        path: ['pod-a', 'node-a', 'coredns'],
        replyPath: ['coredns', 'node-a', 'pod-a'],
      }),
    )
    const r = analyze(
      ctx({
        transactions: tr,
        forwarder: names.map((n, i) => fwd({ qname: n, at: i * 500_000 + 200, answered: false })),
      }),
    )
    expect(r.verdict?.findingId).toBe('upstream-failure')
    expect(r.pattern.frequency).toBe('always')
  })

  it('resolver CPU-limited under load: cpu-starvation, over the packet drops it causes', () => {
    const tr = traffic(
      10,
      (s) => 10 + 10 * s,
      (s, i) => s >= 6 && i % 5 === 0,
    ).map((t) => {
      const s = Math.floor((t.firstSent - tr0) / 1e6)
      if (t.response) return { ...t, latencyUs: (1 + s * s) * 1000 }
      return t
    })
    const events: Event[] = [
      fact({ type: 'cpu-limit', container: 'unbound', millicores: 100 }, { vantage: 'coredns' }),
      ...nodeKernel(),
    ]
    for (const t of tr)
      if (t.response === null) {
        const d = drop(
          `${t.client}:${t.clientPort}`,
          '10.96.0.10:53',
          'skb:kfree_skb',
          'SOCKET_RCVBUFF',
          { vantage: 'coredns', time: t.firstSent + 80 },
        )
        t.drop = d
        t.hops = t.hops.filter((h) => h.vantage !== 'coredns')
        t.lastSeen = 'node-a'
        events.push(d)
      }
    const r = analyze(ctx({ transactions: tr, events }))
    expect(r.verdict?.findingId).toBe('cpu-starvation')
    expect(r.alternatives.map((a) => a.findingId)).toContain('packet-drop')
    expect(r.pattern.frequency).toBe('peaks')
  })

  it('ndots: ndots-amplification', () => {
    const tr = []
    const lookups = []
    for (let k = 0; k < 10; k++) {
      const first = tr.length
      for (const s of ['default.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.', ''])
        for (const qtype of [1, 28])
          tr.push(
            tx({
              qname: `api${k}.example.com.${s}`,
              qtype,
              at: k * 1e6 + tr.length * 100,
              rcode: s ? 3 : 0,
              answerAddrs: s ? 0 : qtype === 1 ? 1 : 0,
            }),
          )
      lookups.push(
        lookup({
          name: `api${k}.example.com`,
          transactions: Array.from({ length: 8 }, (_, i) => first + i),
          wasted: 6,
          answeredName: `api${k}.example.com.`,
        }),
      )
    }
    const r = analyze(ctx({ transactions: tr, lookups }))
    expect(r.verdict?.findingId).toBe('ndots-amplification')
    expect(r.findings.map((f) => f.id).sort()).toEqual(['aaaa-waste', 'ndots-amplification'])
  })

  it('typo names: nxdomain-storm', () => {
    const tr = []
    const lookups = []
    for (let k = 0; k < 12; k++) {
      const typo = k % 2 === 0
      const name = typo ? `databse${k % 3}` : 'database'
      const first = tr.length
      for (const s of ['default.svc.cluster.local.', 'svc.cluster.local.', 'cluster.local.'].slice(
        0,
        typo ? 3 : 1,
      ))
        tr.push(tx({ qname: `${name}.${s}`, at: k * 1e6 + tr.length * 100, rcode: typo ? 3 : 0 }))
      lookups.push(
        lookup({
          name,
          transactions: Array.from({ length: tr.length - first }, (_, i) => first + i),
          outcome: typo ? 'nxdomain' : 'address',
        }),
      )
    }
    const r = analyze(ctx({ transactions: tr, lookups }))
    expect(r.verdict?.findingId).toBe('nxdomain-storm')
  })

  it('healthy: no critical or warning finding beyond the ndots and AAAA waste that is there', () => {
    const tr = []
    const lookups = []
    for (let k = 0; k < 10; k++) {
      const first = tr.length
      for (const qtype of [1, 28])
        tr.push(
          tx({
            qname: `db${k}.default.svc.cluster.local.`,
            qtype,
            at: k * 1e6 + qtype,
            answerAddrs: qtype === 1 ? 1 : 0,
          }),
        )
      lookups.push(
        lookup({
          name: `db${k}`,
          transactions: [first, first + 1],
          answeredName: `db${k}.default.svc.cluster.local.`,
        }),
      )
    }
    const r = analyze(ctx({ transactions: tr, lookups, events: nodeKernel() }))
    const loud = r.findings.filter(
      (f) => f.severity !== 'info' && !['ndots-amplification', 'aaaa-waste'].includes(f.id),
    )
    expect(loud).toEqual([])
    expect(r.pattern.frequency).toBe('none')
  })

  it('nothing fired: no verdict, no alternatives', () => {
    const r = analyze(ctx())
    expect(r).toMatchObject({ verdict: null, alternatives: [], findings: [] })
  })
})

const tr0 = 1_615_446_236_000_000
