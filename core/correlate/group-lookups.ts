// Groups wire transactions into the application lookups that caused them (glibc and musl):
// one getaddrinfo() walks the search-list candidates of a name, asking A and AAAA for each
// (in parallel on one socket, or one after the other with single-request), retrying on timeout,
// until a candidate yields an address or the list runs out.
//
// This runs once per transaction of the bundle, so it works on the transactions' fields as typed
// columns (transaction-columns.ts), with names and clients numbered; a lookup's transactions are
// a linked list through one shared array, its possible application names a run of one shared
// array, and the settled lookups are thin views over a column store instead of objects each
// holding arrays.
import type { Lookup, LookupOutcome, Transaction } from './types.js'
import { RCODE } from '../codec/dns-constants.js'
import { type ResolverConfig, candidatesOf, possibleBases, withoutRoot } from './search-list.js'
import {
  HAS_ADDRESS,
  IS_A,
  IS_AAAA,
  NO_RESPONSE,
  RESENT,
  TransactionColumns,
  lastOf,
} from './transaction-columns.js'
import { StringPool, resized } from '../model/dns-table.js'
import { lazyList } from '../model/lazy-list.js'

export const OUTCOMES: readonly LookupOutcome[] = [
  'address',
  'nxdomain',
  'nodata',
  'servfail',
  'timeout',
  'other',
]
const [ADDRESS, NXDOMAIN, NODATA, SERVFAIL, TIMEOUT, OTHER] = [0, 1, 2, 3, 4, 5]

/**
 * The settled lookups, one column per field; `next` links each lookup's transactions. A lookup's
 * client, start and end are read from its transactions' columns: few lookups are asked when they
 * started or ended (the report's worst ones), so those are worked out when asked.
 */
class LookupStore {
  constructor(
    /** The strings of the client and answered-name numbers (the transaction columns'). */
    readonly text: readonly string[],
    /** The strings of the application-name numbers. */
    readonly names: readonly string[],
    /** Per transaction: the transaction columns, and the next transaction of its lookup. */
    readonly txns: TransactionColumns,
    readonly next: Int32Array,
    readonly head: Int32Array,
    readonly name: Int32Array,
    readonly answered: Int32Array,
    readonly outcome: Uint8Array,
    readonly wasted: Int32Array,
  ) {}
}

/** The lists of lookups groupLookups handed out, and their stores. */
const listed = new WeakMap<readonly Lookup[], LookupStore>()

/**
 * The outcome (an index in OUTCOMES) and waste of each lookup of a list groupLookups returned,
 * and its transactions as a chain (`head` per lookup, then `next` per transaction, -1 ending it),
 * read from its columns without making the lookups; null for any other list.
 */
export function lookupColumnsOf(lookups: readonly Lookup[]): {
  outcome: Uint8Array
  wasted: Int32Array
  head: Int32Array
  next: Int32Array
} | null {
  const store = listed.get(lookups)
  return store
    ? { outcome: store.outcome, wasted: store.wasted, head: store.head, next: store.next }
    : null
}

/** One lookup: a view of row `index` of the store. `transactions` is built on each read. */
class GroupedLookup implements Lookup {
  // Declared and assigned rather than parameter properties: class fields would be defined
  // (Object.defineProperty) on each of hundreds of thousands of views, costing more than the
  // view. One class for every store keeps the views' shape the same from one analysis to the
  // next (a class per store would give the code reading them a new shape each time).
  declare protected readonly store: LookupStore
  declare readonly index: number

