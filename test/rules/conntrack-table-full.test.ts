// conntrack-table-full. The kernel lines mirror corpus/node/kernel-log/wballard-starphleet-352_dmesg_nf_conntrack-table-full_wrapped.txt
// ("nf_conntrack: table full, dropping packet", 5 times); the counts are nf_conntrack_count /
// nf_conntrack_max as /proc/sys/net/netfilter prints them.
import { expect } from 'vitest'
import { conntrackTableFull } from '../../core/rules/conntrack-table-full.js'
import { ctx, fact } from './context.js'
import { ruleTable } from './table.js'

const dmesg = () =>
  [
    '38775494.392631',
    '38775494.393661',
    '38775494.494836',
    '38775494.495169',
    '38775494.495196',
  ].map((t) =>
    fact({
      type: 'conntrack-table-full',
      line: `kernel: [${t}] nf_conntrack: table full, dropping packet`,
    }),
  )
const count = (n: number, max = 262144) => fact({ type: 'conntrack-count', count: n, max })

ruleTable(conntrackTableFull, {
  fires: [
    {
      name: 'the dmesg lines alone',
      ctx: () => ctx({ events: dmesg() }),
      expect: (f) => {
        expect(f.confidence).toBe(0.85)
        expect(f.severity).toBe('critical')
        expect(f.data.tableFullLines).toBe(5)
        expect(f.data.usage).toBeNull()
      },
    },
    {
      name: 'dmesg lines and the table at 99%',
      ctx: () => ctx({ events: [...dmesg(), count(260000)] }),
      expect: (f) => {
        expect(f.confidence).toBe(0.95)
        expect(f.data.usage).toBeCloseTo(0.9918, 4)
        expect(f.data.suggestedMax).toBe(524288)
        expect(f.mitigation).toContain('sysctl -w net.netfilter.nf_conntrack_max=524288')
      },
    },
    {
      name: 'the table at 85%, no kernel line: a warning',
      ctx: () => ctx({ events: [count(222822)] }),
      expect: (f) => {
        expect(f.severity).toBe('warning')
        expect(f.confidence).toBe(0.4)
      },
    },
  ],
  quiet: [
    { name: 'the table half full', ctx: () => ctx({ events: [count(131072)] }) },
    {
      name: 'a count without a max',
      ctx: () => ctx({ events: [fact({ type: 'conntrack-count', count: 90 })] }),
    },
    { name: 'nothing about conntrack', ctx: () => ctx() },
  ],
})
