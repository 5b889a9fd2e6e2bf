// Two replicas of a DNS server, as a cluster's two CoreDNS pods behind one Service: two real
// unbound instances on their own loopback addresses, each writing dnstap through fstrm_capture.
// A client that resends with the same id from a new port, as NodeLocal DNSCache and CoreDNS's
// forward plugin do, sometimes reaches the other replica. The truth is the client's own log of
// what it sent and when it was answered; the analyzer sees only the two dnstap files (what
// `dnsbundle collect` takes from a cluster) and must count the same sends and transactions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSocket } from 'node:dgram'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dnsPacket from 'dns-packet'
import { analyzeBundleFull, type Analysis } from '../../core/analyze.js'
import { toText } from '../../core/report/to-text.js'
import {
  haveLabTools,
  startUnboundDnstap,
  type RunningUnbound,
} from '../fixtures/dnstap/unbound-lab.js'

const PORT = 5393
const REPLICAS = {
  a: { address: '127.0.0.2', identity: 'coredns-a' },
  b: { address: '127.0.0.3', identity: 'coredns-b' },
} as const
type Replica = keyof typeof REPLICAS
/** Replica a forwards slow.test. here, to a socket that reads and never answers. */
const SILENT_UPSTREAM = { address: '127.0.0.1', port: 5398 }

const missing = haveLabTools()
if (missing.length)
  throw new Error(
    `the replicas live test needs ${missing.join(', ')} (apt-get install unbound fstrm-bin bind9-dnsutils dnstap-ldns)`,
  )

/** One send of the client: to which replica, the question, and whether an answer came back. */
interface Send {
  replica: Replica
  id: number
  name: string
  type: 'A' | 'AAAA' | 'TXT' | 'MX'
  /** rcode of the answer the client read before its next send of this question, or null. */
  answered: number | null
}

/** Sends one query from a new socket (a new source port) and waits up to `ms` for its answer. */
function send(s: Omit<Send, 'answered'>, ms: number, log: Send[]): Promise<void> {
  const entry: Send = { ...s, answered: null }
  log.push(entry)
  const sock = createSocket('udp4')
  const msg = dnsPacket.encode({
    type: 'query',
    id: s.id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: s.type, name: s.name, class: 'IN' }],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sock.close(), resolve()), ms)
    sock.on('error', (e) => (clearTimeout(timer), sock.close(), reject(e)))
    sock.on('message', (m) => {
      const r = dnsPacket.decode(m)
      if (r.id !== s.id) return
      entry.answered = (r.flags ?? 0) & 0xf
      clearTimeout(timer)
      sock.close()
      resolve()
    })
    sock.send(msg, PORT, REPLICAS[s.replica].address)
  })
}

/**
 * The truth from the client's log, by the report's definitions: a send of a question (id, name,
 * type) joins the transaction of its last send while the client has no answer to it; after an
 * answer it is asked again, a new transaction.
 */
function truthOf(log: Send[]) {
  const open = new Map<string, boolean>()
  let transactions = 0
  for (const s of log) {
    const key = `${s.id} ${s.name} ${s.type}`
    if (open.get(key) !== true) transactions++
    open.set(key, s.answered === null)
  }
  return { clientQueries: log.length, transactions, retransmits: log.length - transactions }
}

