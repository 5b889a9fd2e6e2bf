// Ground truth for one lab run, computed without the analyzer: the report contract's definitions
// (issue 2) applied to what tshark decodes from the pod's capture, joined with the client's own
// log of lookups, and checked against iptables counters, bpftrace, dnstap-ldns and dnsperf.
import { ADDR } from './config.mjs'
import { searchCandidates, expectedGlibcQueries } from './zones.mjs'

const QTYPE = { 1: 'A', 28: 'AAAA', 5: 'CNAME' }
const RCODE = { 0: 'NOERROR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED' }
// glibc re-sends one id for up to ~20 s (two attempts of 5 s, then the single-request and
// single-request-reopen retries), so the window is wider than timeout x attempts. Random 16-bit
// ids make a wrong join across 30 s negligible; truth.json reports whether the window mattered.
export const RETRY_WINDOW_US = 30_000_000

/**
 * Transactions by the contract: key (client address, DNS id, qname, qtype). A query is a
 * retransmit when an earlier copy with the same key, sent within the retry window, is still
 * unanswered; a copy sent after an answer starts a new transaction. A response answers the most
 * recent open transaction with its key.
 */
export function buildTransactions(queries, responses, windowUs = RETRY_WINDOW_US) {
  const events = [
    ...queries.map((p) => ({ p, q: true })),
    ...responses.map((p) => ({ p, q: false })),
  ].sort((a, b) => a.p.t - b.p.t || a.p.frame - b.p.frame)
  const open = new Map()
  const txs = []
  let orphanResponses = 0
  let duplicateResponses = 0
  let windowSensitive = 0
  for (const { p, q } of events) {
    const client = q ? p.src : p.dst
    const key = `${client}|${p.id}|${p.qname}|${p.qtype}`
    const tx = open.get(key)
    if (q) {
      if (tx && !tx.response && p.t - tx.firstSent <= windowUs) {
        tx.copies.push(p)
        continue
      }
      if (tx && !tx.response) windowSensitive++
      const n = {
        client,
        id: p.id,
        qname: p.qname,
        qtype: p.qtype,
        firstSent: p.t,
        copies: [p],
        response: null,
      }
      txs.push(n)
      open.set(key, n)
    } else if (tx && !tx.response) {
      tx.response = p
    } else if (tx) {
      duplicateResponses++
    } else {
      orphanResponses++
    }
  }
  return { txs, orphanResponses, duplicateResponses, windowSensitive }
}

const answered = (tx) => tx.response !== null
const hasAddress = (tx) =>
  answered(tx) &&
  tx.response.rcode === 0 &&
  (tx.qtype === 1 ? tx.response.nA > 0 : tx.qtype === 28 ? tx.response.nAAAA > 0 : false)

/**
 * Assigns each glibc-client transaction to the client-log lookup that sent it: the lookup whose
 * time window holds the first copy and whose search-list candidates include the qname. Exactly
 * one lookup must match, or the run cannot have a truth (the plan keeps names unique when lookups
 * overlap).
 */
export function attributeLookups(log, txs, ndots) {
  const lookups = log.map((l) => ({
    ...l,
    candidates: new Set(searchCandidates(l.name, ndots)),
    txs: [],
  }))
  const problems = []
  for (const tx of txs) {
    const hits = lookups.filter(
      (l) => tx.firstSent >= l.start && tx.firstSent <= l.end && l.candidates.has(tx.qname),
    )
    if (hits.length !== 1) {
      problems.push(
        `${tx.qname} ${QTYPE[tx.qtype] ?? tx.qtype} id ${tx.id} at ${tx.firstSent}: ${hits.length} lookups match`,
      )
      continue
    }
    hits[0].txs.push(tx)
    tx.lookup = hits[0].i
  }
  return { lookups, problems }
}

/**
 * Outcome of a lookup in the contract's words, from the client's result and the wire. A failed
 * lookup with any unanswered transaction is a timeout, even when glibc reports EAI_NONAME (after a
 * timeout res_search stops the search list and tries the name as is, whose NXDOMAIN it returns);
 * then SERVFAIL; then the rcode of the last candidate asked.
 */
function glibcOutcome(l) {
  if (l.ok) return 'address'
  if (!l.txs.length || l.txs.some((t) => !answered(t))) return 'timeout'
  if (l.txs.some((t) => t.response.rcode === 2)) return 'servfail'
  const last = [...l.txs].sort((a, b) => a.firstSent - b.firstSent).at(-1)
  if (last.response.rcode === 3) return 'nxdomain'
  if (last.response.rcode === 0) return 'nodata'
  return 'other'
}

function perLookup(l) {
  const addr = l.txs.filter(hasAddress)
  const answeredBy = l.ok && addr.length ? addr[0].qname : null
  const wasted = answeredBy ? l.txs.filter((t) => t.qname !== answeredBy).length : 0
  return {
    i: l.i,
    client: ADDR.pod,
    name: l.name,
    start: l.start,
    end: l.end,
    durationMs: (l.end - l.start) / 1000,
    code: l.code,
    addresses: l.addresses,
    outcome: glibcOutcome(l),
    transactions: l.txs.length,
    copies: l.txs.reduce((n, t) => n + t.copies.length, 0),
    answeredBy,
    wasted,
  }
}

