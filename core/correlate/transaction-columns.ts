// The fields of every transaction that the search-list inference and the lookup grouping read,
// read once into flat typed arrays: a transaction's fields are getters over its events, and a
// million of them read twice cost more than the work done on them. Names and clients are numbered.
import type { Transaction } from './types.js'
import { RCODE } from '../codec/dns-constants.js'
import { NO_RESPONSE, TxnView, type TxnStore } from './txn-store.js'
import { StringPool } from '../model/dns-table.js'

const A = 1
const AAAA = 28

/** Flags of one transaction. */
export const IS_A = 1
export const IS_AAAA = 2
export const HAS_ADDRESS = 4
export const RESENT = 8
export { NO_RESPONSE }

export class TransactionColumns {
  /** Name id of each transaction's qname. */
  readonly qname: Int32Array
  /** Client id of each transaction. */
  readonly client: Int32Array
  /** First send (µs). */
  readonly sent: Float64Array
  /** The last thing seen of it (µs): the first send when nothing later is known. */
  readonly last: Float64Array
  /** IS_A, IS_AAAA, HAS_ADDRESS (a final answer with an address), RESENT (copies > 1). */
  readonly flags: Uint8Array
  /** The response's rcode, or NO_RESPONSE. */
  readonly rcode: Int32Array
  /** The response's time (µs). */
  readonly rtime: Float64Array
  readonly names = new StringPool()
  readonly clients = new StringPool()
  /** Names below this id are qnames, numbered in order of first sight. */
  readonly qnameCount: number

  constructor(readonly txns: readonly Transaction[]) {
    const n = txns.length
    this.qname = new Int32Array(n)
    this.client = new Int32Array(n)
    this.sent = new Float64Array(n)
    this.last = new Float64Array(n)
    this.flags = new Uint8Array(n)
    this.rcode = new Int32Array(n)
    this.rtime = new Float64Array(n)
    const store = n > 0 && txns[0] instanceof TxnView ? txns[0].store : null
    if (store) this.fromStore(store)
    else this.fromInterface()
    this.qnameCount = this.names.size
  }

  /** Reads any Transaction objects through their interface. */
  private fromInterface(): void {
    const txns = this.txns
    let lastClientName: string | null = null
    let lastClient = -1
    let lastQname: string | null = null
    let lastName = -1
    for (let i = 0; i < txns.length; i++) {
      const t = txns[i]
      const qname = t.qname
      const clientName = t.client
      if (qname !== lastQname) {
        lastQname = qname
        lastName = this.names.id(qname)
      }
      if (clientName !== lastClientName) {
        lastClientName = clientName
        lastClient = this.clients.id(clientName)
      }
      const rcode = t.rcode
      this.put(
        i,
        lastName,
        lastClient,
        t.firstSent,
        t.lastTime,
        t.qtype,
        t.copies,
        rcode ?? NaN,
        rcode === null ? NaN : t.responseTime,
        rcode === null ? -1 : t.answerAddrs,
      )
    }
  }

  /**
   * The same columns read straight from the correlator's TxnStore (the transactions are its
   * views): no getters, and each distinct string numbered once through its DnsTable number.
   */
  private fromStore(s: TxnStore): void {
    const text = s.dns.strings.text
    const nameOf = new Int32Array(text.length).fill(-1)
    const clientOf = new Int32Array(text.length).fill(-1)
    const txns = this.txns as readonly TxnView[]
    for (let i = 0; i < txns.length; i++) {
      const x = txns[i].index
      const q = s.qname[x]
      if (nameOf[q] < 0) nameOf[q] = this.names.id(text[q])
      const c = s.client[x]
      if (clientOf[c] < 0) clientOf[c] = this.clients.id(text[c])
      const rc = s.rcode[x]
      const answered = rc !== NO_RESPONSE
      this.put(
        i,
        nameOf[q],
        clientOf[c],
        s.firstSent[x],
        s.lastTime[x],
        s.qtype[x],
        s.copies[x],
        answered ? rc : NaN,
        s.responseTime[x],
        s.answerAddrs[x],
      )
    }
  }

  /** Row i from one transaction's fields; `rcode` NaN: no response. */
  private put(
    i: number,
    name: number,
    client: number,
    firstSent: number,
    lastTime: number,
    qtype: number,
    copies: number,
    rcode: number,
    rtime: number,
    addrs: number,
  ): void {
    this.qname[i] = name
    this.client[i] = client
    this.sent[i] = firstSent
    this.last[i] = Number.isNaN(lastTime) ? firstSent : Math.max(firstSent, lastTime)
    let flags = qtype === A ? IS_A : qtype === AAAA ? IS_AAAA : 0
    if (copies > 1) flags |= RESENT
    if (Number.isNaN(rcode)) this.rcode[i] = NO_RESPONSE
    else {
      this.rcode[i] = rcode
      this.rtime[i] = rtime
      // A CoreDNS log line does not say how many records it answered: NOERROR to A counts.
      if (rcode === RCODE.NOERROR && (addrs > 0 || (addrs < 0 && qtype === A))) flags |= HAS_ADDRESS
    }
    this.flags[i] = flags
  }
}