describe('two replicas of the DNS server (two unbound, dnstap each) and a client resending with one id', () => {
  let dir = ''
  const servers: RunningUnbound[] = []
  const files: Record<Replica, string> = { a: '', b: '' }
  const log: Send[] = []
  let analysis: Analysis
  let named: Analysis
  // An upstream that swallows queries: a port that answers nothing would bounce them at once
  // (ICMP), and unbound would SERVFAIL before the client resends.
  const silent = createSocket('udp4')

  beforeAll(async () => {
    await new Promise<void>((resolve) =>
      silent.bind(SILENT_UPSTREAM.port, SILENT_UPSTREAM.address, resolve),
    )
    dir = mkdtempSync(join(tmpdir(), 'dnsbundle-replicas-'))
    for (const r of ['a', 'b'] as const) mkdirSync(join(dir, r))
    const started = {
      a: await startUnboundDnstap({
        dir: join(dir, 'a'),
        ...REPLICAS.a,
        port: PORT,
        // test. is one of unbound's default local zones (RFC 6761: NXDOMAIN): let it forward.
        server: ['local-zone: "test." nodefault'],
        clauses: [
          'forward-zone:',
          '  name: "slow.test."',
          `  forward-addr: ${SILENT_UPSTREAM.address}@${SILENT_UPSTREAM.port}`,
        ],
      }),
      b: await startUnboundDnstap({
        dir: join(dir, 'b'),
        ...REPLICAS.b,
        port: PORT,
        server: [
          'local-zone: "slow.test." static',
          'local-data: "r.slow.test. 300 IN A 192.0.2.9"',
        ],
      }),
    }
    servers.push(started.a, started.b)
    // Everyday traffic, each replica its share: 40 questions, each its own id.
    const names = [
      ['a.lab.test', 'A'],
      ['b.lab.test', 'AAAA'],
      ['c.lab.test', 'A'],
      ['txt.lab.test', 'TXT'],
      ['mx.lab.test', 'MX'],
    ] as const
    for (let i = 0; i < 40; i++) {
      const [name, type] = names[i % names.length]
      await send({ replica: i % 2 ? 'b' : 'a', id: 1000 + i, name, type }, 3000, log)
    }
    // Answered by a, then asked again with the same id and it reaches b: asked twice.
    await send({ replica: 'a', id: 7, name: 'c.lab.test', type: 'A' }, 3000, log)
    await send({ replica: 'b', id: 7, name: 'c.lab.test', type: 'A' }, 3000, log)
    // The same at one replica, for comparison.
    await send({ replica: 'a', id: 8, name: 'a.lab.test', type: 'AAAA' }, 3000, log)
    await send({ replica: 'a', id: 8, name: 'a.lab.test', type: 'AAAA' }, 3000, log)
    // a does not answer in time (its upstream is dead); the resend reaches b, which answers.
    await send({ replica: 'a', id: 9, name: 'r.slow.test', type: 'A' }, 400, log)
    await send({ replica: 'b', id: 9, name: 'r.slow.test', type: 'A' }, 3000, log)
    // One replica sick: a's upstream swallows slow.test. while b answers it (NXDOMAIN). The
    // client gives up on each after 300 ms.
    for (let i = 0; i < 16; i++)
      await send(
        { replica: i % 2 ? 'b' : 'a', id: 3000 + i, name: `h-${i}.slow.test`, type: 'A' },
        300,
        log,
      )
    files.a = await started.a.stop()
    files.b = await started.b.stop()
    const bundleFiles = (['a', 'b'] as const).map((r) => ({
      path: `${r}.dnstap`,
      bytes: new Uint8Array(readFileSync(files[r])),
    }))
    // Loose files: the replicas are told apart by what each saw.
    analysis = analyzeBundleFull({ files: bundleFiles, skipped: [] }, { detail: true })
    // As `collect` names them: a dns-server vantage per pod, with its address.
    named = analyzeBundleFull(
      {
        files: bundleFiles,
        skipped: [],
        manifest: {
          schema: 'dnsbundle.manifest/v1',
          files: (['a', 'b'] as const).map((r) => ({
            path: `${r}.dnstap`,
            kind: 'dnstap',
            vantage: {
              id: `dns/coredns-${r}`,
              type: 'dns-server',
              name: `coredns-${r}`,
              addresses: [REPLICAS[r].address],
            },
          })),
        },
      },
      { detail: true },
    )
  }, 90_000)

  afterAll(async () => {
    for (const s of servers) await s.kill()
    silent.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('the client saw what the case needs: a answered nothing of slow.test., b everything', () => {
    const unanswered = log.filter((s) => s.answered === null)
    expect(unanswered.map((s) => [s.replica, s.name])).toEqual([
      ['a', 'r.slow.test'],
      ...Array.from({ length: 8 }, (_, i) => ['a', `h-${2 * i}.slow.test`]),
    ])
    // NXDOMAIN (3) from b's static zone for the h-N names; NOERROR for the rest.
    expect(new Set(log.filter((s) => s.answered !== null).map((s) => s.answered))).toEqual(
      new Set([0, 3]),
    )
  })

  it('each replica is a vantage of its own, named by its dnstap identity', () => {
    expect(analysis.report.vantages.map((v) => [v.id, v.type]).sort()).toEqual([
      ['coredns-a', 'dns-server'],
      ['coredns-b', 'dns-server'],
    ])
  })

  it('counts the sends, transactions and retransmits of the client log', () => {
    const truth = truthOf(log)
    expect(truth).toEqual({ clientQueries: 62, transactions: 61, retransmits: 1 })
    const s = analysis.report.summary
    expect({
      clientQueries: s.clientQueries,
      transactions: s.transactions,
      retransmits: s.retransmits,
    }).toEqual(truth)
  })

  it('counts the same when the manifest names the replicas', () => {
    const pick = (a: Analysis) => {
      const { clientQueries, transactions, retransmits, responses, unanswered } = a.report.summary
      return { clientQueries, transactions, retransmits, responses, unanswered }
    }
    expect(named.report.vantages.map((v) => v.id).sort()).toEqual([
      'dns/coredns-a',
      'dns/coredns-b',
    ])
    expect(pick(named)).toEqual(pick(analysis))
    expect(named.report.transactions!.find((t) => t.id === 9)!.copies).toBe(2)
  })

  it('the resend that reached the other replica is a retransmit of one transaction, answered by b', () => {
    const txns = analysis.report.transactions!.filter((t) => t.id === 9)
    expect(txns).toHaveLength(1)
    const [t] = txns
    expect([t.copies, t.rcode, t.lastSeen]).toEqual([2, 'NOERROR', 'coredns-b'])
    const hops = t.hops.filter((h) => h.what !== 'response' || h.vantage === 'coredns-b')
    expect(hops.map((h) => [h.vantage, h.what])).toEqual([
      ['coredns-a', 'query'],
      ['coredns-b', 'retransmit'],
      ['coredns-b', 'response'],
    ])
  })

  it('a question answered and asked again counts the same at two replicas as at one', () => {
    const at = (id: number) => analysis.report.transactions!.filter((t) => t.id === id)
    expect(at(7).map((t) => [t.copies, t.lastSeen])).toEqual([
      [1, 'coredns-a'],
      [1, 'coredns-b'],
    ])
    expect(at(8).map((t) => [t.copies, t.lastSeen])).toEqual([
      [1, 'coredns-a'],
      [1, 'coredns-a'],
    ])
  })

  it('finds replica a failing the queries b answers (replica-unhealthy), naming a', () => {
    for (const a of [analysis, named]) {
      const f = a.report.findings.find((x) => x.id === 'replica-unhealthy')!
      expect(f).toBeDefined()
      const server = a === named ? 'dns/coredns-a' : 'coredns-a'
      expect(f.data.server).toBe(server)
      expect(f.data.kind).toBe('failing')
      // a: 20 everyday questions, the first ask of 7, both of 8, and 8 of slow.test.; the
      // resend of 9 is b's (b answered it).
      expect(f.data.stats).toMatchObject({ transactions: 31, failed: 8 })
      expect(f.data.others).toMatchObject({ transactions: 30, failed: 0 })
      expect(f.evidence.every((e) => e.input === `a.dnstap`)).toBe(true)
    }
  })

  it('the summary lists both replicas side by side, and the text report shows them', () => {
    expect(
      named.report.summary.servers?.map((x) => [x.server, x.address, x.transactions, x.failed]),
    ).toEqual([
      ['dns/coredns-a', '127.0.0.2', 31, 8],
      ['dns/coredns-b', '127.0.0.3', 30, 0],
    ])
    expect(toText(named.report)).toMatch(
      /DNS servers +dns\/coredns-a \(127\.0\.0\.2\): 31 queries, 8 failed \(25\.8%\), median [0-9.]+ ms; dns\/coredns-b \(127\.0\.0\.3\): 30 queries, 0 failed \(0%\)/,
    )
  })
})