  constructor(store: LookupStore, index: number) {
    this.store = store
    this.index = index
  }
  get client(): string {
    // Every transaction of a lookup is its client's: the first one's says whose.
    return this.store.text[this.store.txns.client[this.store.head[this.index]]]
  }
  get name(): string {
    return this.store.names[this.store.name[this.index]]
  }
  get transactions(): number[] {
    const out: number[] = []
    const next = this.store.next
    for (let x = this.store.head[this.index]; x >= 0; x = next[x]) out.push(x)
    return out
  }
  get outcome(): LookupOutcome {
    return OUTCOMES[this.store.outcome[this.index]]
  }
  get wasted(): number {
    return this.store.wasted[this.index]
  }
  /** The first send of any of its transactions. */
  get start(): number {
    const { next, txns } = this.store
    let start = Infinity
    for (let x = this.store.head[this.index]; x >= 0; x = next[x])
      if (txns.sent[x] < start) start = txns.sent[x]
    return start
  }
  /** The last thing seen of any of its transactions. */
  get end(): number {
    const { next, txns } = this.store
    let end = -Infinity
    for (let x = this.store.head[this.index]; x >= 0; x = next[x]) {
      const last = lastOf(txns.sent[x], txns.lastTime[x])
      if (last > end) end = last
    }
    return end
  }
  get answeredName(): string | null {
    const a = this.store.answered[this.index]
    return a < 0 ? null : this.store.text[a]
  }
  toJSON(): Lookup {
    const { client, name, transactions, outcome, wasted, start, end, answeredName } = this
    return { client, name, transactions, outcome, wasted, start, end, answeredName }
  }
}

/**
 * Transactions must be sorted by firstSent. Sets each transaction's `lookup` index. `columns`,
 * when given, are these transactions already read (resolverConfig takes the same). `fast` false
 * sends every transaction and lookup down the general paths (tests compare the two).
 */
export function groupLookups(
  txns: readonly Transaction[],
  cfg: ResolverConfig,
  columns: TransactionColumns = new TransactionColumns(txns),
  fast = true,
): Lookup[] {
  const g = new Grouper(columns, cfg)
  const { flags, lookup, store } = columns
  if (fast) g.addAll(lookup)
  else for (let i = 0; i < txns.length; i++) if (flags[i] & (IS_A | IS_AAAA)) lookup[i] = g.add(i)
  // The store's column is the transactions' own; other objects get theirs copied.
  if (!store)
    for (let i = 0; i < txns.length; i++)
      if (flags[i] & (IS_A | IS_AAAA)) txns[i].lookup = lookup[i]
  return g.settle(fast)
}

/**
 * The grouping state: per-transaction and per-lookup columns, and the open lookups by name.
 *
 * Sets of possible application names ("bases") are runs in `runs`, each its length followed by
 * the names' numbers: each qname's, appended at its first sight, and those of lookups that a
 * question narrowed. A lookup's set is its first qname's until then.
 */
class Grouper {
  // A lookup goes quiet for at most one full retry round between candidates.
  private readonly gapUs: number
  /** The application names, numbered. */
  private readonly bases = new StringPool()
  // Starts at 1: a run's start of 0 means "none" in qnameRun and run.
  private runs = new Int32Array(1024)
  private runsEnd = 1
  /** Per qname number: the start of its bases' run, 0 until first seen. */
  private readonly qnameRun: Int32Array
  // Per transaction (the first ones are the columns').
  private readonly qname: Uint32Array
  private readonly flags: Uint8Array
  private readonly rcode: Int32Array
  private readonly rtime: Float64Array
  private readonly next: Int32Array
  // Per lookup: its first and last transaction, when it was last busy, and the start of its
  // narrowed bases' run (0: its first qname's bases). Its client is its transactions'.
  private count = 0
  private readonly head: Int32Array
  private readonly tail: Int32Array
  private readonly lastActivity: Float64Array
  private readonly run: Int32Array
  /** The open lookup of each (client, possible application name): lookups are found by name. */
  private readonly open: OpenLookups

  constructor(
    private readonly columns: TransactionColumns,
    private readonly cfg: ResolverConfig,
  ) {
    const n = columns.txns.length
    this.gapUs = (cfg.timeoutSec * cfg.attempts + 1) * 1_000_000
    this.qname = columns.qname
    this.flags = columns.flags
    this.rcode = columns.rcode
    this.rtime = columns.rtime
    this.qnameRun = new Int32Array(columns.text.length)
    // Each qname has a base of its own unless a search list maps several to one.
    this.open = new OpenLookups(columns.qnames.length)
    this.next = new Int32Array(n).fill(-1)
    // At most one lookup per A or AAAA question.
    const most = columns.questions
    this.head = new Int32Array(most)
    this.tail = new Int32Array(most)
    this.lastActivity = new Float64Array(most)
    this.run = new Int32Array(most)
  }

