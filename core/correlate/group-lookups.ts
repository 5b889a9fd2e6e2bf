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
  FINAL,
  HAS_ADDRESS,
  IS_A,
  IS_AAAA,
  NO_RESPONSE,
  RESENT,
  TransactionColumns,
  lastOf,
} from './transaction-columns.js'
import { StringPool } from '../model/dns-table.js'
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
/** The outcome of a lookup left to settleMany, until it is settled. */
const UNSETTLED = 255
/** Grouper.oneBase of a qname not seen yet. */
const NOT_MADE = -2
/** A bit of a lookup's summary besides the types it asked: see Grouper.summary. */
const UNSURE = 4

/**
 * The settled lookups, one column per field; `next` links each lookup's transactions. A lookup's
 * client, start and end are read from its transactions' columns: few lookups are asked when they
 * started or ended (the report's worst ones), so those are worked out when asked.
 */
class LookupStore {
  constructor(
    /** The strings of the client and answered-name numbers (the transaction columns'). */
    readonly text: readonly string[],
    /** The text of an application-name number. */
    readonly nameText: (id: number) => string,
    /** Per transaction: the transaction columns, and the next transaction of its lookup. */
    readonly txns: TransactionColumns,
    readonly next: Int32Array,
    readonly head: Int32Array,
    /**
     * Per lookup that settleMany settled: 1 + its application name's number, and the qname
     * number that answered (read for the outcome ADDRESS). A lookup settled as it grew (0 here)
     * asked one name: its name is its first qname's one base, and that qname answered, if any.
     */
    readonly name: Int32Array,
    readonly answered: Int32Array,
    /** Per qname number: its one base (see Grouper). */
    readonly oneBase: Int32Array,
    readonly outcome: Uint8Array,
    readonly wasted: Int32Array,
  ) {}

