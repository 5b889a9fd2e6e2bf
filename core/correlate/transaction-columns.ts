// The fields of every transaction that the search-list inference and the lookup grouping read,
// as flat typed arrays: a transaction's fields are getters over its events, and a million of them
// read twice cost more than the work done on them. The correlator's own transactions already are
// columns (its TxnStore): those are used as they are, with the DnsTable's string numbers for names
// and clients, and only the flags are worked out. Any other Transaction objects are read once.
import type { Transaction } from './types.js'
import { RCODE } from '../codec/dns-constants.js'
import { NO_RESPONSE, type TxnStore } from './txn-store.js'
import { StringPool } from '../model/dns-table.js'

const A = 1
const AAAA = 28

/** Flags of one transaction. */
export const IS_A = 1
export const IS_AAAA = 2
export const HAS_ADDRESS = 4
export const RESENT = 8
export const FINAL = 16
export { NO_RESPONSE }

export class TransactionColumns {
  /** Each transaction's qname, numbered in `text`: equal names, equal numbers. */
  readonly qname: Uint32Array
  /** Each transaction's client address, numbered in `text`. */
  readonly client: Uint32Array
  /** The strings the qname and client numbers stand for. */
  readonly text: readonly string[]
  /** First send (µs). */
  readonly sent: Float64Array
  /** The last thing seen of it (µs), as Transaction.lastTime: see `lastOf`. */
  readonly lastTime: Float64Array
  /**
   * IS_A, IS_AAAA, HAS_ADDRESS (a final answer with an address), RESENT (copies > 1), FINAL
   * (answered NOERROR or NXDOMAIN: the resolver asks no more).
   */
  readonly flags: Uint8Array
  /** The response's rcode, or NO_RESPONSE. */
  readonly rcode: Int32Array
  /** The response's time (µs); meaningless without a response. */
  readonly rtime: Float64Array
  /**
   * Where the lookup grouping writes each transaction's lookup index: the store's own column, or
   * (`store` null) a scratch column that is then copied to the objects.
   */
  readonly lookup: Int32Array
  /** How many transactions ask A or AAAA. */
  readonly questions: number
  private firstSeen: number[] | null = null

  /**
   * `store`, when given, is where `txns` come from: they are its views, all of them in its order
   * (the correlator's transactions). Without it they are read through the interface.
   */
  constructor(
    readonly txns: readonly Transaction[],
    readonly store: TxnStore | null = null,
  ) {
    const n = txns.length
    if (store) {
      if (store.length !== n) throw new Error('TransactionColumns: not all of the store')
      this.qname = store.qname
      this.client = store.client
      this.text = store.dns.strings.text
      this.sent = store.firstSent
      this.lastTime = store.lastTime
      this.rcode = store.rcode
      this.rtime = store.responseTime
      this.lookup = store.lookup
      this.flags = new Uint8Array(n)
      const { qtype, copies, rcode, answerAddrs } = store
      this.questions = fillFlags(this.flags, n, qtype, copies, rcode, answerAddrs)
      return
    }
    this.qname = new Uint32Array(n)
    this.client = new Uint32Array(n)
    this.sent = new Float64Array(n)
    this.lastTime = new Float64Array(n)
    this.flags = new Uint8Array(n)
    this.rcode = new Int32Array(n)
    this.rtime = new Float64Array(n)
    this.lookup = new Int32Array(n)
    const pool = new StringPool()
    this.text = pool.text
    let lastClientName: string | null = null
    let lastClient = -1
    let lastQname: string | null = null
    let lastName = -1
    const qtype = new Uint16Array(n)
    const copies = new Int32Array(n)
    const addrs = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      const t = txns[i]
      const qname = t.qname
      const clientName = t.client
      if (qname !== lastQname) {
        lastQname = qname
        lastName = pool.id(qname)
      }
      if (clientName !== lastClientName) {
        lastClientName = clientName
        lastClient = pool.id(clientName)
      }
      this.qname[i] = lastName
      this.client[i] = lastClient
      this.sent[i] = t.firstSent
      this.lastTime[i] = t.lastTime
      const rc = t.rcode ?? NaN
      const answered = !Number.isNaN(rc)
      this.rcode[i] = answered ? rc : NO_RESPONSE
      if (answered) this.rtime[i] = t.responseTime
      qtype[i] = t.qtype
      copies[i] = t.copies
      addrs[i] = answered ? t.answerAddrs : -1
    }
    this.questions = fillFlags(this.flags, n, qtype, copies, this.rcode, addrs)
  }

  /**
   * The distinct qnames' numbers, in order of first sight: worked out when first read, as few
   * analyses need them (a search list, or inferring one from cluster names).
   */
  get qnames(): readonly number[] {
    if (!this.firstSeen) {
      const seen = new Uint8Array(this.text.length)
      const qnames: number[] = (this.firstSeen = [])
      // The length read once: the correlator's transactions are a lazy list, a proxy.
      const { qname, txns } = this
      const n = txns.length
      for (let i = 0; i < n; i++) {
        const q = qname[i]
        if (seen[q] === 0) {
          seen[q] = 1
          qnames.push(q)
        }
      }
    }
    return this.firstSeen
  }
}

/**
 * Sets the flags of transactions 0 to n - 1 from their question types, copies, rcodes
 * (NO_RESPONSE: no response, and `addrs` is not read) and answer addresses; returns how many ask
 * A or AAAA. It runs once per analysis, mostly before it is optimized: one loop with no call in
 * it, reading typed arrays.
 */
function fillFlags(
  flags: Uint8Array,
  n: number,
  qtype: Uint16Array,
  copies: Int32Array,
  rcode: Int32Array,
  addrs: Int32Array,
): number {
  let questions = 0
  for (let i = 0; i < n; i++) {
    const type = qtype[i]
    const rc = rcode[i]
    let f = type === A ? IS_A : type === AAAA ? IS_AAAA : 0
    if (copies[i] > 1) f |= RESENT
    if (rc === RCODE.NOERROR || rc === RCODE.NXDOMAIN) f |= FINAL
    // A CoreDNS log line does not say how many records it answered: NOERROR to A counts.
    if (rc === RCODE.NOERROR && (addrs[i] > 0 || (addrs[i] < 0 && type === A))) f |= HAS_ADDRESS
    flags[i] = f
    if (f & (IS_A | IS_AAAA)) questions++
  }
  return questions
}

/** The last thing seen of a transaction (µs): its first send when nothing later is known. */
export function lastOf(sent: number, lastTime: number): number {
  return Number.isNaN(lastTime) ? sent : Math.max(sent, lastTime)
}