  /**
   * Adds every A/AAAA transaction, in order, and writes its lookup's index to `lookup`: as `add`
   * does, with the common shape worked out here. That shape is a qname that only one application
   * name can produce (always so without a search list), whose open lookup, if any, was opened by
   * a question of the same qname and never narrowed: it is the only candidate, and joining it
   * leaves its names as they are. Anything else goes to `add`.
   *
   * It runs once per analysis, so most of its cost is the time before it is optimized: the
   * common shape takes none of add's loops over bases and its narrowing, and the general path
   * stays out of this loop's optimized code until a transaction needs it.
   */
  addAll(lookup: Int32Array): void {
    const { qname, flags, qnameRun, next, head, tail, lastActivity, run, open, gapUs } = this
    const { client, sent, lastTime } = this.columns
    for (let i = 0; i < flags.length; i++) {
      const aaaa = flags[i] & IS_AAAA
      if (!(flags[i] & IS_A) && !aaaa) continue
      const q = qname[i]
      const from = qnameRun[q] || this.basesOf(q)
      // `runs` grows (is replaced) when a run is added: read it after basesOf.
      if (this.runs[from] !== 1) {
        lookup[i] = this.add(i)
        continue
      }
      const base = this.runs[from + 1]
      const c = client[i]
      const firstSent = sent[i]
      let target = open.get(c, base)
      if (target >= 0 && !(firstSent - lastActivity[target] > gapUs)) {
        if (run[target] !== 0 || qname[head[target]] !== q) {
          lookup[i] = this.add(i)
          continue
        }
        if (this.accepts(target, q, aaaa, i)) {
          next[tail[target]] = i
          tail[target] = i
        } else target = -1
      } else target = -1
      if (target < 0) {
        target = this.count++
        head[target] = tail[target] = i
        lastActivity[target] = firstSent
        open.set(c, base, target)
      }
      lastActivity[target] = Math.max(lastActivity[target], lastOf(firstSent, lastTime[i]))
      lookup[i] = target
    }
  }

  /** Adds A/AAAA transaction `i` to its lookup and returns the lookup's index. */
  add(i: number): number {
    const columns = this.columns
    const qname = this.qname[i]
    const client = columns.client[i]
    const firstSent = columns.sent[i]
    const aaaa = this.flags[i] & IS_AAAA
    const from = this.basesOf(qname)
    const to = from + 1 + this.runs[from]
    const { runs, run, lastActivity } = this
    let target = -1
    for (let k = from + 1; k < to; k++) {
      const b = runs[k]
      const o = this.open.get(client, b)
      if (o < 0) continue
      // Only a narrowed lookup can have lost the name it was opened under.
      if (firstSent - lastActivity[o] > this.gapUs || (run[o] !== 0 && !has(runs, run[o], b)))
        continue
      if ((target < 0 || lastActivity[o] > lastActivity[target]) && this.accepts(o, qname, aaaa, i))
        target = o
    }
    if (target < 0) {
      target = this.count++
      this.head[target] = this.tail[target] = i
      lastActivity[target] = firstSent
      for (let k = from + 1; k < to; k++) this.open.set(client, runs[k], target)
    } else {
      this.next[this.tail[target]] = i
      this.tail[target] = i
      const own = this.basesOfLookup(target)
      if (own !== from) {
        // Keep only the names every question of the lookup agrees on.
        const ownEnd = own + 1 + runs[own]
        let kept = 0
        for (let k = own + 1; k < ownEnd; k++) if (has(runs, from, runs[k])) kept++
        if (kept !== runs[own]) {
          const at = this.reserve(kept)
          const r = this.runs
          for (let k = own + 1, j = at + 1; k < ownEnd; k++) if (has(r, from, r[k])) r[j++] = r[k]
          run[target] = at
        }
      }
    }
    lastActivity[target] = Math.max(lastActivity[target], lastOf(firstSent, columns.lastTime[i]))
    return target
  }

