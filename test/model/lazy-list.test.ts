// A lazy list reads as the array of the same elements to every kind of reader, and makes only the
// elements that are read.
import { describe, expect, it } from 'vitest'
import { lazyList } from '../../core/model/lazy-list.js'

interface Item {
  i: number
}

/** A lazy list of n items and the indexes it has made so far, in order of making. */
function counted(n: number): { list: Item[]; made: number[] } {
  const made: number[] = []
  const list = lazyList<Item>(n, (i) => {
    made.push(i)
    return { i }
  })
  return { list, made }
}

const eager = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ i }))

describe('lazyList', () => {
  it('makes an element on its first read only, and gives the same object afterwards', () => {
    const { list, made } = counted(1000)
    expect(list.length).toBe(1000)
    expect(made).toEqual([])
    const a = list[7]
    expect(a).toEqual({ i: 7 })
    expect(list[7]).toBe(a)
    expect(list[999].i).toBe(999)
    expect(made).toEqual([7, 999])
  })

  it('has nothing outside 0..n-1, and answers `in` for every index without making it', () => {
    const { list, made } = counted(3)
    expect(list[3]).toBeUndefined()
    expect(list[-1]).toBeUndefined()
    expect((list as unknown as Record<string, unknown>)['1.5']).toBeUndefined()
    expect(0 in list && 2 in list).toBe(true)
    expect(3 in list).toBe(false)
    expect(made).toEqual([])
  })

  it('reads as the eager array to iteration, the Array methods, spreading and JSON', () => {
    const n = 50
    const { list } = counted(n)
    const want = eager(n)
    expect(Object.keys(list)).toEqual(Object.keys(want))
    expect([...list]).toEqual(want)
    expect(Array.isArray(list)).toBe(true)
    expect(list.map((x) => x.i * 2)).toEqual(want.map((x) => x.i * 2))
    expect(list.filter((x) => x.i % 7 === 0)).toEqual(want.filter((x) => x.i % 7 === 0))
    expect(list.some((x) => x.i === n - 1)).toBe(true)
    expect(list.every((x) => x.i < n)).toBe(true)
    expect(list.reduce((s, x) => s + x.i, 0)).toBe((n * (n - 1)) / 2)
    expect(list.slice(10, 13)).toEqual(want.slice(10, 13))
    expect(list.findIndex((x) => x.i === 30)).toBe(30)
    expect(JSON.stringify(list)).toBe(JSON.stringify(want))
    let seen = 0
    list.forEach((x, i) => {
      expect(x.i).toBe(i)
      seen++
    })
    expect(seen).toBe(n)
  })

  it('an element the reader changed stays changed', () => {
    const { list } = counted(4)
    list[2].i = 42
    expect(list.map((x) => x.i)).toEqual([0, 1, 42, 3])
  })

  it('an empty list is an empty array', () => {
    const { list, made } = counted(0)
    expect(list.length).toBe(0)
    expect([...list]).toEqual([])
    expect(list[0]).toBeUndefined()
    expect(made).toEqual([])
  })
})

describe('lazyList as a target of writes', () => {
  it('keeps an element written in place of one not yet made, and refuses another length', () => {
    const { list, made } = counted(5)
    list[3] = { i: 33 }
    expect(list[3]).toEqual({ i: 33 })
    expect(made).toEqual([])
    expect(list.map((x) => x.i)).toEqual([0, 1, 2, 33, 4])
    expect(() => {
      'use strict'
      ;(list as { length: number }).length = 2
    }).toThrow(TypeError)
    expect(list.length).toBe(5)
  })
})
