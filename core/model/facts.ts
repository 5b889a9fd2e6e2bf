// Node and config facts by type. A bundle can hold hundreds of thousands of facts (`conntrack -L`
// of a full table is 262,144 entries) while a rule wants a few of one type: each rule scanning
// every fact was a pass over all of them per rule. They are indexed by type once per list.
import type { FactEvent } from './event.js'

export type FactType = FactEvent['fact']['type']
/** A fact event whose fact is of type T. */
export type FactOf<T extends FactType> = FactEvent & {
  fact: Extract<FactEvent['fact'], { type: T }>
}

interface FactIndex {
  /** The list's length when indexed: a list that has grown since is indexed again. */
  length: number
  at: Map<FactType, number[]>
}

const indexes = new WeakMap<readonly FactEvent[], FactIndex>()

/** The facts of the given types, in the list's order. */
export function factsOf<T extends FactType>(
  facts: readonly FactEvent[],
  ...types: T[]
): FactOf<T>[] {
  let index = indexes.get(facts)
  if (!index || index.length !== facts.length) {
    const at = new Map<FactType, number[]>()
    facts.forEach((e, i) => {
      const list = at.get(e.fact.type)
      if (list) list.push(i)
      else at.set(e.fact.type, [i])
    })
    indexes.set(facts, (index = { length: facts.length, at }))
  }
  const { at } = index
  const positions =
    types.length === 1
      ? (at.get(types[0]) ?? [])
      : types.flatMap((t) => at.get(t) ?? []).sort((a, b) => a - b)
  return positions.map((i) => facts[i] as FactOf<T>)
}