  /** Where the run of bases of `qname` starts. */
  private basesOf(qname: number): number {
    let at = this.qnameRun[qname]
    if (at === 0) {
      const text = this.columns.text[qname]
      if (this.cfg.search.length === 0) {
        // Every distinct qname comes here once, most of them before this code is optimized:
        // without a search list its one base is made directly (no array), as possibleBases would.
        at = this.reserve(1)
        this.runs[at + 1] = this.bases.id(withoutRoot(text))
      } else {
        const names = possibleBases(text, this.cfg.search)
        at = this.reserve(names.length)
        for (let k = 0; k < names.length; k++) this.runs[at + 1 + k] = this.bases.id(names[k])
      }
      this.qnameRun[qname] = at
    }
    return at
  }

  /**
   * The start of the run of names that lookup `o` may have been asked for: its narrowed run, or
   * its first qname's.
   */
  private basesOfLookup(o: number): number {
    return this.run[o] || this.qnameRun[this.qname[this.head[o]]]
  }

  /** Room for a run of `length` names at the end of `runs`: returns its start, length set. */
  private reserve(length: number): number {
    const at = this.runsEnd
    if (at + 1 + length > this.runs.length) {
      const bigger = new Int32Array(Math.max(2 * this.runs.length, at + 1 + length))
      bigger.set(this.runs)
      this.runs = bigger
    }
    this.runs[at] = length
    this.runsEnd = at + 1 + length
    return at
  }

  /** The bases of `qname` as an array. */
  private basesArray(qname: number): number[] {
    const at = this.basesOf(qname)
    return Array.from(this.runs.subarray(at + 1, at + 1 + this.runs[at]))
  }

  /**
   * Is the question (qname, aaaa) of transaction `i` the next one of lookup `o`, or a new call?
   * (Its index rather than its send time: a double argument is boxed when this is not inlined.)
   */
  private accepts(o: number, qname: number, aaaa: number, i: number): boolean {
    const { next, flags, rcode, rtime } = this
    const sent = this.columns.sent[i]
    let prev = -1
    let resend = false
    // Whether the lookup asked another name: if not, only this name can have completed it, and
    // mayFollow would say yes.
    let other = false
    for (let x = this.head[o]; x >= 0; x = next[x]) {
      if (this.qname[x] !== qname) {
        other = true
        continue
      }
      if ((flags[x] & IS_AAAA) === aaaa) prev = x
      else if (flags[x] & RESENT) resend = true
    }
    if (prev < 0) {
      // A new question. After the address arrived only the sibling question of the answering
      // name may follow (single-request sends AAAA after A's answer).
      return !other || this.mayFollow(o, qname, i)
    }
    // The same question again. After a final answer (NOERROR, NXDOMAIN) that is the application
    // asking again, unless the resolver is still busy with this lookup: another of its questions
    // is unanswered (glibc re-sends the pair when one half timed out), or the sibling question
    // timed out (after a timeout glibc falls back to single-request and asks both again, the
    // answered one included, with the same ids). After SERVFAIL or REFUSED the resolver itself
    // retries.
    const rc = rcode[prev]
    if (rc === NO_RESPONSE || rtime[prev] > sent || !isFinal(rc))
      return !other || this.mayFollow(o, qname, i)
    if (resend) return true
    for (let x = this.head[o]; x >= 0; x = next[x])
      if (x !== prev && (rcode[x] === NO_RESPONSE || rtime[x] > sent)) return true
    return false
  }

  /**
   * Before the lookup has its address anything may follow; after it, only a question of the
   * name that answered (single-request asks AAAA after A's answer). `i`: the question's
   * transaction.
   */
  private mayFollow(o: number, qname: number, i: number): boolean {
    const done = this.completion(o, i)
    return done < 0 || done === qname
  }

