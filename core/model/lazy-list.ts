// An array whose elements are made on first read. The correlator's transactions and lookups are
// views of column stores: half a million of them cost more to allocate and to carry through the
// garbage collector than the analysis spends on reading them, and the hot loops read the columns
// anyway. Handed out as a lazy list, only the few a rule cites or a report shows are ever made.

/**
 * A list of `n` elements, element i being `make(i)`, made when first read and kept (the same
 * object on every read). It behaves as an array for every reader: indexing, `length`, `in`,
 * `Object.keys`, iteration and the Array.prototype methods. Reading every element is slower than
 * from an array, so code that reads all of them should read what they are views of instead.
 */
export function lazyList<T extends object>(n: number, make: (i: number) => T): T[] {
  // The elements made so far. Not an array of n holes: that alone costs milliseconds for half a
  // million, and few are ever made.
  const made = new Map<number, T>()
  const indexOf = (key: string | symbol): number => {
    if (typeof key !== 'string') return -1
    // Array indexes reach a proxy as strings: "0", "1"... Nothing else parses to an index in range
    // that an array reader would ask for.
    const i = Number(key)
    return key.length > 0 && i >>> 0 === i && i < n ? i : -1
  }
  const at = (i: number): T => {
    let x = made.get(i)
    if (x === undefined) made.set(i, (x = make(i)))
    return x
  }
  // The target is an empty array, so that the list is one (Array.isArray, JSON); its length and
  // elements are answered here.
  return new Proxy<T[]>([], {
    get(target, key, receiver) {
      if (key === 'length') return n
      const i = indexOf(key)
      return i >= 0 ? at(i) : Reflect.get(target, key, receiver)
    },
    set(target, key, value, receiver) {
      const i = indexOf(key)
      if (i < 0) return key === 'length' ? value === n : Reflect.set(target, key, value, receiver)
      made.set(i, value as T)
      return true
    },
    // Array.prototype methods (map, filter, some, slice...) skip the holes of an array: every
    // index is there, whether made yet or not.
    has(target, key) {
      return indexOf(key) >= 0 || Reflect.has(target, key)
    },
    ownKeys(target) {
      const keys: (string | symbol)[] = Array.from({ length: n }, (_, i) => String(i))
      for (const k of Reflect.ownKeys(target)) if (indexOf(k) < 0) keys.push(k)
      return keys
    },
    getOwnPropertyDescriptor(target, key) {
      const i = indexOf(key)
      if (i >= 0) return { value: at(i), writable: true, enumerable: true, configurable: true }
      const d = Reflect.getOwnPropertyDescriptor(target, key)
      return key === 'length' && d ? { ...d, value: n } : d
    },
  })
}
