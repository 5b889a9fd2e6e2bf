// Where an unanswered query died: the last vantage that saw it, and the kernel's own drop record
// (bpftrace kfree_skb, pwru, nettrace) for the same flow at that time, when the bundle has one:
// of a copy of the query (from the client's address and port), or of an answer that never reached
// the client (from port 53 to the client's address and port).
import type { DropEvent } from '../model/event.js'
import { TxnView, type TxnStore } from './txn-store.js'

/** A drop record this close to a copy of the query is taken as that copy's drop. */
export const DROP_MATCH_WINDOW_US = 2_000_000

/** Attaches kernel drop records to unanswered transactions. Linear: one index of drops by flow. */
export function attachDrops(store: TxnStore, drops: readonly DropEvent[]): void {
  if (drops.length === 0) return
  // Queries by their source, answers (from port 53) by their destination: the client's end.
  const byFlow = new Map<string, DropEvent[]>()
  const byReplyTo = new Map<string, DropEvent[]>()
  for (const d of drops) {
    add(byFlow, `${d.srcAddr}|${d.srcPort}`, d)
    if (d.srcPort === 53) add(byReplyTo, `${d.dstAddr}|${d.dstPort}`, d)
  }
  const used = new Set<DropEvent>()
  for (let i = 0; i < store.length; i++) {
    if (store.response[i] >= 0) continue
    const t = new TxnView(store, i)
    let best: DropEvent | null = null
    let bestGap = Infinity
    const consider = (candidates: DropEvent[] | undefined, at: number) => {
      for (const d of candidates ?? []) {
        if (used.has(d)) continue
        const gap =
          Number.isNaN(d.time) || Number.isNaN(at) ? DROP_MATCH_WINDOW_US : Math.abs(d.time - at)
        if (gap <= DROP_MATCH_WINDOW_US && gap < bestGap) {
          best = d
          bestGap = gap
        }
      }
    }
    for (const q of t.queries) consider(byFlow.get(`${q.srcAddr}|${q.srcPort}`), q.time)
    // An answer seen on its way that never reached the client (replyLost).
    for (const h of t.hops)
      if (h.event.qr) consider(byReplyTo.get(`${h.event.dstAddr}|${h.event.dstPort}`), h.event.time)
    if (best) {
      used.add(best)
      t.drop = best
    }
  }
}

function add(index: Map<string, DropEvent[]>, key: string, d: DropEvent): void {
  const list = index.get(key)
  if (list) list.push(d)
  else index.set(key, [d])
}