  /**
   * The candidate name that completed the lookup by the time transaction `i` was sent, or -1: the
   * first whose questions all got a final answer by then, one of them with an address. glibc
   * waits for both answers of a pair; an address in the A answer is not used while the AAAA is
   * still out, and if the AAAA times out it moves on to the next candidate.
   */
  private completion(o: number, i: number): number {
    const { next, flags, rcode, rtime, qname } = this
    const at = this.columns.sent[i]
    const head = this.head[o]
    let best = -1
    let bestTime = 0
    for (let x = head; x >= 0; x = next[x]) {
      if (!(flags[x] & HAS_ADDRESS) || rtime[x] > at) continue
      const name = qname[x]
      if (best >= 0 && best === name) continue
      let time = rtime[x]
      let complete = true
      // The latest ask of each question of this name must be finally answered by `at`.
      for (let u = head; u >= 0 && complete; u = next[u]) {
        if (qname[u] !== name) continue
        const type = flags[u] & IS_AAAA
        let later = false
        for (let v = next[u]; v >= 0 && !later; v = next[v])
          later = qname[v] === name && (flags[v] & IS_AAAA) === type
        if (later) continue
        const rc = rcode[u]
        if (rc === NO_RESPONSE || rtime[u] > at || !isFinal(rc)) complete = false
        else if (rtime[u] > time) time = rtime[u]
      }
      if (complete && (best < 0 || time < bestTime)) {
        best = name
        bestTime = time
      }
    }
    return best
  }

  /**
   * Decides each lookup's outcome, answering name, waste and application name. `fast` false
   * sends every lookup down the general path (tests compare the two).
   *
   * It runs once per analysis, so most of its cost is the time before it is optimized. Most
   * lookups ask one name once or twice (an A and AAAA pair, or one of them), and those are
   * settled by a loop of their own: its few bytecodes cost little before it is optimized, and it
   * is optimized early. The other lookups are collected for the general loop (settleMany).
   */
  settle(fast = true): Lookup[] {
    const { next, flags, rcode, qname, head } = this
    const n = this.count
    const name = new Int32Array(n)
    const answered = new Int32Array(n)
    const outcome = new Uint8Array(n)
    const wasted = new Int32Array(n)
    // The application name of a lookup that asked one name, by that name's number.
    const nameOfOne = new Int32Array(this.columns.text.length).fill(-1)
    // The lookups for the general loop.
    const many = new Int32Array(n)
    let manyCount = 0
    for (let o = 0; o < n; o++) {
      const x = head[o]
      const y = next[x]
      if (!fast || (y >= 0 && (next[y] >= 0 || qname[y] !== qname[x]))) {
        many[manyCount++] = o
        continue
      }
      // One name asked, by x alone or x then y: it wasted nothing, and answered, if at all, with
      // that name. The last ask of each type counts (as in settleMany): y's, and x's unless y
      // asked the same type again.
      const asked = qname[x]
      const last = y < 0 ? x : y
      if (
        flags[last] & HAS_ADDRESS ||
        (last !== x && flags[x] & HAS_ADDRESS && (flags[x] & IS_AAAA) !== (flags[y] & IS_AAAA))
      ) {
        answered[o] = asked
        outcome[o] = ADDRESS
      } else {
        answered[o] = -1
        // As settleMany's, with a lone question counted as its own pair.
        const r = rcode[x]
        const s = rcode[last]
        outcome[o] =
          r === NO_RESPONSE || s === NO_RESPONSE
            ? TIMEOUT
            : r === RCODE.SERVFAIL || s === RCODE.SERVFAIL
              ? SERVFAIL
              : r === RCODE.NOERROR || s === RCODE.NOERROR
                ? NODATA
                : r === RCODE.NXDOMAIN && s === RCODE.NXDOMAIN
                  ? NXDOMAIN
                  : OTHER
      }
      let b = nameOfOne[asked]
      if (b < 0) nameOfOne[asked] = b = this.nameOfOneName(asked)
      name[o] = b
    }
    this.settleMany(many, manyCount, name, answered, outcome, wasted, nameOfOne)
    const store = new LookupStore(
      this.columns.text,
      this.bases.text,
      this.columns,
      next,
      // Sized for the most lookups there could have been; a view of the rows used, not a copy.
      this.head.subarray(0, n),
      name,
      answered,
      outcome,
      wasted,
    )
    // Views made when first read: rules and report count outcomes from the columns
    // (lookupColumnsOf) and read only the lookups they show.
    const lookups = lazyList<Lookup>(n, (o) => new GroupedLookup(store, o))
    listed.set(lookups, store)
    return lookups
  }

