// factsOf: the facts of some types, in the order of the list, as a filter would give them.
import { describe, expect, it } from 'vitest'
import { factsOf } from '../../core/model/facts.js'
import type { FactEvent } from '../../core/model/event.js'
import { fact } from '../rules/context.js'

const kernel = (release: string) => fact({ type: 'kernel', release })
const mode = (m: 'ipvs' | 'iptables') => fact({ type: 'kube-proxy-mode', mode: m })

describe('factsOf', () => {
  const facts: FactEvent[] = [kernel('5.4'), mode('ipvs'), kernel('5.10'), mode('iptables')]
  const filter = (...types: string[]) => facts.filter((e) => types.includes(e.fact.type))

  it('gives the facts of one type, or of several, in the order of the list', () => {
    expect(factsOf(facts, 'kernel')).toEqual(filter('kernel'))
    expect(factsOf(facts, 'kube-proxy-mode', 'kernel')).toEqual(filter('kernel', 'kube-proxy-mode'))
    expect(factsOf(facts, 'resolv-conf')).toEqual([])
  })

  it('indexes a list again when it has grown', () => {
    expect(factsOf(facts, 'kernel')).toHaveLength(2)
    facts.push(kernel('6.1'))
    expect(
      factsOf(facts, 'kernel').map((e) => (e.fact.type === 'kernel' ? e.fact.release : '')),
    ).toEqual(['5.4', '5.10', '6.1'])
  })
})