/** A dnsperf query is its own lookup: one FQDN, one type, no search list, no retries. */
function dnsperfLookup(tx) {
  const outcome = hasAddress(tx)
    ? 'address'
    : !answered(tx)
      ? 'timeout'
      : ({ 3: 'nxdomain', 2: 'servfail', 0: 'nodata' }[tx.response.rcode] ?? 'other')
  return { outcome }
}

export function txSummary(tx) {
  return {
    client: tx.client,
    id: tx.id,
    qname: tx.qname,
    qtype: QTYPE[tx.qtype] ?? String(tx.qtype),
    firstSent: tx.firstSent,
    copies: tx.copies.length,
    ports: [...new Set(tx.copies.map((c) => c.sport))],
    answered: answered(tx),
    rcode: tx.response ? (RCODE[tx.response.rcode] ?? String(tx.response.rcode)) : null,
  }
}

/**
 * The summary fields of the report contract, from the pod capture and the client log.
 * `podDns` is tsharkDns(pod.pcap); `log` is the client's lookups.
 */
export function computeClientTruth({ podDns, log, ndots, perfAddr = ADDR.podPerf, checkModel }) {
  const clients = new Set([ADDR.pod, perfAddr])
  const queries = podDns.filter((p) => !p.qr && clients.has(p.src) && p.dport === 53)
  const responses = podDns.filter((p) => p.qr && clients.has(p.dst) && p.sport === 53)
  const { txs, orphanResponses, duplicateResponses, windowSensitive } = buildTransactions(
    queries,
    responses,
  )
  const glibcTxs = txs.filter((t) => t.client === ADDR.pod)
  const perfTxs = txs.filter((t) => t.client === perfAddr)
  const { lookups, problems } = attributeLookups(log, glibcTxs, ndots)
  const lookupTruth = lookups.map(perLookup)
  const perfOutcomes = perfTxs.map(dnsperfLookup)

  const checks = []
  checks.push({
    name: 'every glibc query belongs to exactly one logged lookup',
    ok: problems.length === 0,
    detail: problems.slice(0, 10),
  })
  checks.push({
    name: 'every response belongs to a transaction',
    ok: orphanResponses === 0,
    detail: orphanResponses,
  })
  checks.push({
    name: 'late duplicate responses (info: a retransmit answered twice)',
    ok: true,
    detail: duplicateResponses,
  })
  const retransmitsByWindow = Object.fromEntries(
    [5, 10, 20, 30, 3600].map((s) => [
      `${s}s`,
      queries.length - buildTransactions(queries, responses, s * 1e6).txs.length,
    ]),
  )
  checks.push({
    name: 'no transaction split only by the retry window',
    ok: windowSensitive === 0,
    detail: { windowSensitive, retransmitsByWindow },
  })
  checks.push({
    name: 'client result agrees with the wire (address iff some transaction returned one)',
    ok: lookupTruth.every((l) => (l.outcome === 'address') === (l.answeredBy !== null)),
    detail: lookupTruth
      .filter((l) => (l.outcome === 'address') !== (l.answeredBy !== null))
      .map((l) => l.i),
  })
  if (checkModel) {
    // Nothing is lost in this scenario: glibc must ask exactly what the zone data predicts.
    const bad = []
    for (const l of lookups) {
      const exp = expectedGlibcQueries(l.name, ndots)
      const got = l.txs
        .map((t) => `${t.qname}/${QTYPE[t.qtype]}`)
        .sort()
        .join(',')
      const want = exp.queries
        .map((q) => `${q.qname}/${q.qtype}`)
        .sort()
        .join(',')
      if (got !== want || l.ok !== (exp.answeredBy !== null)) bad.push({ name: l.name, got, want })
    }
    checks.push({
      name: 'glibc asked what the zone data predicts (search list x A/AAAA)',
      ok: bad.length === 0,
      detail: bad.slice(0, 5),
    })
  }

  const aaaa = txs.filter((t) => t.qtype === 28)
  const summary = {
    clientQueries: queries.length,
    transactions: txs.length,
    retransmits: queries.length - txs.length,
    responses: responses.length,
    unanswered: txs.filter((t) => !answered(t)).length,
    lookups: lookupTruth.length + perfTxs.length,
    failedLookups:
      lookupTruth.filter((l) => l.outcome !== 'address').length +
      perfOutcomes.filter((o) => o.outcome !== 'address').length,
    searchExpansionQueries: lookupTruth.reduce((n, l) => n + l.wasted, 0),
    aaaaQueries: aaaa.length,
    aaaaNoData: aaaa.filter((t) => answered(t) && t.response.rcode === 0 && t.response.nAAAA === 0)
      .length,
  }
  const byClient = {
    [ADDR.pod]: {
      who: 'glibc getaddrinfo client (client.mjs)',
      clientQueries: glibcTxs.reduce((n, t) => n + t.copies.length, 0),
      transactions: glibcTxs.length,
      unanswered: glibcTxs.filter((t) => !answered(t)).length,
      lookups: lookupTruth.length,
      failedLookups: lookupTruth.filter((l) => l.outcome !== 'address').length,
    },
  }
  if (perfTxs.length)
    byClient[perfAddr] = {
      who: 'dnsperf',
      clientQueries: perfTxs.reduce((n, t) => n + t.copies.length, 0),
      transactions: perfTxs.length,
      unanswered: perfTxs.filter((t) => !answered(t)).length,
      lookups: perfTxs.length,
      failedLookups: perfOutcomes.filter((o) => o.outcome !== 'address').length,
    }
  return {
    summary,
    byClient,
    lookups: lookupTruth,
    txs,
    queries,
    responses,
    checks,
    retransmitsByWindow,
  }
}