  /**
   * Settles the first `count` lookups of `lookups`, of any shape, writing to the columns settle
   * made; `nameOfOne` as there.
   */
  private settleMany(
    lookups: Int32Array,
    count: number,
    name: Int32Array,
    answered: Int32Array,
    outcome: Uint8Array,
    wasted: Int32Array,
    nameOfOne: Int32Array,
  ): void {
    const { next, flags, rcode, qname } = this
    for (let k = 0; k < count; k++) {
      const o = lookups[k]
      const head = this.head[o]
      const asked = qname[head]
      // One pass over its transactions: whether they all asked one name, and what their answers
      // say (for a lookup without an address).
      let oneName = true
      let nodata = false
      let servfail = false
      let timeout = false
      let allNx = true
      for (let x = head; x >= 0; x = next[x]) {
        if (qname[x] !== asked) oneName = false
        const rc = rcode[x]
        if (rc === RCODE.NOERROR) nodata = true
        else if (rc === RCODE.SERVFAIL) servfail = true
        else if (rc === NO_RESPONSE) timeout = true
        if (rc !== RCODE.NXDOMAIN) allNx = false
      }
      // The ask whose address the resolver returned: the first candidate whose last ask of A or
      // AAAA was answered with an address. An address answered early and asked again later
      // (because its sibling timed out) counts only if the last ask was answered too: glibc
      // keeps the answers of its final attempt.
      let answering = -1
      for (let x = head; x >= 0 && answering < 0; x = next[x]) {
        if (!(flags[x] & HAS_ADDRESS)) continue
        const type = flags[x] & IS_AAAA
        let superseded = false
        for (let y = next[x]; y >= 0 && !superseded; y = next[y])
          superseded = qname[y] === qname[x] && (flags[y] & IS_AAAA) === type
        if (!superseded) answering = x
      }
      let waste = 0
      if (answering >= 0) {
        const answer = qname[answering]
        answered[o] = answer
        outcome[o] = ADDRESS
        // The questions of other names than the answering one; none when it asked one name.
        if (!oneName) for (let x = head; x >= 0; x = next[x]) if (qname[x] !== answer) waste++
      } else {
        answered[o] = -1
        // A question that was never answered ends the resolver's patience first: glibc stops
        // the search list there (EAI_AGAIN) or, after its last candidate, reports what it has.
        outcome[o] = timeout
          ? TIMEOUT
          : servfail
            ? SERVFAIL
            : nodata
              ? NODATA
              : allNx
                ? NXDOMAIN
                : OTHER
      }
      wasted[o] = waste
      if (oneName) {
        let b = nameOfOne[asked]
        if (b < 0) nameOfOne[asked] = b = this.nameOfOneName(asked)
        name[o] = b
      } else name[o] = this.nameOf(o)
    }
  }

  /** The application name of a lookup that asked `qname` alone. */
  private nameOfOneName(qname: number): number {
    const at = this.basesOf(qname)
    // A name that one application name alone could have produced needs no choosing.
    return this.runs[at] === 1 ? this.runs[at + 1] : this.pick(this.basesArray(qname), qname)
  }

  /** The name the application asked: the base whose first glibc candidate was sent first. */
  private nameOf(o: number): number {
    const { next, qname } = this
    const head = this.head[o]
    const first = qname[head]
    let bases = this.basesArray(first)
    for (let x = head; x >= 0; x = next[x]) {
      if (qname[x] === first) continue
      const from = this.basesOf(qname[x])
      const common = bases.filter((y) => has(this.runs, from, y))
      if (common.length) bases = common
    }
    return this.pick(bases, first)
  }

