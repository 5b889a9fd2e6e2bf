// Where an unanswered query died: the last vantage that saw it, and the kernel's own drop record
// (bpftrace kfree_skb, pwru, nettrace) for the same flow at that time, when the bundle has one.
import type { DropEvent } from '../model/event.js'
import { TxnView, type TxnStore } from './txn-store.js'

/** A drop record this close to a copy of the query is taken as that copy's drop. */
export const DROP_MATCH_WINDOW_US = 2_000_000

/** Attaches kernel drop records to unanswered transactions. Linear: one index of drops by flow. */
export function attachDrops(store: TxnStore, drops: readonly DropEvent[]): void {
  if (drops.length === 0) return
  const byFlow = new Map<string, DropEvent[]>()
  for (const d of drops) {
    const key = `${d.srcAddr}|${d.srcPort}`
    const list = byFlow.get(key)
    if (list) list.push(d)
    else byFlow.set(key, [d])
  }
  const used = new Set<DropEvent>()
  for (let i = 0; i < store.length; i++) {
    if (store.response[i] >= 0) continue
    const t = new TxnView(store, i)
    let best: DropEvent | null = null
    let bestGap = Infinity
    for (const q of t.queries) {
      for (const d of byFlow.get(`${q.srcAddr}|${q.srcPort}`) ?? []) {
        if (used.has(d)) continue
        const gap =
          Number.isNaN(d.time) || Number.isNaN(q.time)
            ? DROP_MATCH_WINDOW_US
            : Math.abs(d.time - q.time)
        if (gap <= DROP_MATCH_WINDOW_US && gap < bestGap) {
          best = d
          bestGap = gap
        }
      }
    }
    if (best) {
      used.add(best)
      t.drop = best
    }
  }
}