  /** The number of lookup i's name (nameText gives the name). */
  nameId(i: number): number {
    const n = this.name[i]
    return n > 0 ? n - 1 : this.oneBase[this.txns.qname[this.head[i]]]
  }
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

/** A lookup's name and client as numbers (the same for the same string), and their strings. */
export interface LookupKeys {
  name: (i: number) => number
  nameText: (id: number) => string
  client: (i: number) => number
  clientText: (id: number) => string
}

/**
 * The name and client of each lookup of a list groupLookups returned, as numbers, without making
 * the lookups or their strings; null for any other list.
 */
export function lookupKeysOf(lookups: readonly Lookup[]): LookupKeys | null {
  const store = listed.get(lookups)
  if (!store) return null
  const { txns, head, text } = store
  return {
    name: (i) => store.nameId(i),
    nameText: store.nameText,
    client: (i) => txns.client[head[i]],
    clientText: (id) => text[id],
  }
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
    return this.store.nameText(this.store.nameId(this.index))
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
    const { outcome, name, answered, txns, head, text } = this.store
    if (outcome[this.index] !== ADDRESS) return null
    return text[name[this.index] > 0 ? answered[this.index] : txns.qname[head[this.index]]]
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
  return g.settle()
}

/**
 * The grouping state: per-transaction and per-lookup columns, and the open lookups by name.
 *
 * Sets of possible application names ("bases") are runs in `runs`, each its length followed by
 * the names' numbers: each qname's, and those of lookups that a question narrowed. A lookup's
 * set is its first qname's until then.
 */
class Grouper {
  // A lookup goes quiet for at most one full retry round between candidates.
  private readonly gapUs: number
  /** The application names, numbered in a pool; null without a search list (see constructor). */
  private readonly bases: StringPool | null
  /** The text of an application-name number. */
  private readonly baseText: (id: number) => string
  // Starts at 1: a run's start of 0 means "none" in qnameRun and run.
  private runs = new Int32Array(1024)
  private runsEnd = 1
  /** Per qname number: the start of its bases' run, 0 until made. */
  private readonly qnameRun: Int32Array
  /**
   * Per qname number: its one base, -1 when a search list gives it several, NOT_MADE until
   * worked out.
   */
  private readonly oneBase: Int32Array
  /** The numbers of the strings of `text` that end in the root dot, once needed. */
  private dotted: Map<string, number> | null = null
  // Per transaction (the first ones are the columns').
  private readonly qname: Uint32Array
  private readonly flags: Uint8Array
  private readonly rcode: Int32Array
  private readonly rtime: Float64Array
  /** The next transaction of its lookup, -1 for the last (set as each joins one). */
  private readonly next: Int32Array
  // Per lookup: its first and last transaction, when it was last busy, and the start of its
  // narrowed bases' run (0: its first qname's bases). Its client is its transactions'.
  private count = 0
  private readonly head: Int32Array
  private readonly tail: Int32Array
  private readonly lastActivity: Float64Array
  private readonly run: Int32Array
  // Per lookup, what settling it decides: its application name and the name that answered (as
  // LookupStore's: written by settleMany only), its outcome (UNSETTLED: left to settleMany,
  // listed in `unsettled`) and waste.
  private readonly name: Int32Array
  private readonly answered: Int32Array
  private readonly outcome: Uint8Array
  private readonly wasted: Int32Array
  /**
   * Per lookup settled as it grows (see addAll): the question types it asked (IS_A, IS_AAAA),
   * and UNSURE once an ask of it was not finally answered, was resent, or was answered after
   * the last time seen of it. What accepts would find walking it, in the common cases.
   */
  private readonly summary: Uint8Array
  private readonly unsettled: Int32Array
  private unsettledCount = 0
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
    const text = columns.text
    this.qnameRun = new Int32Array(text.length)
    this.oneBase = new Int32Array(text.length).fill(NOT_MADE)
    if (cfg.search.length === 0) {
      // Without a search list a qname's one base is itself without the root dot. It is numbered
      // as that name with the dot is in `text` ("a." and "a" share one), and its text is made
      // only when read (few are: the lookups a report shows).
      this.bases = null
      this.baseText = (id) => withoutRoot(text[id])
    } else {
      const names = (this.bases = new StringPool()).text
      this.baseText = (id) => names[id]
      // Each distinct qname's bases, before the transactions: addAll then finds them made, and
      // leaves the making (strings, the pool's Map) out of its optimized code.
      for (const q of columns.qnames) {
        const at = this.basesOf(q)
        this.oneBase[q] = this.runs[at] === 1 ? this.runs[at + 1] : -1
      }
    }
    this.open = new OpenLookups(this.bases ? this.bases.size : text.length)
    this.next = new Int32Array(n)
    // At most one lookup per A or AAAA question.
    const most = columns.questions
    this.head = new Int32Array(most)
    this.tail = new Int32Array(most)
    this.lastActivity = new Float64Array(most)
    this.run = new Int32Array(most)
    this.name = new Int32Array(most)
    this.answered = new Int32Array(most)
    this.outcome = new Uint8Array(most)
    this.wasted = new Int32Array(most)
    this.summary = new Uint8Array(most)
    this.unsettled = new Int32Array(most)
  }