  private readonly firstCandidates: string[] = []

  /** Of `bases`, the one whose first candidate is the qname `first`, else the shortest. */
  private pick(bases: readonly number[], first: number): number {
    const strings = this.bases.text
    const asked = this.columns.text[first]
    let best = -1
    for (const b of bases) {
      let c = this.firstCandidates[b]
      if (c === undefined) this.firstCandidates[b] = c = candidatesOf(strings[b], this.cfg)[0]
      if (c === asked && (best < 0 || strings[b].length < strings[best].length)) best = b
    }
    if (best >= 0) return best
    let shortest = bases[0]
    for (let k = 1; k < bases.length; k++)
      if (strings[bases[k]].length < strings[shortest].length) shortest = bases[k]
    return shortest
  }
}

/** Is `id` in the run that starts at `at` (its length, then its ids)? */
function has(runs: Int32Array, at: number, id: number): boolean {
  for (let k = at + 1; k <= at + runs[at]; k++) if (runs[k] === id) return true
  return false
}

function isFinal(rcode: number): boolean {
  return rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN
}

/**
 * From (client id, name id) to a lookup index. Most names are asked by one client only (all of a
 * load generator's by the same one), so the first client of each name has its entry in arrays by
 * name; the other clients' entries are in a hash table, by open addressing in flat typed arrays.
 */
class OpenLookups {
  /** Per name id: 1 + the id of its first client (0: none yet), and that client's entry. */
  private firstClient: Int32Array
  private first: Int32Array
  private keys = new Int32Array(2 * 1024)
  private vals = new Int32Array(1024).fill(-1)
  private mask = 1023
  private size = 0

  /**
   * `names`: how many name ids to make room for at first (growing later is rare, and set's
   * growing code is then not yet run when set is optimized).
   */
  constructor(names: number) {
    this.firstClient = new Int32Array(Math.max(names, 1024))
    this.first = new Int32Array(this.firstClient.length)
  }

  get(client: number, name: number): number {
    if (name >= this.firstClient.length) return -1
    const c = this.firstClient[name]
    if (c === client + 1) return this.first[name]
    // A name nobody has asked has no entry for another client either.
    if (c === 0) return -1
    const { keys, vals, mask } = this
    for (let s = slot(client, name) & mask; ; s = (s + 1) & mask) {
      const v = vals[s]
      if (v < 0) return -1
      if (keys[2 * s] === client && keys[2 * s + 1] === name) return v
    }
  }

  set(client: number, name: number, value: number): void {
    if (name >= this.firstClient.length) {
      const cap = Math.max(2 * this.firstClient.length, name + 1)
      this.firstClient = resized(this.firstClient, this.firstClient.length, cap)
      this.first = resized(this.first, this.first.length, cap)
    }
    const c = this.firstClient[name]
    if (c === 0) this.firstClient[name] = client + 1
    if (c === 0 || c === client + 1) this.first[name] = value
    else this.put(client, name, value)
  }

  /** Sets the hash table's entry. */
  private put(client: number, name: number, value: number): void {
    if ((this.size + 1) * 2 > this.vals.length) this.grow()
    const { keys, vals, mask } = this
    for (let s = slot(client, name) & mask; ; s = (s + 1) & mask) {
      if (vals[s] < 0) {
        keys[2 * s] = client
        keys[2 * s + 1] = name
        vals[s] = value
        this.size++
        return
      }
      if (keys[2 * s] === client && keys[2 * s + 1] === name) {
        vals[s] = value
        return
      }
    }
  }

  private grow(): void {
    const { keys, vals } = this
    const cap = vals.length * 2
    this.keys = new Int32Array(2 * cap)
    this.vals = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
    this.size = 0
    for (let s = 0; s < vals.length; s++)
      if (vals[s] >= 0) this.put(keys[2 * s], keys[2 * s + 1], vals[s])
  }
}

function slot(a: number, b: number): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1)
  h = Math.imul(h ^ b, 0x85ebca6b)
  h ^= h >>> 15
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 13)
}
