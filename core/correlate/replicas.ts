// Which vantages at the DNS server are replicas of it, and which record the same replica.
//
// A cluster runs CoreDNS as two or more pods behind one Service, and `dnsbundle collect` takes
// the log of each: each log is a vantage at the server's rank. Unlike a pod's and a node's
// captures, they are not points on one path: each query copy reaches one replica, and a resend
// may reach another. Two files from one replica (its log and its dnstap, as loose files) are one
// point seen twice, though. Names do not say which is which, so the pairing does: two recorders
// of one replica see nearly every transaction the other saw in the time both recorded; two
// replicas see only the few a client sent to both.
import type { Vantage } from '../model/bundle.js'
import type { StringPool } from '../model/dns-table.js'
import { RANK_OF_TYPE } from './roles.js'
import type { TxnStore } from './txn-store.js'

/**
 * The replicas as the bundle names them: each `dns-server` vantage with addresses is a replica,
 * vantages that share an address one replica (as `dnsbundle collect` writes a CoreDNS pod's log
 * and metrics). Null unless there are two replicas and no vantage of unknown place (a loose log
 * could be any replica's: replicaServers tells from the data).
 */
export function namedReplicas(
  vantages: ReadonlyMap<string, Vantage>,
  strings: StringPool,
): Int32Array | null {
  const byAddress = new Map<string, number>()
  const replicaOf = new Map<string, number>()
  let count = 0
  for (const v of vantages.values()) {
    if (v.type === 'unknown') return null
    if (v.type !== 'dns-server' || v.addresses.length === 0) continue
    let id = -1
    for (const a of v.addresses) id = byAddress.get(a) ?? id
    if (id < 0) id = count++
    for (const a of v.addresses) byAddress.set(a, id)
    replicaOf.set(v.id, id)
  }
  if (count < 2) return null
  const servers = new Int32Array(strings.size).fill(-1)
  for (const [id, replica] of replicaOf) {
    const s = strings.find(id)
    if (s >= 0) servers[s] = replica
  }
  return servers
}

/** At least this share of the transactions both could have seen, seen by both: one replica. */
const SAME_REPLICA = 0.5
/**
 * Vantages at the server's rank compared at most: a cluster runs a few CoreDNS pods, and the
 * comparison is k² (a hostile dnstap file can name a vantage per frame). More are left as points
 * on one path.
 */
const MAX_SERVER_VANTAGES = 64

/**
 * Per vantage string number, the replica it records (0, 1, ...) or -1, from the transactions of
 * a first pairing (which took every vantage for a point on one path). Null when that pairing
 * needs no second look: fewer than two replicas, or no transaction seen at two of them.
 */
export function replicaServers(store: TxnStore, rank: (row: number) => number): Int32Array | null {
  const { head, next, firstSent } = store
  const vantage = store.dns.vantage
  const SERVER = RANK_OF_TYPE['dns-server']
  // Dense numbers (0..k-1) for the vantages at the server's rank, by vantage string number.
  const index = new Int32Array(store.dns.strings.size).fill(-1)
  const members: number[] = []
  // The server-rank vantages of the transaction at hand, by dense number; `mark` (per dense
  // number, 1 + the transaction that last listed it) keeps each once however many rows it has.
  const here: number[] = []
  const mark: number[] = []
  const serverVantages = (t: number): number[] => {
    here.length = 0
    const several = store.seenAtSeveral(t)
    for (let q = head[t]; q >= 0; q = several ? next[q] : -1) {
      if (rank(q) !== SERVER) continue
      const v = vantage[q]
      if (index[v] < 0) {
        index[v] = members.length
        members.push(v)
        mark.push(0)
      }
      if (mark[index[v]] === t + 1) continue
      mark[index[v]] = t + 1
      here.push(index[v])
    }
    return here
  }

  // First pass: the server vantages, when each saw transactions (first and last), and whether
  // any transaction was seen at two of them.
  const from: number[] = []
  const to: number[] = []
  let shared = false
  for (let t = 0; t < store.length; t++) {
    const vs = serverVantages(t)
    if (vs.length > 1) shared = true
    for (const i of vs) {
      if (from.length <= i) {
        from.push(Infinity)
        to.push(-Infinity)
      }
      if (firstSent[t] < from[i]) from[i] = firstSent[t]
      if (firstSent[t] > to[i]) to[i] = firstSent[t]
    }
  }
  if (!shared || members.length > MAX_SERVER_VANTAGES) return null

  // Second pass: for each ordered pair (a, b), the transactions of a within b's time, and those
  // seen by both.
  const k = members.length
  const within = new Float64Array(k * k)
  const both = new Float64Array(k * k)
  for (let t = 0; t < store.length; t++) {
    const vs = serverVantages(t)
    if (vs.length === 0) continue
    const at = firstSent[t]
    for (const a of vs)
      for (let b = 0; b < k; b++) {
        if (b === a || !(at >= from[b] && at <= to[b])) continue
        within[a * k + b]++
        if (mark[b] === t + 1) both[a * k + b]++
      }
  }

  // One replica: recorders that saw most of what both could have seen. Replicas are the groups
  // that this joins (union-find).
  const parent = Array.from({ length: k }, (_, i) => i)
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])))
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++) {
      const could = Math.min(within[a * k + b], within[b * k + a])
      if (could > 0 && both[a * k + b] >= SAME_REPLICA * could) parent[root(a)] = root(b)
    }
  const replicaOf = new Map<number, number>()
  for (let i = 0; i < k; i++) if (!replicaOf.has(root(i))) replicaOf.set(root(i), replicaOf.size)
  if (replicaOf.size < 2) return null
  // Seen at two replicas: the first pairing joined their copies as one path's, so pair again.
  let crosses = false
  for (let a = 0; a < k && !crosses; a++)
    for (let b = 0; b < k; b++)
      if (both[a * k + b] > 0 && root(a) !== root(b)) {
        crosses = true
        break
      }
  if (!crosses) return null
  const servers = new Int32Array(index.length).fill(-1)
  for (let i = 0; i < k; i++) servers[members[i]] = replicaOf.get(root(i))!
  return servers
}