  /**
   * Adds every A/AAAA transaction, in order, and writes its lookup's index to `lookup`: as `add`
   * does, with the common shape worked out here. That shape is a qname that only one application
   * name can produce (always so without a search list), whose open lookup, if any, was opened by
   * a question of the same qname: it is the only candidate, and joining it leaves its names as
   * they are (a lookup opened under one name is found by that name alone, so no question that
   * finds it can narrow it). Anything else goes to `add`.
   *
   * A lookup made here and joined here at most once asks one name, once or twice (an A and AAAA
   * pair, or one of them): it is settled as it grows. Any other is left to settleMany.
   *
   * It runs once per analysis, so most of its cost is the time before it is optimized: the
   * common shape takes none of add's loops over bases and its narrowing, and the general path
   * stays out of this loop's optimized code until a transaction needs it.
   */
  addAll(lookup: Int32Array): void {
    const { qname, flags, rtime, oneBase, next, head, tail, lastActivity, open, gapUs } = this
    const { outcome, summary } = this
    const { client, sent, lastTime } = this.columns
    for (let i = 0; i < flags.length; i++) {
      const f = flags[i]
      const type = f & (IS_A | IS_AAAA)
      if (!type) continue
      const aaaa = f & IS_AAAA
      const q = qname[i]
      let base = oneBase[q]
      if (base === NOT_MADE) base = this.ownBase(q)
      if (base < 0) {
        lookup[i] = this.add(i)
        continue
      }
      const c = client[i]
      const firstSent = sent[i]
      let target = open.get(c, base)
      if (target >= 0 && !(firstSent - lastActivity[target] > gapUs)) {
        if (qname[head[target]] !== q) {
          lookup[i] = this.add(i)
          continue
        }
        // A lookup settled as it grows asked this name alone: its summary tells the common cases
        // without walking it. A first question of this type (the sibling of a pair) joins it;
        // this question again once every ask was finally answered is a new call. (All read
        // before branching, as in accepts: the first question asked again comes after this loop
        // is optimized.)
        const settled = outcome[target] !== UNSETTLED
        const asked = summary[target] & type
        const sure = !(summary[target] & UNSURE)
        const quiet = lastActivity[target] <= firstSent
        let joins: boolean
        if (settled && !asked) joins = true
        else if (settled && sure && quiet) joins = false
        else joins = this.accepts(target, q, aaaa, i)
        if (joins) {
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
      next[i] = -1
      // Settled as it grows while it is one question (x = i) or a pair (x then i).
      const x = head[target]
      if (outcome[target] !== UNSETTLED && (x === i || next[x] === i))
        outcome[target] = this.outcomeOfOne(x, i)
      else this.unsettle(target)
      const last = lastOf(firstSent, lastTime[i])
      lastActivity[target] = Math.max(lastActivity[target], last)
      summary[target] |= type | (!(f & FINAL) || f & RESENT || rtime[i] > last ? UNSURE : 0)
      lookup[i] = target
    }
  }

  /**
   * The outcome of a lookup of one name asked by `x` alone (`last` = x) or by x then `last`: it
   * answered, if at all, with that name. The last ask of each type counts (as in settleMany):
   * last's, and x's unless last asked the same type again.
   */
  private outcomeOfOne(x: number, last: number): number {
    const { flags, rcode } = this
    if (
      flags[last] & HAS_ADDRESS ||
      (flags[x] & HAS_ADDRESS && (flags[x] & IS_AAAA) !== (flags[last] & IS_AAAA))
    )
      return ADDRESS
    // As settleMany's, with a lone question counted as its own pair.
    const r = rcode[x]
    const s = rcode[last]
    return r === NO_RESPONSE || s === NO_RESPONSE
      ? TIMEOUT
      : r === RCODE.SERVFAIL || s === RCODE.SERVFAIL
        ? SERVFAIL
        : r === RCODE.NOERROR || s === RCODE.NOERROR
          ? NODATA
          : r === RCODE.NXDOMAIN && s === RCODE.NXDOMAIN
            ? NXDOMAIN
            : OTHER
  }

  /** Leaves lookup `o` to settleMany. */
  private unsettle(o: number): void {
    if (this.outcome[o] === UNSETTLED) return
    this.outcome[o] = UNSETTLED
    this.unsettled[this.unsettledCount++] = o
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
      this.next[i] = -1
      lastActivity[target] = firstSent
      for (let k = from + 1; k < to; k++) this.open.set(client, runs[k], target)
    } else {
      this.next[this.tail[target]] = i
      this.next[i] = -1
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
    this.unsettle(target)
    return target
  }

  /** Where the run of bases of `qname` starts (made on first ask). */
  private basesOf(qname: number): number {
    let at = this.qnameRun[qname]
    if (at !== 0) return at
    const bases = this.bases
    if (!bases) {
      at = this.reserve(1)
      const base = this.oneBase[qname]
      this.runs[at + 1] = base === NOT_MADE ? this.ownBase(qname) : base
    } else {
      const names = possibleBases(this.columns.text[qname], this.cfg.search)
      at = this.reserve(names.length)
      for (let k = 0; k < names.length; k++) this.runs[at + 1 + k] = bases.id(names[k])
    }
    return (this.qnameRun[qname] = at)
  }

  /** The one base of `qname` without a search list: the number of its name with the root dot. */
  private ownBase(qname: number): number {
    const name = this.columns.text[qname]
    let base = qname
    if (!name.endsWith('.')) {
      if (!this.dotted) {
        this.dotted = new Map()
        const text = this.columns.text
        for (let k = 0; k < text.length; k++) if (text[k].endsWith('.')) this.dotted.set(text[k], k)
      }
      base = this.dotted.get(name + '.') ?? qname
    }
    return (this.oneBase[qname] = base)
  }

  /**
   * The start of the run of names that lookup `o` may have been asked for: its narrowed run, or
   * its first qname's.
   */
  private basesOfLookup(o: number): number {
    return this.run[o] || this.basesOf(this.qname[this.head[o]])
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

  /**
   * Is the question (qname, aaaa) of transaction `i` the next one of lookup `o`, or a new call?
   * (Its index rather than its send time: a double argument is boxed when this is not inlined.)
   */
  private accepts(o: number, qname: number, aaaa: number, i: number): boolean {
    const { next, flags, rcode, rtime } = this
    const sent = this.columns.sent[i]
    // One walk: the last ask of this question (`prev`) and whether it was finally answered by
    // `sent`, whether any other ask was still unanswered then (`othersBusy`), whether one of the
    // sibling question was resent, and whether the lookup asked another name. Each ask's values
    // are read whichever branch it takes: the loop calling this is optimized before any question
    // is asked again, and a read first made after that would throw its optimized code away.
    let prev = -1
    let prevBusy = false
    let prevFinal = 0
    let othersBusy = false
    let resend = false
    let other = false
    for (let x = this.head[o]; x >= 0; x = next[x]) {
      const f = flags[x]
      const busy = rcode[x] === NO_RESPONSE || rtime[x] > sent
      const final = f & FINAL
      if (this.qname[x] !== qname) {
        other = true
        if (busy) othersBusy = true
      } else if ((f & IS_AAAA) === aaaa) {
        if (prevBusy) othersBusy = true
        prev = x
        prevBusy = busy
        prevFinal = final
      } else {
        if (busy) othersBusy = true
        if (f & RESENT) resend = true
      }
    }
    // A new question (after the address arrived only the sibling question of the answering name
    // may follow: single-request sends AAAA after A's answer), or the same question again before
    // a final answer (NOERROR, NXDOMAIN) to it: after SERVFAIL or REFUSED the resolver itself
    // retries.
    if (prev < 0 || prevBusy || !prevFinal) return !other || this.mayFollow(o, qname, i)
    // The same question after a final answer: the application asking again, unless the
    // resolver is still busy with this lookup: another of its questions is unanswered (glibc
    // re-sends the pair when one half timed out), or the sibling question timed out (after a
    // timeout glibc falls back to single-request and asks both again, the answered one
    // included, with the same ids).
    return resend || othersBusy
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
    const { next, flags, rtime, qname } = this
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
        if (!(flags[u] & FINAL) || rtime[u] > at) complete = false
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
   * Settles the lookups addAll left unsettled (their outcome, answering name, waste and
   * application name) and hands out the lookups.
   */
  settle(): Lookup[] {
    const n = this.count
    this.settleMany()
    // Each column is sized for the most lookups there could have been: views of the rows used.
    const store = new LookupStore(
      this.columns.text,
      this.baseText,
      this.columns,
      this.next,
      this.head.subarray(0, n),
      this.name.subarray(0, n),
      this.answered.subarray(0, n),
      this.oneBase,
      this.outcome.subarray(0, n),
      this.wasted.subarray(0, n),
    )
    // Views made when first read: rules and report count outcomes from the columns
    // (lookupColumnsOf) and read only the lookups they show.
    const lookups = lazyList<Lookup>(n, (o) => new GroupedLookup(store, o))
    listed.set(lookups, store)
    return lookups
  }

  /** Settles the unsettled lookups, of any shape. */
  private settleMany(): void {
    const { next, flags, rcode, qname, oneBase, name, answered, outcome, wasted } = this
    // Per qname a search list maps to several names: the name of a lookup that asked it alone.
    const picked = new Int32Array(this.unsettledCount > 0 ? this.columns.text.length : 0).fill(-1)
    for (let k = 0; k < this.unsettledCount; k++) {
      const o = this.unsettled[k]
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
      let b: number
      if (!oneName) b = this.nameOf(o)
      else if (oneBase[asked] >= 0) b = oneBase[asked]
      else {
        if (picked[asked] < 0) {
          const at = this.basesOf(asked)
          picked[asked] = this.pick(this.runs, at + 1, at + 1 + this.runs[at], asked)
        }
        b = picked[asked]
      }
      name[o] = 1 + b
    }
  }

  /** nameOf's scratch: the bases a lookup's questions have in common so far. */
  private common = new Int32Array(16)

  /** The name the application asked: the base whose first glibc candidate was sent first. */
  private nameOf(o: number): number {
    const { next, qname } = this
    const head = this.head[o]
    const first = qname[head]
    const at = this.basesOf(first)
    let count = this.runs[at]
    if (this.common.length < count) this.common = new Int32Array(count)
    const common = this.common
    for (let k = 0; k < count; k++) common[k] = this.runs[at + 1 + k]
    for (let x = head; x >= 0; x = next[x]) {
      if (qname[x] === first) continue
      // Keep the bases this question has too, unless it has none of them.
      const from = this.basesOf(qname[x])
      let kept = 0
      for (let k = 0; k < count; k++) if (has(this.runs, from, common[k])) kept++
      if (kept === 0) continue
      for (let k = 0, j = 0; k < count; k++)
        if (has(this.runs, from, common[k])) common[j++] = common[k]
      count = kept
    }
    return this.pick(common, 0, count, first)
  }

  /**
   * Per base, its first glibc candidate once worked out. Filled with undefined up front: an
   * array given strings at scattered indexes would change its elements kind (and so its map)
   * as it fills, throwing the code reading it away.
   */
  private firstCandidates: (string | undefined)[] | null = null

  /**
   * Of the bases ids[from, to), the one whose first candidate is the qname `first` (the
   * shortest if several), else the shortest.
   */
  private pick(ids: Int32Array, from: number, to: number, first: number): number {
    const asked = this.columns.text[first]
    let best = -1
    for (let k = from; k < to; k++) {
      const b = ids[k]
      const firsts = (this.firstCandidates ??= new Array<undefined>(this.open.names).fill(
        undefined,
      ))
      let c = firsts[b]
      if (c === undefined) firsts[b] = c = candidatesOf(this.baseText(b), this.cfg)[0]
      if (c === asked && (best < 0 || this.baseLength(b) < this.baseLength(best))) best = b
    }
    if (best >= 0) return best
    let shortest = ids[from]
    for (let k = from + 1; k < to; k++)
      if (this.baseLength(ids[k]) < this.baseLength(shortest)) shortest = ids[k]
    return shortest
  }

  private baseLength(id: number): number {
    return this.baseText(id).length
  }
}

/** Is `id` in the run that starts at `at` (its length, then its ids)? */
function has(runs: Int32Array, at: number, id: number): boolean {
  for (let k = at + 1; k <= at + runs[at]; k++) if (runs[k] === id) return true
  return false
}

/**
 * From (client id, name id) to a lookup index. Most names are asked by one client only (all of a
 * load generator's by the same one), so the first client of each name has its entry in an array
 * by name; the other clients' entries are in a hash table, by open addressing in flat typed
 * arrays.
 */
class OpenLookups {
  /**
   * Per name id, side by side (one cache line): 1 + the id of its first client (0: none yet),
   * and that client's entry.
   */
  private readonly first: Int32Array
  private keys = new Int32Array(2 * 1024)
  private vals = new Int32Array(1024).fill(-1)
  private mask = 1023
  private size = 0

  /** `names`: how many name ids there are (0 to names - 1). */
  constructor(readonly names: number) {
    this.first = new Int32Array(2 * names)
  }

  get(client: number, name: number): number {
    const c = this.first[2 * name]
    if (c === client + 1) return this.first[2 * name + 1]
    // A name nobody has asked has no entry for another client either.
    return c === 0 ? -1 : this.other(client, name)
  }

  /** The hash table's entry (get's, kept apart so that get is small enough to inline). */
  private other(client: number, name: number): number {
    const { keys, vals, mask } = this
    for (let s = slot(client, name) & mask; ; s = (s + 1) & mask) {
      const v = vals[s]
      if (v < 0) return -1
      if (keys[2 * s] === client && keys[2 * s + 1] === name) return v
    }
  }

  set(client: number, name: number, value: number): void {
    const c = this.first[2 * name]
    // The first client's test first: it is the one that runs from the first call, and optimized
    // code then finds it has run (a test first run after would throw that code away).
    if (c === client + 1 || c === 0) {
      this.first[2 * name] = client + 1
      this.first[2 * name + 1] = value
    } else this.put(client, name, value)
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