/**
 * Client query copies that reached the node (seen pre-DNAT, to the Service IP) but never left it
 * towards the endpoint (post-DNAT): dropped on the node. Matched by (client, port, id, qname,
 * qtype) in time order; the DNAT keeps the source port here (one client, no port clash).
 */
export function nodeDrops(nodeDns, clients) {
  const pre = nodeDns.filter((p) => !p.qr && clients.has(p.src) && p.dst === ADDR.service)
  const endpoints = new Set([ADDR.dns, ADDR.dns2])
  const post = nodeDns.filter((p) => !p.qr && clients.has(p.src) && endpoints.has(p.dst))
  const waiting = new Map()
  for (const p of post) {
    const k = `${p.src}|${p.sport}|${p.id}|${p.qname}|${p.qtype}`
    if (!waiting.has(k)) waiting.set(k, [])
    waiting.get(k).push(p)
  }
  const dropped = []
  for (const p of pre) {
    const k = `${p.src}|${p.sport}|${p.id}|${p.qname}|${p.qtype}`
    const list = waiting.get(k)
    // Forwarding takes microseconds: a post-DNAT copy seconds later is a different send.
    const i = list ? list.findIndex((x) => x.t >= p.t && x.t - p.t < 100_000) : -1
    if (i >= 0) list.splice(i, 1)
    else dropped.push(p)
  }
  return { pre: pre.length, post: post.length, dropped }
}

/**
 * Which endpoint handled each pod transaction (the Service has two in the replica scenario): the
 * destination after DNAT in the node's capture of the copy that was answered (the one sent from
 * the port the answer came back to), else of its last copy; copies are matched by (client, port,
 * id, qname, qtype) within 100 ms of the pod's. glibc reopens its socket after a timeout, so a
 * resend can reach the other endpoint. Per endpoint: transactions, and those that failed
 * (unanswered at the pod, SERVFAIL or REFUSED); and the flows (client sockets) each got.
 */
export function endpointTruth(txs, nodeDns) {
  const endpoints = [ADDR.dns, ADDR.dns2]
  const post = nodeDns.filter((p) => !p.qr && endpoints.includes(p.dst))
  const byKey = new Map()
  for (const p of post) {
    const k = `${p.src}|${p.sport}|${p.id}|${p.qname}|${p.qtype}`
    if (!byKey.has(k)) byKey.set(k, [])
    byKey.get(k).push(p)
  }
  const byEndpoint = Object.fromEntries(
    endpoints.map((e) => [e, { transactions: 0, failed: 0, unanswered: 0, servfail: 0 }]),
  )
  let unplaced = 0
  let acrossEndpoints = 0
  for (const tx of txs) {
    const dsts = tx.copies.map((c) => {
      const k = `${c.src}|${c.sport}|${c.id}|${c.qname}|${c.qtype}`
      return (byKey.get(k) ?? []).find((p) => p.t >= c.t && p.t - c.t < 100_000)?.dst
    })
    if (new Set(dsts.filter(Boolean)).size > 1) acrossEndpoints++
    const answeredCopy = tx.response
      ? tx.copies.findLastIndex((c) => c.sport === tx.response.dport)
      : -1
    const dst = dsts[answeredCopy >= 0 ? answeredCopy : dsts.length - 1]
    if (!dst) {
      unplaced++
      continue
    }
    const e = byEndpoint[dst]
    e.transactions++
    const rcode = tx.response?.rcode
    if (!answered(tx)) e.unanswered++
    else if (rcode === 2) e.servfail++
    if (!answered(tx) || rcode === 2 || rcode === 5) e.failed++
  }
  const flows = Object.fromEntries(
    endpoints.map((e) => [
      e,
      new Set(post.filter((p) => p.dst === e).map((p) => `${p.src}|${p.sport}`)).size,
    ]),
  )
  return { byEndpoint, unplaced, acrossEndpoints, flows }
}

export { QTYPE, RCODE }
